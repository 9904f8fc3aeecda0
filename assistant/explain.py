"""Explain a result from the same bucket words that built its description, against what the request asked."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from assistant.understanding import QueryIntent, describe_years


def explain(
    song: Mapping[str, object],
    song_words: Mapping[str, str],
    intent: QueryIntent,
    nearest_words: list[str] | None = None,
) -> tuple[str, tuple[str, ...]]:
    """``("matches: high energy, very danceable; dance pop; released 2016", matched words)``.

    ``nearest_words`` are the song's own bucket words closest to the request in embedding space, used when
    the request names no feature, genre, artist or year that can be checked directly.
    """
    wanted = intent.wanted_words()
    matched = [song_words[f] for f, words in wanted.items() if song_words.get(f) in words]
    differs = [song_words[f] for f, words in wanted.items() if f in song_words and song_words[f] not in words]
    parts = []
    if matched:
        parts.append("matches: " + ", ".join(matched))
    genre = str(song.get("genre") or "")
    if intent.genres and genre:
        parts.append(f"{genre} genre")
    artist = str(song.get("artist") or "")
    if intent.artists or intent.similar_artists:
        parts.append(f"by {artist}")
    year = song.get("year")
    if describe_years(intent.year_min, intent.year_max) and _present(year):
        parts.append(f"released {int(year)}")  # type: ignore[call-overload]
    if not parts and not differs and nearest_words:
        parts.append("closest to your words: " + ", ".join(nearest_words))
        matched = list(nearest_words)
    if differs:
        parts.append("though " + ", ".join(differs))
    if not parts:
        parts.append("closest overall description to your request")
    return "; ".join(parts), tuple(matched)


def nearest_song_words(
    query_vector: np.ndarray, song_words: Mapping[str, str], word_vectors: Mapping[str, np.ndarray], limit: int = 2
) -> list[str]:
    """The song's bucket words most similar to the query (cosine on normalized vectors), best first."""
    scored = [(float(np.dot(query_vector, word_vectors[w])), w) for w in song_words.values() if w in word_vectors]
    scored.sort(reverse=True)
    return [word for _, word in scored[:limit]]


def _present(value: object) -> bool:
    return value is not None and not pd.isna(value)  # type: ignore[arg-type]
