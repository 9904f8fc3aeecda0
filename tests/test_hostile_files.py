"""Hostile catalogue files: gzip bombs, endless rows, absurd headers and giant fields are stopped early."""

from __future__ import annotations

import csv
import gzip

import pytest

from index_builder.build import describe_catalogue
from index_builder.catalogue import CatalogueLimits, load_catalogue
from index_builder.errors import CatalogueError
from index_builder.settings import Settings
from tests.helpers import SPOTIFY_HEADER, SPOTIFY_ROWS, spotify_catalogue, test_settings, write_csv

ROW = ",".join(SPOTIFY_ROWS[0]) + "\n"


def _limits(**changes: int) -> CatalogueLimits:
    return CatalogueLimits.from_settings(Settings(**changes))  # type: ignore[arg-type]


def _bomb(tmp_path, rows: int = 200_000):
    """A .csv.gz of ``rows`` identical rows (about 19 MB of text in a few dozen KB) whose tail is cut off.

    A loader that reads to the end fails on the damaged tail; one that stops at a limit never gets there.
    """
    data = gzip.compress((",".join(SPOTIFY_HEADER) + "\n" + ROW * rows).encode())
    path = tmp_path / "bomb.csv.gz"
    path.write_bytes(data[:-64])
    return path


def test_gzip_bomb_stops_at_the_row_limit_while_streaming(tmp_path):
    with pytest.raises(CatalogueError, match=r"^bomb\.csv\.gz has more than 1,000 rows; at most 1,000 are read\.$"):
        load_catalogue(_bomb(tmp_path), limits=_limits(max_catalogue_rows=1_000))


def test_gzip_bomb_stops_at_the_decompressed_size_limit(tmp_path):
    with pytest.raises(CatalogueError, match=r"more than 1 MB of text once decompressed"):
        load_catalogue(_bomb(tmp_path), limits=_limits(max_catalogue_bytes=1_000_000))


def test_limits_come_from_settings_and_the_environment(tmp_path):
    assert Settings.from_env({"MOODRING_MAX_CATALOGUE_ROWS": "7"}).max_catalogue_rows == 7
    settings = test_settings(tmp_path, spotify_catalogue(tmp_path), max_catalogue_rows=5)  # the file has 6 rows
    with pytest.raises(CatalogueError, match="more than 5 rows"):
        describe_catalogue(settings)  # the build reads the catalogue within its settings' limits
    assert len(describe_catalogue(settings.with_changes(max_catalogue_rows=6)).songs) == 4


def test_absurd_column_count_is_refused_from_the_header_alone(tmp_path):
    header = SPOTIFY_HEADER + [f"extra{i}" for i in range(5_000)]
    path = tmp_path / "wide.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerow(["x"] * (len(header) + 3))  # a row no parser accepts: the header alone must decide
    with pytest.raises(CatalogueError, match=r"^wide\.csv has 5,016 columns; a catalogue may have at most 1,000\.$"):
        load_catalogue(path)


def test_long_text_fields_are_cut_with_a_note(tmp_path):
    rows = [list(row) for row in SPOTIFY_ROWS[:3]]
    rows[0][1] = "Gym Rush " + "A" * 2_000_000
    rows[1][2] = "B" * 5_000
    catalogue = load_catalogue(write_csv(tmp_path / "long.csv", SPOTIFY_HEADER, rows))
    songs = catalogue.songs
    assert songs["title"].str.len().max() == 1_000 and songs["artist"].str.len().max() == 1_000
    assert songs["title"].iat[0].startswith("Gym Rush AAA")
    assert (
        "cut 2 field(s) longer than 1,000 characters to their first 1,000 (1 title, 1 artist); the text beyond that "
        "was left out" in catalogue.report.notes
    )
    shorter = load_catalogue(tmp_path / "long.csv", limits=_limits(max_field_chars=8))
    assert shorter.songs["title"].iat[0] == "Gym Rush"


def test_a_giant_non_numeric_value_is_named_briefly(tmp_path):
    rows = [list(row) for row in SPOTIFY_ROWS[:3]]
    rows[1][7] = "x" * 2_000_000  # energy
    with pytest.raises(CatalogueError, match="must be numeric") as refused:
        load_catalogue(write_csv(tmp_path / "giant.csv", SPOTIFY_HEADER, rows))
    assert len(str(refused.value)) < 200


def test_an_uploaded_gzip_bomb_stops_while_streaming(bundled_engine, tmp_path):
    from assistant.chat import ChatSession, open_catalogue

    bomb = tmp_path / "bomb.csv.gz"
    row = "t,a,50,2019,pop,0.5,0.5,-5,0.05,0.1,0.0,0.1,0.5,120,200000\n"
    with gzip.open(bomb, "wt", encoding="utf-8") as handle:
        handle.write("track_name,track_artist,track_popularity,year,playlist_genre,danceability,energy,loudness,")
        handle.write("speechiness,acousticness,instrumentalness,liveness,valence,tempo,duration_ms\n")
        for _ in range(20_000):  # 20,000 rows: over twice the upload's 5,000 songs, refused before parsing all
            handle.write(row)
    message, session = open_catalogue(bomb, [], ChatSession(), bundled_engine.settings, bundled_engine.encoder)
    assert message.startswith("I could not use bomb.csv.gz") and session.engine is None
    assert "rows" in message
