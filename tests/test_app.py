"""The Gradio app through real clients: ``/search`` and ``/chat`` over HTTP with gradio_client, auth, share."""

from __future__ import annotations

import argparse

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError, AuthenticationError

import app as moodring_app
from index_builder.settings import PROJECT_ROOT
from tests.helpers import free_port, listed_songs

CLI_FIELDS = {"rank", "song_id", "title", "artist", "year", "genre", "score", "description", "explanation", "matched"}


@pytest.fixture
def client(app_url):
    """A fresh gradio_client session."""
    return Client(app_url, verbose=False, download_files=False)


def test_api_lists_the_named_endpoints(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/chat", "/search"} <= set(endpoints)
    assert [p["parameter_name"] for p in endpoints["/chat"]["parameters"]] == ["message", "history", "k"]


def test_search_returns_cli_fields_and_honours_filters(client, bundled_engine):
    results = client.predict(
        query="upbeat workout songs", k=5, year_min=2016, exclude_artists=["Kesha"], api_name="/search"
    )
    assert len(results) == 5
    assert all(set(result) == CLI_FIELDS for result in results)
    assert all(result["year"] >= 2016 and "Kesha" not in result["artist"] for result in results)
    direct = [
        r.to_dict() for r in bundled_engine.search("upbeat workout songs, no Kesha, nothing before 2016", 5).results
    ]
    assert [r["song_id"] for r in results] == [r["song_id"] for r in direct]


def test_search_errors_are_one_sentence(client):
    with pytest.raises(AppError, match="There is no artist 'Adel' in this catalogue"):
        client.predict(query="sad songs", artists=["Adel"], api_name="/search")
    with pytest.raises(AppError, match="Tell me a mood"):
        client.predict(query="  ", api_name="/search")


def test_chat_three_turn_refinement_holds_every_condition(client, bundled_engine):
    client.predict(message="upbeat workout songs", k=8, api_name="/chat")
    client.predict(message="no Kesha", k=8, api_name="/chat")
    last = client.predict(message="only after 2015", k=8, api_name="/chat")
    assert "**Looking for:** high energy, workout; excluding Kesha; 2016 or later" in last
    songs = listed_songs(last, bundled_engine)
    assert len(songs) == 8
    for song in songs:
        assert song["year"] >= 2016
        assert song["energy"] >= 0.55
        assert "kesha" not in song["artist"].casefold() and "kesha" not in song["title"].casefold()


def test_each_client_has_its_own_conversation(app_url):
    first, second = (Client(app_url, verbose=False, download_files=False) for _ in range(2))
    first.predict(message="sad acoustic songs", api_name="/chat")
    alone = second.predict(message="no Kesha", api_name="/chat")
    assert "**Looking for:** excluding Kesha" in alone and "sad" not in alone.splitlines()[0]
    refined = first.predict(message="only after 2015", api_name="/chat")
    assert "**Looking for:** sad, acoustic; 2016 or later" in refined


def test_chat_with_an_explicit_history(client):
    history = [
        {"role": "user", "content": "calm songs for studying"},
        {"role": "assistant", "content": "(a list)"},
    ]
    reply = client.predict(message="older ones", history=history, k=5, api_name="/chat")
    assert reply.startswith("**Looking for:** low energy, study; up to ")
    followed = client.predict(message="why #1", api_name="/chat")  # the session continues from that history
    assert followed.startswith("**#1 ")


def test_chat_follow_ups_over_http(client, bundled_engine):
    client.predict(message="happy songs", k=3, api_name="/chat")
    more = client.predict(message="show more", api_name="/chat")
    assert "\n4. **" in more and "\n1. **" not in more
    why = client.predict(message="why #4", api_name="/chat")
    assert why.startswith("**#4 ") and "**All its words:**" in why
    restart = client.predict(message="start over", api_name="/chat")
    assert restart.startswith("Starting over")
    empty = client.predict(message=" ", api_name="/chat")
    assert "Tell me a mood" in empty


def test_auth_refuses_clients_without_the_password(bundled_engine):
    app = moodring_app.create_app(bundled_engine)
    url = moodring_app.launch(app, port=free_port(), auth=("moodring", "s3cret"), block=False)
    try:
        with pytest.raises(AuthenticationError, match="credentials were not provided"):
            Client(url, verbose=False)
        with pytest.raises(ValueError, match="Could not login"):
            Client(url, auth=("moodring", "wrong"), verbose=False)
        client = Client(url, auth=("moodring", "s3cret"), verbose=False, download_files=False)
        assert client.predict(query="sad songs", k=1, api_name="/search")[0]["rank"] == 1
    finally:
        app.close()


def test_failed_share_link_is_one_line_not_a_crash(bundled_engine, monkeypatch, capsys):
    import gradio.networking

    def no_tunnel(*args, **kwargs):
        raise RuntimeError("Could not get share link from Gradio API Server.")

    monkeypatch.setattr(gradio.networking, "setup_tunnel", no_tunnel)
    app = moodring_app.create_app(bundled_engine)
    try:
        url = moodring_app.launch(app, port=free_port(), share=True, block=False)
        printed = capsys.readouterr().out
        assert f"Could not create a public share link (Gradio's tunnel needs internet access); the app is still " \
               f"available at {url}" in printed  # fmt: skip
        assert Client(url, verbose=False).predict(query="sad songs", k=1, api_name="/search")
    finally:
        app.close()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("user:pass", ("user", "pass")), ("user:pa:ss", ("user", "pa:ss")), (None, None)],
)
def test_parse_auth(value, expected):
    assert moodring_app.parse_auth(value) == expected


@pytest.mark.parametrize("value", ["user", ":pass", "user:"])
def test_parse_auth_rejects_malformed_logins(value):
    with pytest.raises(argparse.ArgumentTypeError, match="USER:PASSWORD"):
        moodring_app.parse_auth(value)


def test_readme_documents_the_endpoints():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for snippet in ('api_name="/chat"', 'api_name="/search"', "gradio_client", "docs/chat.png"):
        assert snippet in readme
    assert (PROJECT_ROOT / "docs" / "chat.png").is_file()
