"""Ranking: how well each candidate fits a request (soft wishes, feature direction) and artist diversity (MMR).

Every weight lives in ``Settings``; the functions here take plain arrays and are tested on them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from assistant.catalogue_view import CatalogueView
from assistant.understanding import QueryIntent
from assistant.vocabulary import word_direction


def fit_bonus(intent: QueryIntent, view: CatalogueView, ids: np.ndarray, soft_weight: float, fit_weight: float):
    """What a request's wishes add to each candidate's cosine score.

    ``soft_weight`` x the share of soft (mood) wishes a song meets, plus ``fit_weight`` x how far it leans the way
    the request asks ("high energy": its energy percentile in the catalogue), so the most energetic of the
    high-energy songs rank first.
    """
    return soft_weight * soft_match_share(intent, view, ids) + fit_weight * feature_fit(intent, view, ids)


def soft_match_share(intent: QueryIntent, view: CatalogueView, ids: np.ndarray) -> np.ndarray:
    """Per candidate, the share of the request's soft wishes (feature words) it has."""
    soft = {f: w for c in intent.concepts if not c.constraint for f, w in c.wants.items() if f in view.words}
    if not soft or len(ids) == 0:
        return np.zeros(len(ids), dtype=np.float32)
    hits = sum(view.word_mask(f, w, ids).astype(np.float32) for f, w in soft.items())
    return hits / len(soft)


def feature_fit(intent: QueryIntent, view: CatalogueView, ids: np.ndarray) -> np.ndarray:
    """Per candidate, the weighted mean over the request's leanings of its percentile in the wanted direction.

    Each wanted feature of each concept leans up or down (its bucket words' side of the middle) with the concept's
    weight for it; an excluded concept ("nothing too sad") leans the other way.
    """
    leanings: dict[str, float] = {}
    for concept, sign in [*((c, 1) for c in intent.concepts), *((c, -1) for c in intent.excluded_concepts)]:
        for feature, words in concept.wants.items():
            direction = sign * word_direction(view.bucket_words, feature, words)
            if direction and feature in view.percentiles:
                leanings[feature] = leanings.get(feature, 0.0) + direction * concept.weight(feature)
    if not leanings or len(ids) == 0:
        return np.zeros(len(ids), dtype=np.float32)
    total = np.zeros(len(ids), dtype=np.float64)
    weight = 0.0
    for feature, lean in leanings.items():
        if lean == 0:
            continue
        percentile = np.nan_to_num(view.percentiles[feature][ids], nan=0.5)
        total += abs(lean) * (percentile if lean > 0 else 1.0 - percentile)
        weight += abs(lean)
    return (total / weight if weight else total).astype(np.float32)


def diverse_order(
    scores: np.ndarray,
    artists: Sequence[str] | np.ndarray,
    count: int,
    diverse: bool = True,
    max_per_artist: int = 2,
    relevance_weight: float = 0.85,
    pool_factor: int = 4,
    albums: np.ndarray | None = None,
    max_per_album: int = 2,
) -> np.ndarray:
    """Positions into ``scores`` of the ``count`` entries to show, best first.

    Without ``diverse`` this is the plain descending order (stable on ties). With it, entries are picked one by one
    by MMR: ``relevance_weight * relevance - (1 - relevance_weight) * similarity``, where relevance is the score
    rescaled to 0-1 over the leading candidates and similarity to the picks so far is 1 when the artist already has
    a song among them (artist names compared case-insensitively). An artist with ``max_per_artist`` picks is skipped
    while any other artist has a candidate left, so the cap only gives way when the candidates run out. Relevance
    is rescaled over the best ``pool_factor * count`` candidates (at least 40). With ``albums`` (an album code per
    entry, -1 where unknown) no album takes more than ``max_per_album`` picks either, on the same terms. The
    defaults are ``Settings``' ``diversity_max_per_artist``, ``diversity_relevance_weight``,
    ``diversity_pool_factor`` and ``diversity_max_per_album``.
    """
    scores = np.asarray(scores, dtype=np.float64)
    count = max(0, min(int(count), len(scores)))
    if not diverse or count == 0:
        return leading_order(scores, count)
    if len(artists) != len(scores):
        raise ValueError(f"{len(scores)} scores but {len(artists)} artists.")
    artists = artists if isinstance(artists, np.ndarray) else np.asarray(artists, dtype=object)
    pool_size = max(pool_factor * count, 40)
    # Picks only ever come from the leading candidates: once they hold `count` artists, an unpicked artist's best
    # song outranks (or ties ahead of) everything after them, so the rest of the catalogue never needs sorting.
    size = pool_size
    while True:
        order = leading_order(scores, size)
        keys = [str(a).casefold().strip() for a in artists[order]]
        if len(order) == len(scores) or len(set(keys)) >= count:
            break
        size *= 4
    _, codes = np.unique(np.array(keys, dtype=object), return_inverse=True)
    ranked = scores[order]
    pool = ranked[:pool_size]
    top, bottom = float(pool[0]), float(pool[-1])
    relevance = (ranked - bottom) / (top - bottom) if top > bottom else np.ones_like(ranked)
    picks_per_artist = np.zeros(codes.max() + 1, dtype=np.int64)
    album_codes = np.full(len(order), -1, dtype=np.int64) if albums is None else np.asarray(albums)[order]
    picks_per_album = np.zeros(int(album_codes.max(initial=-1)) + 2, dtype=np.int64)  # the last counts unknowns
    album_room = album_codes < 0
    available = np.ones(len(ranked), dtype=bool)
    chosen: list[int] = []
    while len(chosen) < count:
        picked = picks_per_artist[codes]
        candidates = available & (picked < max_per_artist)
        with_album_room = candidates & (album_room | (picks_per_album[album_codes] < max_per_album))
        if with_album_room.any():
            candidates = with_album_room
        if not candidates.any():
            candidates = available
        value = relevance_weight * relevance - (1.0 - relevance_weight) * (picked > 0)
        value[~candidates] = -np.inf
        best = int(np.argmax(value))
        chosen.append(best)
        available[best] = False
        picks_per_artist[codes[best]] += 1
        picks_per_album[album_codes[best]] += 1
    return order[np.asarray(chosen, dtype=np.int64)]


def best_of_each(scores: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Positions of the highest-scoring entry for each key (the first on a tie), in position order: one version
    of each song when ``keys`` are version keys."""
    scores = np.asarray(scores, dtype=np.float64)
    keys = np.asarray(keys)
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((-scores, keys))
    first = np.ones(len(order), dtype=bool)
    first[1:] = keys[order][1:] != keys[order][:-1]
    return np.sort(order[first])


def leading_order(scores: np.ndarray, count: int) -> np.ndarray:
    """The first ``count`` positions of ``np.argsort(-scores, kind="stable")``, without sorting all of them."""
    scores = np.asarray(scores, dtype=np.float64)
    count = max(0, min(int(count), len(scores)))
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    if count * 4 >= len(scores):
        return np.argsort(-scores, kind="stable")[:count]
    threshold = np.partition(-scores, count - 1)[count - 1]
    if np.isnan(threshold):
        return np.argsort(-scores, kind="stable")[:count]
    leading = np.flatnonzero(-scores <= threshold)  # every tie at the threshold, in position order
    return leading[np.argsort(-scores[leading], kind="stable")][:count]
