"""The query LRU: a repeated request, or a refinement that leaves the embedded text alone, runs no model."""

from __future__ import annotations

from assistant.chat import ChatSession, chat
from assistant.dialogue import DialogueState, respond

SAME_TEXT_REFINEMENTS = (
    "no Kesha",
    "older ones",
    "more like the second one",
    "show more",
    "why #2",
    "give me 5",
    "newer",
    "no dance pop",
    "more like these",
    "start over: upbeat workout songs",
)
"""Each changes the conditions, the page or the example songs, not the words that are embedded."""


def test_a_conversation_embeds_each_new_wish_once(bundled_engine):
    engine, encoder = bundled_engine, bundled_engine.encoder
    engine.word_vectors()  # the feature words are embedded once per engine, on its first answer
    encoder.clear_query_cache()
    calls = encoder.model_calls

    reply, state = respond("upbeat workout songs", DialogueState(), engine)
    assert "1. " in reply and encoder.model_calls == calls + 1
    for message in SAME_TEXT_REFINEMENTS:
        reply, state = respond(message, state, engine)
        assert encoder.model_calls == calls + 1, f"{message!r} ran the model"

    # "calmer" changes what the request is about (its text now says calmer, not high energy): one call, once.
    reply, state = respond("calmer", state, engine)
    assert encoder.model_calls == calls + 2
    for message in ("no Pitbull", "only after 2015", "calmer"):
        reply, state = respond(message, state, engine)
    assert encoder.model_calls == calls + 2


def test_repeated_requests_and_replayed_histories_run_no_model(bundled_engine):
    engine, encoder = bundled_engine, bundled_engine.encoder
    turns = ["sad acoustic songs", "no Adele", "older ones", "more like #1", "show more"]
    session = ChatSession()
    for turn in turns:
        _, session = chat(turn, None, session, engine)
    calls = encoder.model_calls

    chat("Sad Acoustic  songs", None, ChatSession(), engine)  # the same request from someone else
    history = [{"role": "user", "content": turn} for turn in turns]
    reply, replayed = chat("why #2", history, ChatSession(), engine)  # an API caller's own history is replayed
    assert encoder.model_calls == calls
    assert replayed.dialogue.shown_ids == session.dialogue.shown_ids and "#2" in reply
