"""Catalogue loading: the bundled file's repairs, the Spotify schema, and bad files with clear errors."""

from __future__ import annotations

import math

import pytest

from index_builder.catalogue import load_catalogue
from index_builder.errors import CatalogueError
from tests.helpers import SPOTIFY_HEADER, SPOTIFY_ROWS, spotify_catalogue, write_csv


def test_bundled_catalogue_is_repaired_and_merged(bundled_csv):
    catalogue = load_catalogue(bundled_csv)
    songs = catalogue.songs
    assert catalogue.report.rows_read == 603
    assert len(songs) == 603 - 16  # 16 songs were listed under two years
    titles = set(songs["title"])
    assert {"Señorita", "Just Can’t Get Enough", "Bon appétit", "Reggaetón Lento (Remix)"} <= titles
    assert "We Are Young (feat. Janelle Monáe)" in titles
    assert not any("抰" in t or "駉" in t for t in titles)
    assert songs["energy"].max() <= 1.0 and songs["energy"].min() >= 0.0


def test_song_listed_twice_keeps_both_years(bundled_csv):
    songs = load_catalogue(bundled_csv).songs
    row = songs[songs["title"] == "Just the Way You Are"]
    assert len(row) == 1
    assert list(row["chart_years"].iloc[0]) == [2010, 2011]
    assert row["year"].iloc[0] == 2010


def test_placeholder_row_has_no_features(bundled_csv):
    songs = load_catalogue(bundled_csv).songs
    row = songs[(songs["title"] == "Million Years Ago") & (songs["artist"] == "Adele")].iloc[0]
    assert math.isnan(row["energy"]) and math.isnan(row["loudness"]) and math.isnan(row["tempo"])
    assert row["year"] == 2016  # the song itself is kept


@pytest.mark.parametrize("name", ["spotify.csv", "spotify.csv.gz"])
def test_spotify_schema_is_detected_and_deduplicated(tmp_path, name):
    catalogue = load_catalogue(spotify_catalogue(tmp_path, name))
    songs = catalogue.songs.set_index("title")
    assert len(songs) == 4  # id1 twice; "Quiet Rain"/"quiet rain" by Lena Soft twice
    assert songs.loc["Gym Rush", "duration_s"] == pytest.approx(180.0)
    assert songs.loc["Gym Rush", "energy"] == pytest.approx(0.95)
    assert songs.loc["Quiet Rain", "year"] == 2012  # YYYY-MM; merged with the 2013 copy, earliest kept
    assert list(songs.loc["Quiet Rain", "chart_years"]) == [2012, 2013]
    assert songs.loc["Block Party", "year"] == 2016  # YYYY
    assert songs.loc["Sunny Drive", "artist"] == "The Roadsters, DJ Wheel"
    assert songs.loc["Gym Rush", "song_id"] == "id1"


def test_missing_optional_columns_are_reported_not_fatal(tmp_path):
    header = ["name", "artists", "energy", "valence", "tempo"]
    path = write_csv(tmp_path / "few.csv", header, [["A", "B", "0.5", "0.2", "100"]])
    catalogue = load_catalogue(path)
    assert len(catalogue) == 1
    assert any("acousticness" in note for note in catalogue.report.notes)
    assert math.isnan(catalogue.songs["acousticness"].iloc[0])


def test_missing_required_columns_are_named(tmp_path):
    path = write_csv(tmp_path / "bad.csv", ["song", "energy", "valence", "tempo"], [["A", "0.5", "0.5", "100"]])
    with pytest.raises(CatalogueError, match="artist"):
        load_catalogue(path)


def test_too_few_audio_features_are_named(tmp_path):
    path = write_csv(tmp_path / "bad.csv", ["title", "artist", "energy"], [["A", "B", "0.5"]])
    with pytest.raises(CatalogueError, match=r"found 1 audio feature column\(s\) \(energy\)"):
        load_catalogue(path)


def test_empty_file_and_header_only(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(CatalogueError, match="empty"):
        load_catalogue(empty)
    header_only = write_csv(tmp_path / "header.csv", SPOTIFY_HEADER, [])
    with pytest.raises(CatalogueError, match="no songs"):
        load_catalogue(header_only)


def test_non_numeric_feature_names_column_and_line(tmp_path):
    rows = [list(SPOTIFY_ROWS[0]), list(SPOTIFY_ROWS[1])]
    rows[1][SPOTIFY_HEADER.index("energy")] = "loud-ish"
    path = write_csv(tmp_path / "text.csv", SPOTIFY_HEADER, rows)
    with pytest.raises(CatalogueError, match=r"'energy'.*line\(s\) 3.*'loud-ish'"):
        load_catalogue(path)


def test_missing_file(tmp_path):
    with pytest.raises(CatalogueError, match="not found"):
        load_catalogue(tmp_path / "nope.csv")


def test_explicit_column_map(tmp_path):
    header = ["Song", "Performer", "Vibe", "Power", "Speed"]
    path = write_csv(tmp_path / "custom.csv", header, [["X", "Y", "0.9", "0.8", "128"]])
    with pytest.raises(CatalogueError):
        load_catalogue(path)
    mapping = {"title": "Song", "artist": "Performer", "valence": "Vibe", "energy": "Power", "tempo": "Speed"}
    songs = load_catalogue(path, mapping).songs
    assert songs.loc[0, "title"] == "X" and songs.loc[0, "tempo"] == 128.0 and songs.loc[0, "valence"] == 0.9


def test_column_map_pointing_at_absent_column(tmp_path):
    path = spotify_catalogue(tmp_path)
    with pytest.raises(CatalogueError, match="'Nope'"):
        load_catalogue(path, {"title": "Nope"})


def test_out_of_range_values_become_missing(tmp_path):
    rows = [list(SPOTIFY_ROWS[0])]
    rows[0][SPOTIFY_HEADER.index("loudness")] = "40"
    path = write_csv(tmp_path / "loud.csv", SPOTIFY_HEADER, rows)
    catalogue = load_catalogue(path)
    assert math.isnan(catalogue.songs["loudness"].iloc[0])
    assert any("loudness" in note for note in catalogue.report.notes)


def test_binary_file_is_named_as_such(tmp_path):
    path = tmp_path / "song.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(CatalogueError, match="binary"):
        load_catalogue(path)


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig"])
def test_other_text_encodings_load(tmp_path, encoding):
    path = tmp_path / f"{encoding}.csv"
    text = "title,artist,energy,valence,tempo\nSeñorita,Beyoncé,0.5,0.4,100\n"
    path.write_bytes(text.encode(encoding))
    songs = load_catalogue(path).songs
    assert list(songs.columns[:3]) == ["song_id", "title", "artist"]
    assert songs.loc[0, "title"] == "Señorita" and songs.loc[0, "artist"] == "Beyoncé"


def test_repeated_header_uses_first_copy_and_says_so(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("title,artist,energy,energy,valence,tempo\nA,B,0.9,0.1,0.5,100\n")
    catalogue = load_catalogue(path)
    assert catalogue.songs.loc[0, "energy"] == 0.9
    assert any("repeated column header(s) energy" in note for note in catalogue.report.notes)


def test_nan_inf_and_negative_values_become_missing_with_a_summary(tmp_path):
    rows = [list(SPOTIFY_ROWS[0]), list(SPOTIFY_ROWS[2]), list(SPOTIFY_ROWS[5])]
    rows[0][SPOTIFY_HEADER.index("energy")] = "nan"
    rows[1][SPOTIFY_HEADER.index("energy")] = "inf"
    rows[2][SPOTIFY_HEADER.index("tempo")] = "-20"
    catalogue = load_catalogue(write_csv(tmp_path / "odd.csv", SPOTIFY_HEADER, rows))
    songs = catalogue.songs.set_index("title")
    assert math.isnan(songs.loc["Gym Rush", "energy"]) and math.isnan(songs.loc["Block Party", "energy"])
    assert math.isnan(songs.loc["Sunny Drive", "tempo"])
    assert any("energy value(s) outside" in note for note in catalogue.report.notes)
    assert any("tempo value(s) outside" in note for note in catalogue.report.notes)
