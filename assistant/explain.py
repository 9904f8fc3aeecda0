"""Why a song is on a list, from the same bucket words that built its description: the short line under each
result and the long answer to "why #3"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from assistant.formatting import escape
from assistant.results import SearchResult
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


def explain_in_full(
    result: SearchResult,
    intent: QueryIntent,
    song_words: Mapping[str, str],
    soft_match_weight: float,
    feature_fit_weight: float,
    like_labels: Sequence[str] = (),
    relaxed: str | None = None,
) -> str:
    """Everything about why a shown song is there (Markdown): each asked-for word it has or lacks, the conditions
    it meets, all its words and its description."""
    year = f", {result.year}" if result.year else ""
    lines = [
        f"**#{result.rank} {escape(result.title)}** by {escape(result.artist)} ({escape(result.genre)}{year})",
        "",
        f"Score {result.score:.3f}: how close its description is to your request (cosine similarity), plus up to "
        f"{soft_match_weight:g} for the mood words it has and up to {feature_fit_weight:g} for how far it leans the "
        "way you asked.",
        "",
    ]
    for concept in intent.concepts:
        kind = "must have" if concept.constraint else "leaning towards"
        checks = []
        for feature, wanted in concept.wants.items():
            has = song_words.get(feature)
            if has is None:
                checks.append(f"no {feature.replace('_', ' ')} in this catalogue")
            elif has in wanted:
                checks.append(f"✓ {has}")
            else:
                checks.append(f"✗ {has} (wanted {' or '.join(sorted(wanted))})")
        lines.append(f"- **{escape(concept.label)}** ({kind}): {escape('; '.join(checks))}")
    for concept in intent.excluded_concepts:
        clashes = [song_words[f] for f, unwanted in concept.wants.items() if song_words.get(f) in unwanted]
        verdict = "✗ " + ", ".join(clashes) if clashes else "✓ avoided"
        lines.append(f"- **not {escape(concept.label)}**: {escape(verdict)}")
    conditions = _conditions(result, intent, like_labels, relaxed)
    if conditions:
        lines.append(f"- **Conditions:** {escape('; '.join(conditions))}")
    if song_words:
        lines.append(f"- **All its words:** {escape(', '.join(song_words.values()))}")
    description = " ".join(result.description.split())
    lines += ["", f"> {escape(description)}"]
    return "\n".join(lines)


def _conditions(
    result: SearchResult, intent: QueryIntent, like_labels: Sequence[str], relaxed: str | None
) -> list[str]:
    conditions = []
    years = describe_years(intent.year_min, intent.year_max)
    if years:
        conditions.append(f"released {result.year if result.year is not None else 'in an unknown year'} ({years})")
    if intent.genres:
        conditions.append(f"genre {result.genre} ({' or '.join(intent.genres)})")
    if intent.excluded_genres:
        conditions.append(f"not {', '.join(intent.excluded_genres)}")
    if intent.artists:
        conditions.append(f"by {result.artist}")
    if intent.excluded_artists:
        conditions.append(f"not by {', '.join(intent.excluded_artists)}")
    if like_labels:
        conditions.append(f"sounds like {', '.join(like_labels)}")
    if relaxed:
        conditions.append(f"dropped to find anything: {relaxed}")
    return conditions


def _present(value: object) -> bool:
    return value is not None and not pd.isna(value)  # type: ignore[arg-type]
