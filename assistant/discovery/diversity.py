"""Artist diversity: maximal marginal relevance (MMR) re-ranking with a cap on songs per artist."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MAX_PER_ARTIST = 2
"""At most this many songs by one artist in an answer, while other artists' songs are left to fill it."""
RELEVANCE_WEIGHT = 0.85
"""MMR's lambda: the share of a candidate's value from its relevance; the rest is a penalty for repeating an artist."""
POOL_FACTOR = 4
"""Relevance is rescaled to 0-1 over the best ``POOL_FACTOR * count`` candidates (at least 40)."""


def diverse_order(
    scores: np.ndarray,
    artists: Sequence[str] | np.ndarray,
    count: int,
    diverse: bool = True,
    max_per_artist: int = MAX_PER_ARTIST,
    relevance_weight: float = RELEVANCE_WEIGHT,
) -> np.ndarray:
    """Positions into ``scores`` of the ``count`` entries to show, best first.

    Without ``diverse`` this is the plain descending order (stable on ties). With it, entries are picked one by one
    by MMR: ``relevance_weight * relevance - (1 - relevance_weight) * similarity``, where relevance is the score
    rescaled to 0-1 over the leading candidates and similarity to the picks so far is 1 when the artist already has
    a song among them (artist names compared case-insensitively). An artist with ``max_per_artist`` picks is skipped
    while any other artist has a candidate left, so the cap only gives way when the candidates run out.
    """
    scores = np.asarray(scores, dtype=np.float64)
    count = max(0, min(int(count), len(scores)))
    if not diverse or count == 0:
        return leading_order(scores, count)
    if len(artists) != len(scores):
        raise ValueError(f"{len(scores)} scores but {len(artists)} artists.")
    artists = artists if isinstance(artists, np.ndarray) else np.asarray(artists, dtype=object)
    pool_size = max(POOL_FACTOR * count, 40)
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
    available = np.ones(len(ranked), dtype=bool)
    chosen: list[int] = []
    while len(chosen) < count:
        picked = picks_per_artist[codes]
        candidates = available & (picked < max_per_artist)
        if not candidates.any():
            candidates = available
        value = relevance_weight * relevance - (1.0 - relevance_weight) * (picked > 0)
        value[~candidates] = -np.inf
        best = int(np.argmax(value))
        chosen.append(best)
        available[best] = False
        picks_per_artist[codes[best]] += 1
    return order[np.asarray(chosen, dtype=np.int64)]


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
