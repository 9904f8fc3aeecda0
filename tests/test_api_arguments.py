"""Every named endpoint checks its arguments at the door: unambiguous types coerced, the rest one sentence that
names the argument; lone surrogates and non-numbers never break a reply."""

from __future__ import annotations

import json
import re

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from assistant.api_arguments import MAX_DEPTH
from tests.helpers import LISTED, queue_call


@pytest.fixture
def client(app_url):
    return Client(app_url, verbose=False, download_files=False)


def test_unambiguous_types_are_coerced(client):
    results = client.predict(query="happy songs", k="10", year_min="2015", relax="true", api_name="/search")
    assert len(results) == 10 and all(r["year"] >= 2015 for r in results)
    assert len(client.predict(query="sad songs", k=4.0, genres="dance pop", api_name="/search")) == 4
    assert len(client.predict("Hello", "3", api_name="/more_like_this")["results"]) == 3
    reply = client.predict(message="happy songs", k="3", api_name="/chat")
    assert len([line for line in reply.splitlines() if LISTED.match(line)]) == 3


@pytest.mark.parametrize(
    ("api_name", "arguments", "message"),
    [
        ("/search", {"query": "happy songs", "k": "abc"}, "k must be a whole number, like 10; got the text 'abc'."),
        ("/search", {"query": "happy songs", "k": []}, "k must be a whole number"),
        ("/search", {"query": "happy songs", "k": {}}, "k must be a whole number"),
        ("/search", {"query": "happy songs", "k": 2.5}, "k must be a whole number"),
        ("/search", {"query": "happy songs", "year_min": {}}, "year_min must be a whole number, like 2015"),
        ("/search", {"query": "happy songs", "year_max": 10**30}, "year_max must be a year"),
        ("/search", {"query": "happy songs", "genres": 5}, "genres must be a list of names"),
        ("/search", {"query": "happy songs", "artists": [["Adele"]]}, "artists must be a list of names"),
        ("/search", {"query": "happy songs", "exclude_artists": [1, 2]}, "exclude_artists must be a list of names"),
        ("/search", {"query": ["happy"]}, "query must be text"),
        ("/search", {"query": "happy songs", "relax": "maybe"}, "relax must be true or false"),
        ("/more_like_this", {"title": {"a": 1}}, "title must be text"),
        ("/more_like_this", {"title": "Hello", "diverse": "sometimes"}, "diverse must be true or false"),
        ("/preset", {"preset": ["chill"]}, "preset must be text"),
        ("/browse", {"query": "", "genres": [["pop"]]}, "genres must be a list of names"),
        ("/taste_profile", {"titles": None}, "titles must be a list of song titles"),
        ("/taste_profile", {"titles": [3, 4]}, "titles must be a list of names"),
        ("/export", {"fmt": "csv", "results": [{"title": "x", "rank": "first"}]}, "has a rank that is not a whole"),
    ],
)
def test_wrong_types_are_one_sentence_naming_the_argument(client, api_name, arguments, message):
    with pytest.raises(AppError, match=re.escape(message)):
        client.predict(**arguments, api_name=api_name)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"message": "hi", "history": 5}, "history must be a list of messages"),
        ({"message": "hi", "history": json.loads("[" * 900 + "]" * 900)}, f"nested more than {MAX_DEPTH} levels"),
        ({"message": "hi", "history": "calm songs"}, "history must be a list of messages"),
        ({"message": "happy songs", "k": "abc"}, "k must be a whole number"),
        ({"message": "happy songs", "k": [3]}, "k must be a whole number"),
    ],
)
def test_chat_answers_wrong_types_in_its_reply(client, arguments, message):
    assert message in client.predict(**arguments, api_name="/chat")


@pytest.mark.parametrize(
    ("api_name", "data"),
    [
        ("more_like_this", ["\ud800", 5, None, None, None, True]),
        ("preset", ["chill\ud800", 5, None, None, None, True]),
        ("search", ["happy songs", 5, None, None, ["polka\ud800"], None, None, None, False]),
        ("export", ["\ud800", []]),
        ("taste_profile", [["Hello", "zz\ud800zz"], 5, None, None, None, True]),
        ("search", ["happy songs", float("nan"), float("inf"), None, None, None, None, None, False]),
        ("chat", ["happy songs", [], float("-inf")]),
    ],
)
def test_lone_surrogates_and_non_numbers_never_break_the_reply(app_url, api_name, data):
    answer = queue_call(app_url, api_name, data)
    output = json.dumps(answer["output"])
    assert "\\ud800" not in output and "\\udfff" not in output
    if not answer["success"]:
        assert answer["output"]["error"], answer  # a sentence, not Gradio's empty error
