"""Words read in context (issue 13): each phrasing in context_readings.toml against ``engine.understand``.

Entries marked ``known_failing`` are expected to fail their assertion, strictly: the day one passes, its mark must go
(and an error of another kind, such as a renamed attribute, is not taken for the expected failure).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.rules import contains_phrase

READINGS_PATH = Path(__file__).resolve().parent / "context_readings.toml"
KEYS = {
    "text",
    "genres",
    "excluded_genres",
    "artists",
    "excluded_artists",
    "year_min",
    "year_max",
    "no_years",
    "leans",
    "no_corrections",
    "known_failing",
}
LEANS = {"up": 1, "down": -1, "none": 0}


def load_readings(path: Path = READINGS_PATH) -> list[dict]:
    """The table, checked for keys and lean words so that a typo in it cannot pass silently."""
    entries = tomllib.loads(path.read_text(encoding="utf-8"))["readings"]
    for entry in entries:
        unknown = set(entry) - KEYS
        assert not unknown, f"{entry.get('text')!r} has unknown keys {sorted(unknown)}"
        assert set(entry.get("leans", {}).values()) <= set(LEANS), f"{entry['text']!r} leans must be up/down/none"
        assert set(entry) - {"text", "known_failing"}, f"{entry['text']!r} expects nothing"
    return entries


def lean(intent, feature: str, bucket_words: Sequence[str]) -> int:
    """+1, -1 or 0: the mean position of the wanted words against the middle of the feature's words (low to high).

    A request that wants no word of the feature but excludes some leans away from the excluded ones.
    """
    middle = (len(bucket_words) - 1) / 2
    for words, sign in ((intent.wanted_words().get(feature), 1), (intent.excluded_words().get(feature), -1)):
        positions = [bucket_words.index(w) for w in (words or ()) if w in bucket_words]
        if positions:
            return sign * int(np.sign(np.mean(positions) - middle))
    return 0


def reading_problems(
    entry: Mapping, intent, songs: pd.DataFrame, bucket_words: Mapping[str, Sequence[str]]
) -> list[str]:
    """Every way the intent differs from the expected reading (empty when it reads the text as expected)."""
    problems = []
    for key in ("genres", "excluded_genres"):
        if key in entry:
            expected, got = list(entry[key]), list(getattr(intent, key))
            if bool(expected) != bool(got) or not np.array_equal(_genre_mask(songs, expected), _genre_mask(songs, got)):
                problems.append(f"{key}: expected {expected}, read {got}")
    for key in ("artists", "excluded_artists"):
        if key in entry:
            expected, got = {a.casefold() for a in entry[key]}, {a.casefold() for a in getattr(intent, key)}
            if expected != got:
                problems.append(f"{key}: expected {sorted(expected)}, read {sorted(got)}")
    for key in ("year_min", "year_max"):
        if key in entry and getattr(intent, key) != entry[key]:
            problems.append(f"{key}: expected {entry[key]}, read {getattr(intent, key)}")
    if entry.get("no_years") and (intent.year_min is not None or intent.year_max is not None):
        problems.append(f"years: expected none, read {intent.year_min}-{intent.year_max}")
    for feature, direction in entry.get("leans", {}).items():
        got = lean(intent, feature, bucket_words[feature])
        if got != LEANS[direction]:
            read = {1: "up", -1: "down", 0: "none"}[got]
            problems.append(f"{feature}: expected to lean {direction}, leans {read}")
    if entry.get("no_corrections") and intent.corrections:
        problems.append(f"corrections: expected none, made {intent.corrections}")
    return problems


def _genre_mask(songs: pd.DataFrame, phrases: Sequence[str]) -> np.ndarray:
    return np.array([any(contains_phrase(g, p) for p in phrases) for g in songs["genre"].fillna("")], dtype=bool)


def _param(entry: dict):
    marks = (
        [pytest.mark.xfail(raises=AssertionError, strict=True, reason="issue 13")] if entry.get("known_failing") else []
    )
    return pytest.param(entry, id=entry["text"], marks=marks)


READINGS = load_readings()


def test_the_table_is_large_and_names_real_genres(bundled_engine):
    assert len(READINGS) >= 60
    assert len({e["text"] for e in READINGS}) == len(READINGS)
    songs = bundled_engine.songs
    for entry in READINGS:
        for phrase in [*entry.get("genres", []), *entry.get("excluded_genres", [])]:
            assert _genre_mask(songs, [phrase]).any(), f"{entry['text']!r}: no genre {phrase!r} in the catalogue"
        for name in [*entry.get("artists", []), *entry.get("excluded_artists", [])]:
            assert any(contains_phrase(a, name) for a in songs["artist"]), f"{entry['text']!r}: no artist {name!r}"


@pytest.mark.parametrize("entry", [_param(e) for e in READINGS])
def test_reading_in_context(entry, bundled_engine):
    intent = bundled_engine.understand(entry["text"])
    words = {name: list(b.words) for name, b in bundled_engine.index.scheme.features.items()}
    problems = reading_problems(entry, intent, bundled_engine.songs, words)
    assert not problems, f"{entry['text']!r}: " + "; ".join(problems)
