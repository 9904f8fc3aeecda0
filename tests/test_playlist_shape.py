"""Playlists people can use: a target length, an order, one version of a song, an album cap and clean requests,
on arrays, through the engine (the real model and FAISS over catalogues the tests write) and the API."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest

from assistant.api_arguments import minutes_argument, order_argument
from assistant.discovery.export import parse_m3u, playlist_rows, to_csv, to_m3u
from assistant.engine import SearchEngine
from assistant.ordering import arc_shape, intensity, order_positions
from assistant.playlist_length import take_length
from assistant.playlist_words import load_playlist_words
from assistant.ranking import best_of_each, diverse_order
from assistant.titles import song_title, version_key
from assistant.understanding import understand
from assistant.vocabulary import Vocabulary, load_concepts
from index_builder.buckets import load_bucket_spec
from index_builder.catalogue import load_catalogue
from index_builder.errors import CatalogueError, QueryError
from index_builder.settings import Settings
from tests.helpers import test_settings, write_csv

MARKERS = load_playlist_words().version_markers


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    settings = Settings()
    spec = load_bucket_spec(settings.feature_words_path)
    concepts = load_concepts(settings.prompts_dir / "query_concepts.toml", {k: v["words"] for k, v in spec.items()})
    return Vocabulary.build(concepts)


# ---- reading a request ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_text", "seconds"),
    [
        ("45 minutes for my run", 2700),
        ("a 2-hour dinner playlist", 7200),
        ("an hour of focus music", 3600),
        ("music for 45 minutes", 2700),
        ("a 45-minute playlist of upbeat pop", 2700),
        ("90 min workout mix", 5400),
        ("an hour and a half of chill songs", 5400),
        ("1.5 hours of calm music", 5400),
        ("half an hour of happy songs", 1800),
        ("2h of dance music", 7200),
    ],
)
def test_a_whole_length_is_read_in_its_phrasings(vocabulary, request_text, seconds):
    intent = understand(request_text, vocabulary)
    assert intent.length_s == seconds
    assert "duration_s" not in intent.ranges
    assert "in all" in intent.describe()


@pytest.mark.parametrize(
    ("request_text", "low", "high"),
    [
        ("songs under 3 minutes", None, 180.0),
        ("songs under 3 minutes for a run", None, 180.0),
        ("3 minute songs", 150.0, 210.0),
    ],
)
def test_a_song_length_stays_a_condition_on_each_song(vocabulary, request_text, low, high):
    intent = understand(request_text, vocabulary)
    assert intent.length_s is None
    assert intent.ranges["duration_s"] == (low, high)


def test_a_length_and_a_song_length_in_one_request(vocabulary):
    intent = understand("60 minutes of music, every song under 4 minutes", vocabulary)
    assert intent.length_s == 3600
    assert intent.ranges["duration_s"] == (None, 240.0)


@pytest.mark.parametrize(
    ("request_text", "order"),
    [
        ("a 45 minute playlist that builds up", "build_up"),
        ("workout mix that starts slow and gets faster", "build_up"),
        ("an hour of music to wind down", "wind_down"),
        ("running playlist: warm up, peak, then cool down", "arc"),
        ("party songs with a smooth flow", "smooth"),
        ("songs to wind down after work", None),  # a mood, not an order, without a playlist
        ("upbeat songs", None),
    ],
)
def test_an_order_is_read(vocabulary, request_text, order):
    assert understand(request_text, vocabulary).order == order


@pytest.mark.parametrize(
    ("request_text", "clean"),
    [
        ("clean workout songs", True),
        ("no explicit rap from 2015", True),
        ("family-friendly party songs", True),
        ("keep it clean, happy songs", True),
        ("songs for cleaning the house", False),
        ("music to clean the house to", False),
    ],
)
def test_clean_is_read(vocabulary, request_text, clean):
    intent = understand(request_text, vocabulary)
    assert intent.clean is clean
    assert ("clean (no explicit songs)" in intent.describe()) is clean


def test_include_remixes_keeps_every_version(vocabulary):
    assert understand("dance songs, include remixes", vocabulary).all_versions
    assert not understand("dance songs", vocabulary).all_versions


# ---- arrays -----------------------------------------------------------------------------------------------------


def _levels(order: str, energy: np.ndarray, tempo: np.ndarray) -> np.ndarray:
    positions = order_positions(order, energy, tempo)
    assert sorted(positions) == list(range(len(energy)))
    return intensity(energy, tempo)[positions]


def test_build_up_and_wind_down_are_monotone():
    rng = np.random.default_rng(7)
    energy, tempo = rng.random(25), rng.uniform(60, 180, 25)
    assert np.all(np.diff(_levels("build_up", energy, tempo)) >= 0)
    assert np.all(np.diff(_levels("wind_down", energy, tempo)) <= 0)


def test_an_arc_rises_to_its_peak_then_falls():
    rng = np.random.default_rng(3)
    energy, tempo = rng.random(20), rng.uniform(60, 180, 20)
    energy[4] = tempo[4] = np.nan  # a song without features still gets a place
    levels = _levels("arc", energy, tempo)
    peak = int(np.argmax(levels))
    assert 0.4 <= peak / (len(levels) - 1) <= 0.8
    assert np.all(np.diff(levels[: peak + 1]) >= 0)
    assert np.all(np.diff(levels[peak:]) <= 0)
    assert arc_shape(5, 0.5).tolist() == [0.0, 0.5, 1.0, 0.5, 0.0]


def test_smooth_flow_takes_small_steps():
    values = np.array([0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 0.8])
    positions = order_positions("smooth", values, values * 100 + 60)
    assert values[positions].tolist() == sorted(values)  # on one line, the shortest path walks it in order
    rank_steps = np.abs(np.diff(values)).sum()
    assert np.abs(np.diff(values[positions])).sum() < rank_steps


def test_rank_order_keeps_the_list_and_an_unknown_order_is_refused():
    assert order_positions(None, np.ones(3), np.ones(3)).tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="Unknown playlist order"):
        order_positions("zigzag", np.ones(3), np.ones(3))


def test_take_length_is_within_one_song_of_the_target():
    rng = np.random.default_rng(11)
    durations = rng.uniform(120, 420, 80)
    durations[[3, 9]] = np.nan  # unknown lengths are passed over
    for target in (600.0, 2700.0, 5400.0, 7200.0):
        chosen = take_length(durations, target)
        assert not set(chosen.tolist()) & {3, 9}
        total = durations[chosen].sum()
        assert abs(total - target) <= durations[chosen].max()
        assert chosen.tolist() == sorted(chosen.tolist())  # taken by rank
    short = take_length(np.array([200.0, 200.0]), 3600.0)
    assert short.tolist() == [0, 1]  # the songs ran out first


def test_best_of_each_keeps_the_best_version():
    scores = np.array([0.5, 0.9, 0.7, 0.9, 0.1])
    keys = np.array([0, 0, 1, 1, 2])
    assert best_of_each(scores, keys).tolist() == [1, 3, 4]
    assert best_of_each(np.array([0.4, 0.9, 0.9]), np.array([5, 5, 5])).tolist() == [1]  # a tie: the first


def test_album_cap_gives_way_only_when_the_candidates_run_out():
    scores = np.linspace(1.0, 0.5, 8)
    artists = ["a", "b", "c", "d", "e", "f", "g", "h"]
    albums = np.array([0, 0, 0, 0, 1, -1, -1, 2])
    picked = diverse_order(scores, artists, 6, albums=albums, max_per_album=2)
    assert sum(albums[picked] == 0) == 2
    assert len(diverse_order(scores[:4], artists[:4], 4, albums=albums[:4], max_per_album=2)) == 4


@pytest.mark.parametrize(
    ("title", "artist"),
    [
        ("Bright Lights (feat. Nova)", "Kai Rivers"),
        ("Bright Lights - Radio Edit", "Kai Rivers"),
        ("Bright Lights - Remastered 2011", "Kai Rivers"),
        ("Bright Lights (Live at Wembley)", "Kai Rivers"),
        ("Bright Lights - DJ Mole Remix", "Kai Rivers, DJ Mole"),
        ("Bright Lights", "Kai Rivers feat. Nova"),
    ],
)
def test_versions_share_a_key(title, artist):
    assert version_key(title, artist, MARKERS) == version_key("Bright Lights", "Kai Rivers", MARKERS)


def test_a_bracket_that_names_no_version_stays():
    assert song_title("Love (Part 2)", MARKERS) == "Love (Part 2)"
    assert version_key("Love (Part 2)", "X", MARKERS) != version_key("Love", "X", MARKERS)
    assert version_key("Bright Lights", "Other Band", MARKERS) != version_key("Bright Lights", "Kai Rivers", MARKERS)


# ---- a catalogue with versions, albums and explicit marks ------------------------------------------------------

HEADER = [
    "track_id", "track_name", "track_artist", "track_album_name", "explicit", "track_popularity",
    "track_album_release_date", "playlist_genre", "danceability", "energy", "valence", "tempo", "acousticness",
    "duration_ms",
]  # fmt: skip


def _row(number: int, title: str, artist: str, album: str, explicit: str, energy: float, tempo: float) -> list[str]:
    song_id = f"{number:022d}"
    return [song_id, title, artist, album, explicit, "60", "2018-01-01", "pop", "0.7", str(energy), "0.6",
            str(tempo), "0.1", str(200_000 + 1000 * number)]  # fmt: skip


ROWS = [
    _row(1, "Bright Lights", "Kai Rivers", "Night Drive", "false", 0.80, 124),
    _row(2, "Bright Lights (feat. Nova)", "Kai Rivers", "Night Drive Deluxe", "false", 0.81, 124),
    _row(3, "Bright Lights - DJ Mole Remix", "Kai Rivers, DJ Mole", "Remixes", "false", 0.86, 126),
    _row(4, "Bright Lights (Live at Wembley)", "Kai Rivers", "Live", "false", 0.78, 122),
    _row(5, "Bright Lights - Remastered 2011", "Kai Rivers", "Best Of", "false", 0.80, 124),
    _row(6, "Summer Run", "Ana Vale", "Summer Songs", "false", 0.85, 128),
    _row(7, "Summer Walk", "Ben Ortiz", "Summer Songs", "true", 0.82, 118),
    _row(8, "Summer Ride", "Cleo Marsh", "Summer Songs", "false", 0.84, 130),
    _row(9, "Summer Drive", "Dev Patel", "Summer Songs", "true", 0.83, 125),
    _row(10, "Summer Swim", "Eli Stone", "Summer Songs", "false", 0.86, 127),
    _row(11, "Rainy Window", "Fay Moon", "Grey Days", "false", 0.20, 70),
    _row(12, "Dance All Night", "Gus Lane", "Club Nights", "true", 0.92, 132),
    _row(13, "Slow Morning", "Hana Cole", "Grey Days", "", 0.30, 80),
    _row(14, "City Pulse", "Ivo Rank", "Club Nights", "false", 0.90, 140),
]


@pytest.fixture(scope="module")
def shaped_engine(encoder, tmp_path_factory) -> SearchEngine:
    folder = tmp_path_factory.mktemp("shape")
    catalogue = write_csv(folder / "shape.csv", HEADER, ROWS)
    return SearchEngine.from_settings(test_settings(folder, catalogue, top_k=14), encoder=encoder)


def test_album_and_explicit_columns_are_read(tmp_path):
    songs = load_catalogue(write_csv(tmp_path / "c.csv", HEADER, ROWS)).songs.set_index("song_id")
    assert songs.loc[f"{6:022d}", "album"] == "Summer Songs"
    assert bool(songs.loc[f"{7:022d}", "explicit"]) is True
    assert songs["explicit"].isna().sum() == 1  # a blank mark is unknown, not clean
    bad = [[*ROWS[0][:4], "sometimes", *ROWS[0][5:]]]
    with pytest.raises(CatalogueError, match=r"Column 'explicit' \(explicit\) must be true or false.*line\(s\) 2"):
        load_catalogue(write_csv(tmp_path / "bad.csv", HEADER, bad))


def _titles(response) -> list[str]:
    return [r.title for r in response.results]


def test_versions_of_a_song_count_once_unless_asked(shaped_engine):
    one = _titles(shaped_engine.search("bright lights kai rivers songs"))
    assert sum(t.startswith("Bright Lights") for t in one) == 1
    every = _titles(shaped_engine.search("bright lights kai rivers songs, include remixes"))
    assert sum(t.startswith("Bright Lights") for t in every) >= 3


def test_at_most_two_songs_per_album(shaped_engine):
    albums = shaped_engine.songs.set_index("song_id")["album"]
    # Ten songs once versions count once, five of them on "Summer Songs": seven fit with two from it, eight not.
    seven = shaped_engine.search("summer songs", k=7)
    assert (albums[[r.song_id for r in seven.results]] == "Summer Songs").sum() == 2
    eight = shaped_engine.search("summer songs", k=8)
    assert (albums[[r.song_id for r in eight.results]] == "Summer Songs").sum() == 3


def test_clean_leaves_explicit_songs_out(shaped_engine):
    response = shaped_engine.search("clean summer songs", k=14)
    explicit = shaped_engine.songs.set_index("song_id")["explicit"]
    assert response.results
    assert all(explicit[r.song_id] is False or explicit[r.song_id] == False for r in response.results)  # noqa: E712
    assert "clean (no explicit songs)" in response.understood
    marked = shaped_engine.search("summer songs", k=14)
    assert any(explicit[r.song_id] == True for r in marked.results)  # noqa: E712


def test_clean_without_explicit_marks_says_so(bundled_engine):
    response = bundled_engine.search("clean party songs", k=5)
    assert "This catalogue does not mark explicit songs, so 'clean' could not be applied." in response.notes
    assert len(response.results) == 5


@pytest.mark.parametrize(
    ("request_text", "target"),
    [
        ("45 minutes for my run", 2700),
        ("a 2-hour dinner playlist", 7200),
        ("an hour of focus music", 3600),
        ("music for 30 minutes of happy songs", 1800),
    ],
)
def test_a_length_target_is_filled_within_one_song(bundled_engine, request_text, target):
    response = bundled_engine.search(request_text)
    lengths = bundled_engine.songs.set_index("song_id").loc[[r.song_id for r in response.results], "duration_s"]
    assert abs(lengths.sum() - target) <= lengths.max()
    assert response.total_s == pytest.approx(lengths.sum())
    assert response.notes[0].startswith("Playlist: ") and f"{len(response.results)} songs" in response.notes[0]
    assert [r.rank for r in response.results] == list(range(1, len(response.results) + 1))


def test_an_over_long_playlist_is_bounded(bundled_engine):
    response = bundled_engine.search("9 hours of pop")
    assert any("at most 5 h" in note for note in response.notes)
    assert len(response.results) <= bundled_engine.settings.playlist_max_songs


def test_ordering_through_the_engine(bundled_engine):
    response = bundled_engine.search("an hour of upbeat songs that builds up")
    raw = bundled_engine.catalogue.raw
    rows = np.array([bundled_engine.catalogue.row_of(r.song_id) for r in response.results])
    levels = intensity(raw["energy"].to_numpy()[rows], raw["tempo"].to_numpy()[rows])
    assert np.all(np.diff(levels) >= 0)
    arc = bundled_engine.order_response(response, "arc")
    assert sorted(r.song_id for r in arc.results) == sorted(r.song_id for r in response.results)
    assert [r.rank for r in arc.results] == list(range(1, len(arc.results) + 1))


def test_the_export_keeps_the_order(shaped_engine):
    response = shaped_engine.order_response(shaped_engine.search("summer songs", k=8), "wind_down")
    ids = [r.song_id for r in response.results]
    rows = playlist_rows([r.to_dict() for r in response.results], shaped_engine.songs)
    assert [row["song_id"] for row in csv.DictReader(io.StringIO(to_csv(rows)))] == ids
    assert [e["location"] for e in parse_m3u(to_m3u(rows))] == [f"spotify:track:{i}" for i in ids]


def test_playlist_arguments_are_checked():
    assert order_argument("Build-Up") == "build_up"
    assert order_argument("rank") is None and order_argument(None) is None
    with pytest.raises(QueryError, match="order must be one of rank, build_up"):
        order_argument("zigzag")
    assert minutes_argument("45", 300) == 45 and minutes_argument(0, 300) is None
    with pytest.raises(QueryError, match="minutes must be between 1 and 300"):
        minutes_argument(1000, 300)
    with pytest.raises(QueryError, match="minutes must be a whole number"):
        minutes_argument("an hour", 300)


def test_the_playlist_endpoint(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    answer = client.predict(query="happy songs", minutes=40, order="arc", api_name="/playlist")
    assert answer["results"] and abs(answer["total_s"] - 2400) <= 600
    assert "warm-up, peak, cool-down" in answer["understood"]
    with pytest.raises(Exception, match="order must be one of"):
        client.predict(query="happy songs", order="zigzag", api_name="/playlist")


def test_intensity_does_not_depend_on_the_list_order():
    energy, tempo = np.array([0.5, 0.5, 0.2, 0.9]), np.array([120.0, 100.0, 120.0, 90.0])
    shuffle = np.array([3, 1, 0, 2])
    assert intensity(energy[shuffle], tempo[shuffle]).tolist() == intensity(energy, tempo)[shuffle].tolist()


def test_a_playlist_shape_is_a_follow_up_in_the_chat(bundled_engine):
    from assistant.chat import ChatSession, chat

    session = ChatSession()
    _, session = chat("upbeat songs for a run", None, session, bundled_engine, 10)
    reply, session = chat("make it 45 minutes that builds up", None, session, bundled_engine, 10)
    assert "Changed the last request" in reply and "about 45 min in all; ordered: building up" in reply
    assert "Playlist: " in reply
    reply, session = chat("clean please", None, session, bundled_engine, 10)
    assert "Changed the last request" in reply and "clean (no explicit songs)" in reply
    assert "does not mark explicit songs" in reply
    assert session.dialogue.intent.length_s == 2700 and session.dialogue.intent.order == "build_up"


def test_the_discover_order_control_lays_out_the_answer_and_its_export(shaped_engine):
    import gradio as gr

    from assistant.chat import ChatSession
    from assistant.discovery_ui import add_discovery_tabs

    with gr.Blocks(analytics_enabled=False) as demo:
        add_discovery_tabs(shaped_engine, gr.State(ChatSession()))
    browse = next(b.fn for b in demo.fns.values() if getattr(b.fn, "__name__", "") == "on_browse")
    _, csv_path, m3u_path, *_ = browse("summer songs", None, 1900, 2100, 7, True, None, "build_up")
    with open(csv_path, encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    assert [int(row["rank"]) for row in exported] == list(range(1, 8))
    rows = np.array([shaped_engine.catalogue.row_of(row["song_id"]) for row in exported])
    raw = shaped_engine.catalogue.raw
    assert np.all(np.diff(intensity(raw["energy"].to_numpy()[rows], raw["tempo"].to_numpy()[rows])) >= 0)
    m3u = [entry["location"] for entry in parse_m3u(Path(m3u_path).read_text(encoding="utf-8"))]
    assert m3u == [f"spotify:track:{row['song_id']}" for row in exported]


def test_more_like_a_song_leaves_its_other_versions_out(shaped_engine):
    from assistant.discovery.similar import more_like_this

    response = more_like_this(shaped_engine, "Bright Lights", k=5)
    assert not any(r.title.startswith("Bright Lights") for r in response.results)
    assert len(response.results) == 5


def _as_an_older_build(folder) -> None:
    """Drop the album and explicit fields from an index folder's songs table, recording its new checksum."""
    import json

    import pandas as pd

    from index_builder.index_store import MANIFEST_FILE, SONGS_FILE
    from index_builder.model_store import sha256_of_file

    songs = pd.read_parquet(folder / SONGS_FILE).drop(columns=["album", "explicit"])
    songs.to_parquet(folder / SONGS_FILE, index=False)
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    manifest["files"][SONGS_FILE] = sha256_of_file(folder / SONGS_FILE)
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))


def test_an_older_index_is_rebuilt_only_where_the_catalogue_has_the_new_columns(encoder, tmp_path):
    from index_builder.build import open_index
    from index_builder.errors import IndexMismatch

    with_albums = test_settings(tmp_path / "a", write_csv(tmp_path / "albums.csv", HEADER, ROWS))
    plain_rows = [[*row[:3], *row[5:]] for row in ROWS]
    plain_header = [name for name in HEADER if name not in ("track_album_name", "explicit")]
    without = test_settings(tmp_path / "p", write_csv(tmp_path / "plain.csv", plain_header, plain_rows))
    for settings in (with_albums, without):
        open_index(settings, encoder)
        _as_an_older_build(settings.resolved_index_dir)
    with pytest.raises(IndexMismatch, match="has no album, explicit for its songs"):
        open_index(with_albums, encoder, rebuild=False)
    rebuilt = open_index(with_albums, encoder)
    assert "album" in rebuilt.songs and rebuilt.manifest["embedded"] == 0  # every vector reused
    assert "album" not in open_index(without, encoder, rebuild=False).songs  # nothing to gain: kept as it is
