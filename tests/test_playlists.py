"""Exports that play: an M3U lists files or Spotify URIs, read back by parsing what was written; a catalogue with
neither says it can export names only."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest

from assistant.chat import ChatSession
from assistant.discovery.export import (
    NOT_PLAYABLE,
    parse_m3u,
    playlist_rows,
    playlist_sources,
    to_spotify_uris,
    write_export,
)
from assistant.discovery_ui import CatalogueChoices, add_discovery_tabs
from assistant.engine import SearchEngine
from index_builder.catalogue import load_catalogue
from index_builder.errors import QueryError
from tests.helpers import test_settings, write_csv

LIBRARY_HEADER = ["title", "artist", "energy", "valence", "tempo", "acousticness", "path"]
LIBRARY_ROWS = [
    ["Morning Run", "The Joggers", "0.9", "0.8", "150", "0.05", "/home/ana/Music/The Joggers/Morning Run.flac"],
    ["Slow Tide", "Mara Lune", "0.2", "0.3", "70", "0.9", "/home/ana/Music/Mara Lune/Slow Tide.mp3"],
    ["No File Yet", "Mara Lune", "0.3", "0.4", "80", "0.8", ""],
]
SPOTIFY_HEADER = ["track_id", "track_name", "track_artist", "energy", "valence", "tempo"]
SPOTIFY_ROWS = [
    ["4uLU6hMCjMI75M1A2tKUQC", "Hey, Soul Sister", "Train", "0.89", "0.8", "97"],
    ["0HPD5WQqrq7wPWR7P7Dw1i", "TiK ToK", "Kesha", "0.84", "0.71", "120"],
]


def _results(songs) -> list[dict[str, object]]:
    """Search-result dicts for every song of a loaded catalogue, in its order."""
    return [
        {"rank": i, "song_id": row.song_id, "title": row.title, "artist": row.artist, "year": None, "genre": ""}
        for i, row in enumerate(songs.itertuples(), 1)
    ]


def test_a_local_library_exports_an_m3u_of_its_files(tmp_path):
    catalogue = load_catalogue(write_csv(tmp_path / "library.csv", LIBRARY_HEADER, LIBRARY_ROWS))
    songs = catalogue.songs
    assert list(songs["location"]) == [row[-1] for row in LIBRARY_ROWS]  # the loader keeps the path column
    assert any("2 of 3 songs have a file location ('path')" in note for note in catalogue.report.notes)
    assert playlist_sources(songs) == (True, False)

    written = write_export(playlist_rows(_results(songs), songs), "m3u", tmp_path)
    entries = parse_m3u(written.read_text(encoding="utf-8"))
    assert [(e["artist"], e["title"], e["location"]) for e in entries] == [
        ("The Joggers", "Morning Run", "/home/ana/Music/The Joggers/Morning Run.flac"),
        ("Mara Lune", "Slow Tide", "/home/ana/Music/Mara Lune/Slow Tide.mp3"),
    ]
    assert "# not playable (no file or Spotify id): Mara Lune - No File Yet" in written.read_text(encoding="utf-8")


def test_a_spotify_export_exports_uris_to_play_and_paste(tmp_path):
    songs = load_catalogue(write_csv(tmp_path / "spotify.csv", SPOTIFY_HEADER, SPOTIFY_ROWS)).songs
    assert playlist_sources(songs) == (False, True)
    rows = playlist_rows(_results(songs), songs)
    entries = parse_m3u(write_export(rows, "m3u", tmp_path).read_text(encoding="utf-8"))
    uris = [f"spotify:track:{row[0]}" for row in SPOTIFY_ROWS]
    assert [e["location"] for e in entries] == uris
    assert [(e["artist"], e["title"]) for e in entries] == [("Train", "Hey, Soul Sister"), ("Kesha", "TiK ToK")]
    assert to_spotify_uris(rows).splitlines() == uris


def test_a_catalogue_of_names_exports_no_playlist(tmp_path, bundled_csv):
    songs = load_catalogue(bundled_csv).songs
    assert playlist_sources(songs) == (False, False)
    rows = playlist_rows(_results(songs.head(3)), songs)
    with pytest.raises(QueryError) as refused:
        write_export(rows, "m3u", tmp_path)
    assert str(refused.value) == NOT_PLAYABLE
    with pytest.raises(QueryError, match="no Spotify URIs"):
        to_spotify_uris(rows)
    assert write_export(rows, "txt", tmp_path).read_text(encoding="utf-8").count("\n") == 3


def test_a_location_that_cannot_be_an_entry_is_dropped_with_a_note(tmp_path):
    rows = [["A", "B", "0.5", "0.5", "100", "0.1", "#not-a-file"], ["C", "D", "0.5", "0.5", "100", "0.1", "x.mp3"]]
    catalogue = load_catalogue(write_csv(tmp_path / "odd.csv", LIBRARY_HEADER, rows))
    assert list(catalogue.songs["location"]) == ["", "x.mp3"]
    assert any("start with # and cannot be a playlist entry" in note for note in catalogue.report.notes)


def test_the_page_offers_what_each_catalogue_can_play(encoder, tmp_path, bundled_engine):
    assert CatalogueChoices.of(bundled_engine).export_note == NOT_PLAYABLE
    assert not CatalogueChoices.of(bundled_engine).playable

    library = write_csv(tmp_path / "library.csv", LIBRARY_HEADER, LIBRARY_ROWS)
    engine = SearchEngine.from_settings(test_settings(tmp_path, library), encoder=encoder)
    choices = CatalogueChoices.of(engine)
    assert choices.playable and "file" in choices.export_note
    with gr.Blocks(analytics_enabled=False) as demo:
        add_discovery_tabs(engine, gr.State(ChatSession()))
    browse = next(b.fn for b in demo.fns.values() if getattr(b.fn, "__name__", "") == "on_browse")
    _, csv_path, m3u_path, text, uris, _folder = browse("energetic songs", None, 1900, 2100, 3, False, None)
    locations = [e["location"] for e in parse_m3u(Path(m3u_path).read_text(encoding="utf-8"))]
    assert sorted(locations) == sorted(row[-1] for row in LIBRARY_ROWS if row[-1])
    assert uris == "" and Path(csv_path).exists() and text.count("\n") == 3
