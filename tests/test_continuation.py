"""Playlist membership (kept from the catalogue into the index folder) and playlist continuation: the scores on
arrays, a tiny catalogue with membership and one without, the chat, the evaluation's metrics, the endpoints."""

from __future__ import annotations

import json
import socket

import gradio as gr
import numpy as np
import pandas as pd
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from assistant.chat import ChatSession
from assistant.dialogue import DialogueState, respond
from assistant.discovery.continuation import NO_MEMBERSHIP, continue_playlist
from assistant.discovery.membership import Membership
from assistant.discovery_ui import add_discovery_tabs
from evaluation.continuation import held_out, metrics, split_playlists
from evaluation.tables import kept_sections, replace_section
from index_builder.catalogue import load_catalogue
from index_builder.errors import IndexMismatch, QueryError
from index_builder.index_store import MANIFEST_FILE, PLAYLISTS_FILE, load_index
from tests.helpers import PLAYLISTS, playlist_catalogue, spotify_catalogue, test_settings


@pytest.fixture(scope="module")
def playlist_engine(encoder, tmp_path_factory):
    from assistant.engine import SearchEngine

    folder = tmp_path_factory.mktemp("continuation")
    # Seven songs in four playlists: here membership is the signal, so it gets more weight than the default.
    settings = test_settings(folder, playlist_catalogue(folder), continuation_cooccurrence_weight=0.6)
    return SearchEngine.from_settings(settings, encoder=encoder)


def _titles(response) -> list[str]:
    return [r.title for r in response.results]


# ---- membership -------------------------------------------------------------------------------------------------


def test_catalogue_keeps_playlist_membership(tmp_path):
    catalogue = load_catalogue(playlist_catalogue(tmp_path))
    assert len(catalogue.songs) == 7  # one row per song, however many playlists hold it
    pairs = catalogue.playlists
    assert list(pairs.columns) == ["playlist_id", "playlist_name", "song_id"]
    assert len(pairs) == sum(len(songs) for _, songs in PLAYLISTS.values())
    assert set(pairs.loc[pairs["playlist_id"] == "pl-night", "song_id"]) == {"p5", "p6", "p4"}
    assert set(pairs["playlist_name"]) == {"Gym Hits", "Calm Evening", "Late Night Mix", "Night Drive"}
    assert load_catalogue(spotify_catalogue(tmp_path)).playlists is None


def test_membership_is_a_checked_file_of_the_index(playlist_engine):
    folder = playlist_engine.index.folder
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    assert manifest["playlist_pairs"] == 11 and PLAYLISTS_FILE in manifest["files"]
    assert len(load_index(folder, None).playlists) == 11


def test_damaged_or_missing_membership_is_refused(playlist_engine, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(playlist_engine.index.folder, copy)
    pairs = pd.read_parquet(copy / PLAYLISTS_FILE)
    pairs.iloc[:1].to_parquet(copy / PLAYLISTS_FILE, index=False)
    with pytest.raises(IndexMismatch, match=r"playlists\.parquet is missing or damaged"):
        load_index(copy, None)
    manifest = json.loads((copy / MANIFEST_FILE).read_text())
    del manifest["playlist_pairs"]
    (copy / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match="built before playlist membership was kept"):
        load_index(copy, None)


def test_cooccurrence_equals_brute_force():
    rng = np.random.default_rng(3)
    dense = (rng.random((12, 30)) < 0.3).astype(float)
    pairs = pd.DataFrame(
        [(f"pl{p}", f"name {p}", f"s{s}") for p, s in zip(*np.nonzero(dense), strict=True)],
        columns=["playlist_id", "playlist_name", "song_id"],
    )
    membership = Membership.from_pairs(pairs, [f"s{i}" for i in range(30)])
    order = [int(pid[2:]) for pid in membership.playlist_ids]
    dense = dense[order]
    seeds = [0, 4, 7]
    counts = dense.sum(axis=0)
    together = dense.T @ dense
    expected = np.array(
        [
            sum(together[i, j] / np.sqrt(counts[i] * counts[j]) for i in seeds if counts[i] and counts[j])
            for j in range(30)
        ]
    )
    assert np.allclose(membership.cooccurrence(seeds), expected)
    assert membership.shared_playlists(seeds, 5).tolist() == [together[i, 5] for i in seeds]


# ---- continuation -----------------------------------------------------------------------------------------------


def test_continuation_learns_what_playlists_put_together(playlist_engine):
    response = continue_playlist(playlist_engine, ["Block Party", "Corner Store"], k=3)
    # Rain Waltz sounds nothing like the rap songs, but two playlists hold it with them.
    assert _titles(response)[0] == "Rain Waltz (feat. Ana Mar)"
    assert "often together with Block Party by MC Verse in 2 playlists" in response.results[0].explanation
    assert response.understood == "songs that continue your 2 songs"


def test_continuation_of_a_catalogue_playlist_by_name(playlist_engine):
    response = continue_playlist(playlist_engine, playlist="late night mix", k=5)
    assert not {"Block Party", "Corner Store", "Rain Waltz (feat. Ana Mar)"} & set(_titles(response))
    assert response.query == "the playlist Late Night Mix"
    with pytest.raises(QueryError, match="No song called 'Nothing Like It'"):
        continue_playlist(playlist_engine, ["Nothing Like It"])
    with pytest.raises(QueryError, match="There is no playlist called 'Workout'"):
        continue_playlist(playlist_engine, playlist="Workout")


def test_continuation_explains_the_playlists_sound(playlist_engine):
    response = continue_playlist(playlist_engine, ["Gym Rush", "p2"], k=1)  # a title and a track id
    assert response.results[0].title == "Señorita"  # with both in Gym Hits
    assert response.results[0].explanation.startswith(("fits the playlist: ", "with Gym Rush", "often together"))


def test_without_membership_content_alone_and_said(encoder, tmp_path):
    from assistant.engine import SearchEngine

    engine = SearchEngine.from_settings(test_settings(tmp_path, spotify_catalogue(tmp_path)), encoder=encoder)
    response = continue_playlist(engine, ["Gym Rush"], k=3)
    assert NO_MEMBERSHIP in response.notes
    assert "Gym Rush" not in _titles(response) and len(response.results) == 3
    assert response.results[0].title == "Sunny Drive"  # the closest in sound: fast, energetic, happy


def test_chat_continues_a_playlist_and_explains(playlist_engine):
    reply, state = respond("continue my playlist: Block Party, Corner Store", DialogueState(), playlist_engine, 3)
    assert "Rain Waltz" in reply.splitlines()[2] or "Rain Waltz" in reply
    assert state.shown[0].title == "Rain Waltz (feat. Ana Mar)"
    why, _ = respond("why #1", state, playlist_engine)
    assert "Rain Waltz" in why
    hint, _ = respond("continue my playlist", DialogueState(), playlist_engine)
    assert hint.startswith("Name the playlist's songs after a colon")


# ---- evaluation ------------------------------------------------------------------------------------------------


def test_evaluation_metrics_and_split():
    scores = np.array([0.9, 0.8, 0.7, 0.1, 0.05, 0.6])
    given, hidden = np.array([0]), np.array([2, 4])
    recall, ndcg, r_precision = metrics(scores, given, hidden)
    # ranked without the given song: 1, 2, 5, 3, 4 -> hits at places 2 and 5
    assert recall == pytest.approx(1.0)
    assert ndcg == pytest.approx((1 / np.log2(3) + 1 / np.log2(6)) / (1 + 1 / np.log2(3)))
    assert r_precision == pytest.approx(0.5)
    split = split_playlists(tuple(f"id{i}" for i in range(100)))
    assert sorted(split.train + split.validation + split.test) == list(range(100))
    assert split == split_playlists(tuple(f"id{i}" for i in range(100)))
    given, hidden = held_out(np.arange(9), "id1")
    assert len(given) == 4 and sorted([*given, *hidden]) == list(range(9))


def test_results_sections_survive_a_rewrite():
    text = replace_section("# Retrieval quality\n", "continuation", "## Continuation\nold")
    text = replace_section(text, "continuation", "## Continuation\nnew")
    assert text.count("## Continuation") == 1 and "new" in text and "old" not in text
    assert kept_sections(text).startswith("<!-- continuation:start -->")


# ---- endpoints -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(playlist_engine):
    with gr.Blocks(analytics_enabled=False) as demo:
        add_discovery_tabs(playlist_engine, gr.State(ChatSession()))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield demo
    demo.close()


@pytest.fixture(scope="module")
def api(app):
    return Client(app.local_url, verbose=False, download_files=False)


def _handler(app, name):
    return next(block.fn for block in app.fns.values() if getattr(block.fn, "__name__", "") == name)


def test_page_handlers_for_history_and_continuation(app, tmp_path):
    history = tmp_path / "mine.csv"
    history.write_text("title,artist,plays\nGym Rush,Power Crew,4\n<b>Odd</b>,Nobody,1\n", encoding="utf-8")
    taste, report, summary, chart, markdown, csv_path, *_ = _handler(app, "on_history")(
        [str(history)], "familiar", None, 2012, 2020, 3, True, None
    )
    assert len(taste) == 1 and taste[0][1] == 4.0  # the one matched song (song id, plays)
    assert "Matched 4 of 5 plays (80%)" in report and "&lt;b&gt;Odd" in report and "<b>" not in report
    assert summary.startswith("**Your song")
    assert chart.chart.startswith("Taste profile of 1 songs against the catalogue average")
    assert "Gym Rush" in markdown and csv_path.endswith(".csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c,d,e\n1,2,3,4,5\n", encoding="utf-8")
    taste, message, *_ = _handler(app, "on_history")([str(bad)], "discover", None, 2012, 2020, 3, True, None)
    assert taste is None and message.startswith("bad.csv is a CSV, but not a listening history")
    listing, *_ = _handler(app, "on_continue")(["Block Party", "Corner Store"], None, None, 2012, 2020, 2, True, None)
    assert "Rain Waltz" in listing and "often together with" in listing
    named, *_ = _handler(app, "on_continue")([], "Gym Hits", None, 2012, 2020, 2, True, None)
    assert "continue the playlist Gym Hits" in named


def test_continue_playlist_and_playlists_endpoints(api):
    answer = api.predict(songs=["Block Party", "Corner Store"], k=2, api_name="/continue_playlist")
    assert answer["results"][0]["title"] == "Rain Waltz (feat. Ana Mar)"
    named = api.predict(playlist="Gym Hits", k="2", api_name="/continue_playlist")
    assert len(named["results"]) == 2
    playlists = api.predict(api_name="/playlists")
    assert {p["name"]: p["songs"] for p in playlists}["Late Night Mix"] == 3
    with pytest.raises(AppError, match="k must be a whole number"):
        api.predict(songs=["Block Party"], k="many", api_name="/continue_playlist")
    with pytest.raises(AppError, match="Name the songs of the playlist"):
        api.predict(api_name="/continue_playlist")


def test_history_endpoint(api, tmp_path):
    plain = tmp_path / "mine.csv"
    plain.write_text("title,artist,plays\nGym Rush,Power Crew,4\nNot Here,Nobody,1\n", encoding="utf-8")
    spotify = tmp_path / "StreamingHistory_music_0.json"
    spotify.write_text(
        json.dumps([{"endTime": "2024-01-05 14:32", "artistName": "Lena Soft", "trackName": "Quiet Rain",
                     "msPlayed": 200000}]),
        encoding="utf-8",
    )  # fmt: skip
    answer = api.predict([handle_file(str(plain)), handle_file(str(spotify))], "discover", 3, api_name="/history")
    assert answer["report"]["matched_tracks"] == 2 and answer["report"]["tracks"] == 3
    assert [t["song_id"] for t in answer["taste"]] == ["p1", "p3"]
    assert "p1" not in [r["song_id"] for r in answer["recommendations"]["results"]]  # played 4 times: discover
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(AppError, match=r"bad\.json is JSON but not a list of plays"):
        api.predict([handle_file(str(bad))], "discover", 3, api_name="/history")
    with pytest.raises(AppError, match="mode must be familiar or discover"):
        api.predict([handle_file(str(plain))], "loud", 3, api_name="/history")
