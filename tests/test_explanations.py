"""Explanations that tell the shown songs apart, and words that stay true in a catalogue of hits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from assistant.chat import ChatSession, chat
from assistant.explain import STANDOUT_WORDS, standouts

SCALES = {"tempo": 25.0, "energy": 0.15, "acousticness": 0.2, "popularity": 12.0}


def test_each_song_gets_what_sets_it_apart():
    values = {
        "tempo": [128.0, 100.0, 110.0, 112.0],
        "energy": [0.80, 0.81, 0.95, 0.79],
        "acousticness": [0.05, 0.04, 0.06, 0.70],
    }
    assert standouts(values, SCALES) == [
        "the fastest of these at 128 BPM",
        "the slowest of these at 100 BPM",
        "the most intense of these (energy 0.95)",
        "the most acoustic of these (acousticness 0.70)",
    ]


def test_a_song_leading_on_nothing_is_named_by_a_clear_second_place():
    values = {"tempo": [150.0, 120.0, 90.0], "energy": [0.5, 0.5, 0.5]}
    assert standouts(values, SCALES) == [
        "the fastest of these at 150 BPM",
        "the second fastest of these at 120 BPM",
        "the slowest of these at 90 BPM",
    ]


def test_two_songs_are_compared_as_two():
    values = {"tempo": [139.0, 110.0], "valence": [0.9, 0.3]}
    assert standouts(values, {**SCALES, "valence": 0.2}) == [
        "the happier-sounding of the two (mood 0.90)",
        "the sadder-sounding of the two (mood 0.30)",
    ]
    assert standouts({"tempo": [139.0, 110.0]}, SCALES) == [
        "the faster of the two at 139 BPM",
        "the slower of the two at 110 BPM",
    ]


def test_ties_missing_values_and_single_songs_claim_nothing():
    assert standouts({"tempo": [120.0, 121.0]}, SCALES) == [None, None]  # 1 BPM apart is no difference
    assert standouts({"tempo": [120.0, math.nan, 90.0, 100.0]}, SCALES) == [
        "the fastest of these at 120 BPM",
        None,
        "the slowest of these at 90 BPM",
        "the second slowest of these at 100 BPM",  # clearer from the fastest (20 BPM) than from the slowest (10)
    ]
    assert standouts({"tempo": [120.0]}, SCALES) == [None]
    assert standouts({}, SCALES) == []


def _claimed_place(explanation: str) -> tuple[str, int, float] | None:
    """(feature, place, direction: 1 highest, -1 lowest) of the standout an explanation claims, if any."""
    for feature, (high, low) in STANDOUT_WORDS.items():
        for word, sign in ((high, 1.0), (low, -1.0)):
            for place, ordinal in enumerate(("", "second ", "third ")):
                if word and f"the {ordinal}{word} of these" in explanation:
                    return feature, place, sign
    return None


@pytest.mark.parametrize("query", ["high energy dance pop", "calm acoustic songs for studying", "songs for a run"])
def test_search_explanations_tell_the_songs_apart_and_stay_true(bundled_engine, query):
    response = bundled_engine.search(query, 5)
    explanations = [r.explanation for r in response.results]
    assert len(set(explanations)) == len(explanations) == 5
    rows = [bundled_engine.catalogue.row_of(r.song_id) for r in response.results]
    shown = bundled_engine.catalogue.feature_values(rows)
    for position, explanation in enumerate(explanations):
        claim = _claimed_place(explanation)
        assert claim is not None, explanation
        feature, place, sign = claim
        column = sign * np.asarray(shown[feature])
        better = int((column[np.isfinite(column)] > column[position]).sum())
        assert better == place, f"{explanation}: {better} songs shown lead it on {feature}"


def test_high_energy_dance_pop_keeps_its_matches_and_adds_a_standout(bundled_engine):
    response = bundled_engine.search("high energy dance pop", 5)
    for result in response.results:
        assert result.explanation.startswith("matches: ")
        assert "dance pop genre" in result.explanation
        assert " of these " in result.explanation.split("; ")[-1]


def test_popularity_words_say_they_are_relative_to_this_catalogue(bundled_engine):
    response = bundled_engine.search("hidden gems for a road trip", 10)
    said = " | ".join(r.explanation for r in response.results)
    assert "less popular than most in this catalogue" in said
    assert "lesser-known" not in said
    assert any("lesser-known" in r.matched for r in response.results)  # the data keeps the bucket word

    _, session = chat("hidden gems for a road trip", None, ChatSession(), bundled_engine, 5)
    why, _ = chat("why #1", None, session, bundled_engine)
    assert "**lesser-known** is relative to this catalogue: less popular than most in this catalogue" in why


def test_every_relative_word_has_a_true_wording(bundled_engine):
    catalogue = bundled_engine.catalogue
    assert catalogue.relative_features == {"popularity"}
    words = catalogue.scheme.features["popularity"].words
    shown = [catalogue.shown_word("popularity", word) for word in words]
    assert all("in this catalogue" in phrase for phrase in shown) and len(set(shown)) == len(words)
    assert catalogue.shown_word("energy", "high energy") == "high energy"
