"""Feedback and profiles over HTTP with gradio_client: a like through ``/feedback`` changes the next ``/chat``
answer, ``/profile`` returns it, a ``profile_id`` carries it to another client, ``/forget_me`` deletes it, and a bad
song is one sentence."""

from __future__ import annotations

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from assistant.profile_store import ProfileStore


@pytest.fixture
def client(app_url):
    return Client(app_url, verbose=False, download_files=False)


def test_a_like_through_the_api_changes_the_next_answer_and_is_saved(client, app_url, bundled_engine):
    client.predict(message="songs for the weekend", k=5, api_name="/chat")
    result = client.predict(song="2", verdict="like", api_name="/feedback")
    liked = result["profile"]["likes"][0]["title"]
    assert result["message"].startswith(f"Noted: you like {liked}")
    profile_id = result["profile"]["profile_id"].removeprefix("browser:")
    more = client.predict(message="show more", api_name="/chat")
    assert f"because you liked {liked}" in more

    saved = ProfileStore(bundled_engine.settings.profile_db_path).profile("browser:" + profile_id)
    assert [s.title for s in saved.likes] == [liked] and len(saved.shown) == 5 + 10

    other = Client(app_url, verbose=False, download_files=False)  # another client, the same profile id
    other.predict(song="Someone Like You", verdict="dislike", profile_id=profile_id, api_name="/feedback")
    profile = other.predict(profile_id=profile_id, api_name="/profile")
    assert [s["title"] for s in profile["likes"]] == [liked]
    assert [s["title"] for s in profile["dislikes"]] == ["Someone Like You"]
    stranger = Client(app_url, verbose=False, download_files=False).predict(api_name="/profile")
    assert stranger["likes"] == [] and stranger["profile_id"] != profile["profile_id"]

    blend = other.predict(blend="on", profile_id=profile_id, api_name="/personal_blend")
    assert blend["personal_blend"] == "on"
    forgotten = other.predict(profile_id=profile_id, api_name="/forget_me")
    assert forgotten == {"forgotten": True, "message": "Forgotten: nothing about you is kept any more."}
    assert other.predict(profile_id=profile_id, api_name="/profile")["likes"] == []


@pytest.mark.parametrize(
    ("arguments", "sentence"),
    [
        ({"song": "7"}, "There is no #7 in this list; it runs from #1 to #5."),
        ({"song": ""}, "Say which song: its number in the last answer (love #2) or its title."),
        ({"song": "Zzzz Qqqq Wwww"}, "There is no song called 'Zzzz Qqqq Wwww' in this catalogue."),
        ({"song": "2", "verdict": "adore"}, "verdict must be one of like, dislike, block, unblock; got 'adore'."),
        ({"song": "2", "profile_id": "short"}, "profile_id must be 16 to 64 letters, digits, '-' or '_'"),
    ],
)
def test_bad_feedback_is_one_sentence(client, arguments, sentence):
    client.predict(message="calm songs", k=5, api_name="/chat")
    with pytest.raises(AppError) as error:
        client.predict(**{"verdict": "like", **arguments}, api_name="/feedback")
    assert str(error.value).startswith(sentence)
