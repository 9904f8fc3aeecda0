"""The open vocabulary: words no phrase covers read by the real model, in the request's one model call, cached."""

from __future__ import annotations

import numpy as np

from assistant.dialogue import DialogueState, respond
from assistant.open_reading import CACHE_PREFIX, ConceptReader


def test_words_no_phrase_covers_are_read_as_the_nearest_concept(bundled_engine):
    intent = bundled_engine.understand("mopping the kitchen floor")
    assert [c.name for c in intent.concepts] == ["chores"]
    assert not intent.concepts[0].constraint  # a reading steers the ranking, it never filters
    assert "→ chores: " in intent.describe()
    lazy = bundled_engine.understand("something for a lazy afternoon in the park")
    assert "chill" in [c.name for c in lazy.concepts] and "lazy afternoon → chill" in lazy.describe()


def test_words_that_mean_no_mood_add_nothing(bundled_engine):
    for text in ("banana table computer", "songs about my cat", "blue suede shoes"):
        assert bundled_engine.understand(text).concepts == [], text


def test_a_reading_gives_way_to_what_the_request_says(bundled_engine):
    intent = bundled_engine.understand("calm songs, mopping the kitchen")  # mopping reads as chores: high energy
    names = [c.name for c in intent.concepts]
    assert names[0] == "low_energy"
    energy = [set(c.wants["energy"]) for c in intent.concepts if "energy" in c.wants]
    assert energy and all(words & {"low energy", "moderate energy"} for words in energy)  # calm decides energy


def test_the_more_direct_word_decides_a_feature(bundled_engine):
    lazy = bundled_engine.understand("folding laundry on a lazy afternoon")  # laundry: lively housework
    assert all(c.wants["energy"] & {"low energy", "moderate energy"} for c in lazy.concepts if "energy" in c.wants)
    assert "chores" in [c.name for c in lazy.concepts]  # still happy housework, only not loud
    party = bundled_engine.understand("a party at midnight")  # midnight (a setting) gives way to the party
    assert {"high energy", "very high energy"} & set().union(*(c.wants.get("energy", set()) for c in party.concepts))


def test_a_new_request_with_uncovered_words_costs_one_model_call(bundled_engine):
    engine, encoder = bundled_engine, bundled_engine.encoder
    engine.warm_up()
    encoder.clear_query_cache()
    calls = encoder.model_calls
    reply, _ = respond("hanging out on a rooftop with friends at dusk", DialogueState(), engine)
    assert "1. " in reply and encoder.model_calls == calls + 1
    respond("hanging out on a rooftop with friends at dusk", DialogueState(), engine)  # a repeat runs no model
    assert encoder.model_calls == calls + 1


def test_concept_vectors_are_cached_beside_the_model_and_checked(bundled_engine, tmp_path):
    engine, encoder = bundled_engine, bundled_engine.encoder
    built = ConceptReader.build(engine.vocabulary, encoder, tmp_path, 0.7)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 2 and all(name.startswith(CACHE_PREFIX) for name in files)
    calls = encoder.model_calls
    again = ConceptReader.build(engine.vocabulary, encoder, tmp_path, 0.7)
    assert encoder.model_calls == calls and np.array_equal(again.vectors, built.vectors)
    damaged = next(tmp_path.glob("*.npy"))
    vectors = np.load(damaged)
    vectors[0, 0] = np.nan
    np.save(damaged, vectors)  # a changed file: its checksum no longer matches, so it is embedded again
    rebuilt = ConceptReader.build(engine.vocabulary, encoder, tmp_path, 0.7)
    assert encoder.model_calls == calls + 1 and np.isfinite(rebuilt.vectors).all()
