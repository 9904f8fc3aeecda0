"""The Discover tab's named endpoints through gradio_client, against a small app on a free local port."""

from __future__ import annotations

import socket
from collections import Counter
from pathlib import Path

import gradio as gr
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from assistant.chat import ChatSession
from assistant.discovery.export import parse_csv, parse_text
from assistant.discovery_ui import API_NAMES, add_discovery_tabs

RESULT_FIELDS = {
    "rank",
    "song_id",
    "title",
    "artist",
    "year",
    "genre",
    "score",
    "description",
    "explanation",
    "matched",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def app(bundled_engine):
    """A Blocks app with a stand-in chat tab and the Discover tab, served on a free local port (no telemetry)."""
    with gr.Blocks(analytics_enabled=False) as demo:
        session = gr.State(ChatSession())
        with gr.Tab("Chat"):
            gr.Markdown("chat goes here")
        add_discovery_tabs(bundled_engine, session)
    demo.queue().launch(server_name="127.0.0.1", server_port=_free_port(), prevent_thread_lock=True, quiet=True)
    yield demo
    demo.close()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def api(app, downloads):
    return Client(app.local_url, verbose=False, download_files=str(downloads))


def test_every_endpoint_is_named(api):
    named = api.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {f"/{name}" for name in API_NAMES} <= set(named)


def test_more_like_this_endpoint(api):
    answer = api.predict("TiK ToK", 10, api_name="/more_like_this")
    results = answer["results"]
    assert len(results) == 10 and set(results[0]) == RESULT_FIELDS
    assert sum(r["genre"] == "dance pop" for r in results) >= 6
    assert answer["did_you_mean"] == []
    missed = api.predict("Tik Tak Toe", api_name="/more_like_this")
    assert missed["results"] == [] and "TiK ToK - Kesha" in missed["did_you_mean"]
    assert "Did you mean" in missed["notes"][0]


def test_preset_endpoints(api):
    presets = api.predict(api_name="/presets")
    names = {p["name"] for p in presets}
    assert {"energetic", "chill", "happy", "melancholic", "party", "focused", "romantic", "workout", "sleep"} <= names
    assert all(p["targets"] and p["query_words"] for p in presets)
    answer = api.predict("workout", 5, ["dance pop"], 2013, 2017, api_name="/preset")
    assert len(answer["results"]) == 5
    assert all(r["genre"] == "dance pop" and 2013 <= r["year"] <= 2017 for r in answer["results"])
    assert all(r["explanation"].startswith(("hits Workout", "misses")) for r in answer["results"])
    with pytest.raises(AppError, match="No mood preset called 'polka'"):
        api.predict("polka", api_name="/preset")


def test_genre_and_year_endpoints(api, bundled_engine):
    genres = api.predict(api_name="/genres")
    assert genres[0] == {"genre": "dance pop", "count": int((bundled_engine.songs["genre"] == "dance pop").sum())}
    assert sum(g["count"] for g in genres) == len(bundled_engine.songs)
    years = api.predict(api_name="/years")
    assert [y["year"] for y in years] == sorted(y["year"] for y in years)
    browsed = api.predict("happy summer songs", ["pop", "canadian pop"], 2016, 2019, 8, api_name="/browse")
    assert browsed["results"] and all(
        r["genre"] in {"pop", "canadian pop"} and 2016 <= r["year"] <= 2019 for r in browsed["results"]
    )
    with pytest.raises(AppError, match="There is no genre"):
        api.predict("", ["polka"], api_name="/browse")


def test_taste_profile_endpoint(api):
    titles = ["Jar of Hearts", "Tee Shirt - Soundtrack Version", "beautiful birds"]
    answer = api.predict(titles, 10, api_name="/taste_profile")
    profile, recommendations = answer["profile"], answer["recommendations"]
    assert "slow" in profile["summary"] and "acoustic" in profile["summary"]
    assert {f["feature"] for f in profile["features"]} >= {"tempo", "energy", "acousticness"}
    liked = {s["song_id"] for s in profile["liked"]}
    assert len(liked) == 3
    results = recommendations["results"]
    assert len(results) == 10 and not liked & {r["song_id"] for r in results}
    assert max(Counter(r["artist"] for r in results).values()) <= 2


def test_export_endpoint_round_trips(api):
    answer = api.predict("Shape of You", 6, api_name="/more_like_this")
    expected = [(r["artist"], r["title"]) for r in answer["results"]]
    csv_path = api.predict("csv", answer, api_name="/export")
    assert [(r["artist"], r["title"]) for r in parse_csv(Path(csv_path).read_text(encoding="utf-8"))] == expected
    with pytest.raises(AppError, match="not a playable playlist"):
        api.predict("m3u", answer["results"], api_name="/export")  # no file paths or Spotify ids in this catalogue
    txt_path = api.predict("txt", answer, api_name="/export")
    assert [(e["artist"], e["title"]) for e in parse_text(Path(txt_path).read_text(encoding="utf-8"))] == expected
    with pytest.raises(AppError, match="Export format"):
        api.predict("xlsx", answer, api_name="/export")


def _handler(app, name):
    """The UI event function called ``name`` (the buttons' handlers are private, so they are reached directly)."""
    return next(block.fn for block in app.fns.values() if getattr(block.fn, "__name__", "") == name)


def test_ui_handlers_fill_results_plot_and_exports(app):
    taste = _handler(app, "on_taste")
    summary, figure, table, markdown, csv_path, m3u_path, text, uris, folder = taste(
        ["Jar of Hearts - Christina Perri", "Tee Shirt - Soundtrack Version - Birdy"], None, 2010, 2019, 5, True, None
    )
    assert "slow" in summary and len(table) >= 8
    assert gr.Plot().postprocess(figure).type == "matplotlib" and figure.plot.startswith("data:image/")
    assert figure.chart.startswith("Taste profile of 2 songs against the catalogue average: tempo ")  # the alt text
    assert markdown.count("\n") >= 4 and Path(csv_path).exists()
    assert m3u_path is None and uris == ""  # names only: no file paths or Spotify ids to play
    assert len(text.splitlines()) == 5
    assert Path(csv_path).parent == folder  # the session's own export folder, handed back to its gr.State
    similar = _handler(app, "on_similar")
    message, *_ = similar("Tik Tak Toe", None, 2010, 2019, 5, True, None)
    assert "Did you mean" in message
    browse = _handler(app, "on_browse")
    listing, *_ = browse("", ["latin"], 2010, 2019, 3, True, None)
    assert "latin" in listing
