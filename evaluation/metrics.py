"""Ranking metrics on plain arrays: row numbers in ranked order, and per-song relevance from a Judgement."""

from __future__ import annotations

import numpy as np


def precision_at(ranked: np.ndarray, relevant: np.ndarray, k: int = 10) -> float:
    """Share of the first ``k`` slots holding a relevant song (empty slots count as misses)."""
    return float(relevant[ranked[:k]].sum()) / k


def ndcg_at(ranked: np.ndarray, gains: np.ndarray, k: int = 10) -> float:
    """Normalized discounted cumulative gain at ``k`` with graded gains, against the best possible order."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    top = gains[ranked[:k]]
    ideal = np.sort(gains)[::-1][:k]
    best = float((ideal * discounts[: len(ideal)]).sum())
    return float((top * discounts[: len(top)]).sum()) / best if best > 0 else 0.0


def recall_at(ranked: np.ndarray, relevant: np.ndarray, k: int = 50) -> float:
    """Relevant songs found in the first ``k``, over the most that ``k`` slots could hold (capped recall)."""
    possible = min(int(relevant.sum()), k)
    return float(relevant[ranked[:k]].sum()) / possible if possible else 0.0


def violations_at(ranked: np.ndarray, allowed: np.ndarray, k: int = 10) -> tuple[int, int]:
    """(results breaking a hard constraint, results checked) among the first ``k``."""
    top = ranked[:k]
    return int((~allowed[top]).sum()), len(top)


def distinct_at(ranked: np.ndarray, labels: np.ndarray, k: int = 10) -> int:
    """How many different labels (artists) the first ``k`` results carry."""
    return len(set(labels[ranked[:k]].tolist()))
