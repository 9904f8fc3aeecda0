"""Why a song is on a list, from the same bucket words that built its description: the short line under each
result and the long answer to "why #3"."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from assistant.escaping import escape_markdown
from assistant.formatting import format_value
from assistant.results import SearchResult
from assistant.understanding import QueryIntent, describe_years

ShownWord = Callable[[str, str], str]
"""``(feature, bucket word) -> the words an explanation shows`` (``CatalogueView.shown_word``)."""


def explain(
    song: Mapping[str, object],
    song_words: Mapping[str, str],
    intent: QueryIntent,
    nearest_words: list[str] | None = None,
    standout: str | None = None,
    shown_word: ShownWord | None = None,
) -> tuple[str, tuple[str, ...]]:
    """``("matches: high energy, very danceable; dance pop; released 2016; the fastest of these at 128 BPM",
    matched words)``.

    ``nearest_words`` are the song's own bucket words closest to the request in embedding space, used when
    the request names no feature, genre, artist or year that can be checked directly. ``standout`` (from
    ``standouts``) says what sets the song apart from the others shown and ends the line. ``shown_word`` words a
    bucket word for people (words relative to the catalogue say so); the matched words returned stay the bucket
    words.
    """
    show = shown_word or (lambda _feature, word: word)
    wanted = intent.wanted_words()
    matched = [song_words[f] for f, words in wanted.items() if song_words.get(f) in words]
    differs = [show(f, song_words[f]) for f, words in wanted.items() if f in song_words and song_words[f] not in words]
    parts = []
    if matched:
        parts.append(
            "matches: " + ", ".join(show(f, song_words[f]) for f, w in wanted.items() if song_words.get(f) in w)
        )
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
        feature_of = {word: feature for feature, word in song_words.items()}
        parts.append("closest to your words: " + ", ".join(show(feature_of.get(w, ""), w) for w in nearest_words))
        matched = list(nearest_words)
    if differs:
        parts.append("though " + ", ".join(differs))
    if not parts:
        parts.append("closest overall description to your request")
    if standout:
        parts.append(standout)
    return "; ".join(parts), tuple(matched)


def liked_reason(title: str) -> str:
    """The part of an explanation that names the liked song a result was drawn towards."""
    return f"because you liked {title}"


STANDOUT_WORDS: dict[str, tuple[str | None, str | None]] = {
    "tempo": ("fastest", "slowest"),
    "energy": ("most intense", "calmest"),
    "danceability": ("most danceable", "least danceable"),
    "valence": ("happiest-sounding", "saddest-sounding"),
    "loudness": ("loudest", "quietest"),
    "acousticness": ("most acoustic", "least acoustic"),
    "speechiness": ("most rap or speech", None),
    "instrumentalness": ("most instrumental", None),
    "liveness": ("most live-sounding", None),
    "duration_s": ("longest", "shortest"),
    "popularity": ("most popular", "least popular"),
}
"""How a song that leads the list on a feature is described (highest, lowest); None: not worth saying. In order of
preference when two features set a song apart equally."""
_UNITS_IN_VALUE = ("tempo", "loudness", "duration_s")
"""Features whose formatted value carries its unit: ``at 128 BPM``; the others name the feature: ``(energy 0.95)``."""
_ORDINALS = ("", "second ", "third ")


def standouts(
    values: Mapping[str, Sequence[float]], scales: Mapping[str, float], min_gap: float = 0.2
) -> list[str | None]:
    """What sets each shown song apart from the others shown: ``"the fastest of these at 128 BPM"``.

    ``values`` holds each feature's values for the shown songs, in the order shown (NaN where missing); ``scales``
    each feature's spread in the catalogue (its standard deviation), so that a gap is judged on the feature's own
    scale. A song that leads the others on a feature (highest or lowest, clear of the next by at least ``min_gap``
    of that spread) is described by the feature where it leads by the widest gap; one that leads on none, by one
    where it is clearly second (or third). None where nothing sets the song apart, and for a single song.
    """
    count = len(next(iter(values.values()), ()))
    best: list[tuple[tuple[int, float, int], str] | None] = [None] * count
    if count < 2:
        return [None] * count
    for order, (feature, (high, low)) in enumerate(STANDOUT_WORDS.items()):
        scale = float(scales.get(feature) or 0.0)
        if feature not in values or scale <= 0:
            continue
        column = np.asarray(values[feature], dtype=float)
        for word, sign in ((high, 1.0), (low, -1.0)):
            if word is None:
                continue
            for song, place, gap in _leaders(sign * column / scale, min_gap):
                rank = (place, -round(gap, 6), order)  # rounded: equal gaps fall to the order above
                if best[song] is None or rank < best[song][0]:  # type: ignore[index]
                    best[song] = (rank, _standout_phrase(feature, word, place, float(column[song]), count))
    return [None if entry is None else entry[1] for entry in best]


def _leaders(column: np.ndarray, min_gap: float) -> list[tuple[int, int, float]]:
    """``(song, place, gap)`` for the songs in first, second and third place on ``column`` (highest first) while
    each is clear of the next by ``min_gap``; ``gap`` is that distance. Missing values take no place."""
    known = np.flatnonzero(np.isfinite(column))
    ranked = known[np.argsort(-column[known], kind="stable")]
    leaders = []
    for place in range(min(len(_ORDINALS), len(ranked) - 1)):
        gap = float(column[ranked[place]] - column[ranked[place + 1]])
        if gap < min_gap:
            break  # a tie: no one here leads, and no one after comes clearly second
        leaders.append((int(ranked[place]), place, gap))
    return leaders


def _standout_phrase(feature: str, word: str, place: int, value: float, count: int) -> str:
    shown = format_value(feature, value)
    name = {"valence": "mood"}.get(feature, feature)
    amount = f"at {shown}" if feature in _UNITS_IN_VALUE else f"({name} {shown})"
    if count == 2:
        return f"the {_comparative(word)} of the two {amount}"
    return f"the {_ORDINALS[place]}{word} of these {amount}"


def _comparative(superlative: str) -> str:
    """``fastest`` -> ``faster``, ``most danceable`` -> ``more danceable``, ``happiest-sounding`` ->
    ``happier-sounding``: how one of two songs is set apart."""
    head, sep, rest = superlative.partition(" ")
    head, dash, tail = head.partition("-")
    head = {"most": "more", "least": "less"}.get(head, head[:-3] + "er" if head.endswith("est") else head)
    return head + dash + tail + sep + rest


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
    shown_word: ShownWord | None = None,
) -> str:
    """Everything about why a shown song is there (Markdown): each asked-for word it has or lacks, the conditions
    it meets, all its words and its description. With ``shown_word``, the words that are relative to this catalogue
    are said to be, once."""
    show = shown_word or (lambda _feature, word: word)
    year = f", {result.year}" if result.year else ""
    lines = [
        f"**#{result.rank} {escape_markdown(result.title)}** by {escape_markdown(result.artist)} "
        f"({escape_markdown(result.genre)}{year})",
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
                checks.append(f"✓ {show(feature, has)}")
            else:
                checks.append(f"✗ {show(feature, has)} (wanted {' or '.join(sorted(wanted))})")
        lines.append(f"- **{escape_markdown(concept.label)}** ({kind}): {escape_markdown('; '.join(checks))}")
    for concept in intent.excluded_concepts:
        clashes = [song_words[f] for f, unwanted in concept.wants.items() if song_words.get(f) in unwanted]
        verdict = "✗ " + ", ".join(clashes) if clashes else "✓ avoided"
        lines.append(f"- **not {escape_markdown(concept.label)}**: {escape_markdown(verdict)}")
    conditions = _conditions(result, intent, like_labels, relaxed)
    if conditions:
        lines.append(f"- **Conditions:** {escape_markdown('; '.join(conditions))}")
    if song_words:
        lines.append(f"- **All its words:** {escape_markdown(', '.join(song_words.values()))}")
        for feature, word in song_words.items():
            if show(feature, word) != word:
                said = escape_markdown(show(feature, word))
                lines.append(f"- **{escape_markdown(word)}** is relative to this catalogue: {said}")
    description = " ".join(result.description.split())
    lines += ["", f"> {escape_markdown(description)}"]
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
