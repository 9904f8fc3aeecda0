"""Merging a follow-up into the request it changes: "calmer" after "workout songs", "no Kesha", "from 2015"."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from assistant.understanding import QueryIntent, semantic_text
from assistant.vocabulary import tokens


def refine(
    base: QueryIntent, change: QueryIntent, filler: Collection[str] = frozenset()
) -> tuple[QueryIntent, list[str]]:
    """``base`` changed by a follow-up, and the labels of what the change dropped; ``filler`` are the follow-up
    words that say how to change the request (``show``, ``more``), which never join the embedded text.

    New wishes replace the earlier ones they contradict (``calmer`` drops ``high energy``), a new genre or artist
    replaces the earlier ones, exclusions add up, and a year range narrows the earlier one unless the two do not
    overlap, in which case the new one wins.
    """
    dropped = [
        c
        for c in base.concepts
        if c in change.excluded_concepts or any(c.contradicts(n) for n in change.concepts if n != c)
    ]
    concepts = [c for c in base.concepts if c not in dropped and c not in change.concepts] + change.concepts
    excluded_concepts = _union(
        [c for c in base.excluded_concepts if c not in change.concepts], change.excluded_concepts
    )
    genres = change.genres or [g for g in base.genres if g not in change.excluded_genres]
    artists = change.artists or [a for a in base.artists if a not in change.excluded_artists]
    dropped_names = [g for g in base.genres if g not in genres] + [a for a in base.artists if a not in artists]
    similar = change.similar_artists or [a for a in base.similar_artists if a not in change.excluded_artists]
    year_min, year_max = _combine_years(base.year_min, base.year_max, change.year_min, change.year_max)
    # Words of dropped hard wishes, genres and artists leave the embedded text; a dropped mood's words stay as
    # context ("workout" still says what the songs are for once "calmer" has replaced its energy).
    gone = [p for c in dropped if c.constraint for p in c.phrases] + dropped_names
    gone += [*change.excluded_artists, *change.excluded_genres]
    content = without_phrases(tokens(base.content_text), gone)
    content += [w for w in tokens(change.content_text) if w not in filler and w not in content]
    merged = QueryIntent(
        text="; ".join(t for t in (base.text, change.text) if t),
        content_text=" ".join(content),
        concepts=concepts,
        excluded_concepts=excluded_concepts,
        genres=list(genres),
        excluded_genres=_union([g for g in base.excluded_genres if g not in change.genres], change.excluded_genres),
        artists=list(artists),
        excluded_artists=_union([a for a in base.excluded_artists if a not in change.artists], change.excluded_artists),
        similar_artists=list(similar),
        year_min=year_min,
        year_max=year_max,
        ranges={**base.ranges, **change.ranges},
        count=change.count if change.count is not None else base.count,
        corrections=list(change.corrections),
        length_s=change.length_s if change.length_s is not None else base.length_s,
        order=change.order or base.order,
        clean=base.clean or change.clean,
        all_versions=base.all_versions or change.all_versions,
    )
    merged.semantic_text = semantic_text(merged.content_text, merged.concepts)
    return merged, [c.label for c in dropped] + dropped_names


def _combine_years(
    low: int | None, high: int | None, new_low: int | None, new_high: int | None
) -> tuple[int | None, int | None]:
    if new_low is None and new_high is None:
        return low, high
    narrowed_low = new_low if low is None else (low if new_low is None else max(low, new_low))
    narrowed_high = new_high if high is None else (high if new_high is None else min(high, new_high))
    if narrowed_low is not None and narrowed_high is not None and narrowed_low > narrowed_high:
        return new_low, new_high
    return narrowed_low, narrowed_high


def _union(first: Iterable, second: Iterable) -> list:
    merged = list(first)
    merged += [item for item in second if item not in merged]
    return merged


def without_phrases(words: list[str], phrases: Iterable[str]) -> list[str]:
    """``words`` with every occurrence of each phrase (as a token sequence) cut out."""
    for phrase in phrases:
        key = tokens(phrase)
        if not key:
            continue
        position = 0
        while position <= len(words) - len(key):
            if words[position : position + len(key)] == key:
                words = words[:position] + words[position + len(key) :]
            else:
                position += 1
    return words
