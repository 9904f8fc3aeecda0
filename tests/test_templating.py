"""Song descriptions: rendered from prompts/, lines without data dropped, unknown variables refused."""

from __future__ import annotations

import pandas as pd
import pytest

from index_builder.buckets import fit_buckets, load_bucket_spec
from index_builder.catalogue import load_catalogue
from index_builder.errors import ConfigError
from index_builder.settings import BUNDLED_CATALOGUE, Settings
from index_builder.templating import SongTemplate, known_variables, template_values

SETTINGS = Settings()


@pytest.fixture(scope="module")
def parts():
    spec = load_bucket_spec(SETTINGS.feature_words_path)
    songs = load_catalogue(BUNDLED_CATALOGUE).songs
    template = SongTemplate.from_file(SETTINGS.template_path, known_variables(set(spec)))
    return spec, songs, fit_buckets(spec, songs), template


def test_bundled_song_description(parts):
    _, songs, scheme, template = parts
    song = songs[songs["title"] == "TiK ToK"].iloc[0].to_dict()
    text = template.render(template_values(song, scheme))
    assert text.startswith("TiK ToK by Kesha. Genre: dance pop. Released in 2010.")
    for words in ("Happy mood.", "Very high energy.", "Fast tempo.", "Very danceable.", "Some acoustic sound."):
        assert words in text
    assert "{" not in text and "instrumental" not in text  # the bundled catalogue has no instrumentalness


def test_every_template_variable_exists_in_a_full_song_record(parts):
    spec, _, _, template = parts
    full_song = {"title": "T", "artist": "A", "genre": "g", "year": 2001, **{f: 0.5 for f in spec}}
    full_song.update(tempo=120, loudness=-5, duration_s=200, popularity=50)
    scheme = fit_buckets(spec, pd.DataFrame([full_song]))
    values = template_values(full_song, scheme)
    assert template.variables <= set(values), template.variables - set(values)


def test_lines_with_missing_values_are_dropped(parts):
    _, songs, scheme, template = parts
    placeholder = songs[songs["title"] == "Million Years Ago"].iloc[0].to_dict()
    text = template.render(template_values(placeholder, scheme))
    assert text == "Million Years Ago by Adele. Genre: british soul. Released in 2016."


def test_unknown_template_variable_is_refused(tmp_path):
    path = tmp_path / "song_description.txt"
    path.write_text("{title} by {artist}. {sparkle}.\n")
    with pytest.raises(ConfigError, match="sparkle"):
        SongTemplate.from_file(path, known_variables({"energy"}))


def test_template_edit_changes_fingerprint(tmp_path, parts):
    spec, *_ = parts
    path = tmp_path / "t.txt"
    path.write_text("{title} by {artist}.\n")
    first = SongTemplate.from_file(path, known_variables(set(spec))).fingerprint()
    path.write_text("{title} by {artist}!\n")
    assert SongTemplate.from_file(path, known_variables(set(spec))).fingerprint() != first
