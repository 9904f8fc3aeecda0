"""Playlist order: a ranked list rearranged into a build-up, a wind-down, an arc or a smooth flow.

Each function takes plain arrays (the songs' energy and tempo, in list order) and returns positions into them;
a missing value (NaN) counts as the middle of the list.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

ORDERS = ("build_up", "wind_down", "arc", "smooth")
"""The orders ``order_positions`` knows; None (or "rank") keeps the ranking."""


def intensity(energy: np.ndarray, tempo: np.ndarray) -> np.ndarray:
    """Each song's intensity within the list, 0-1: the mean of its energy and tempo ranks among these songs (ties
    share their mean rank, so the result does not depend on the list's order; a feature missing for a song counts
    as 0.5; a feature missing for all of them is left out)."""
    parts = []
    for values in (np.asarray(energy, dtype=float), np.asarray(tempo, dtype=float)):
        known = np.isfinite(values)
        if not known.any():
            continue
        ranks = np.full(len(values), 0.5)
        if known.sum() > 1:
            ranks[known] = (rankdata(values[known]) - 1) / (known.sum() - 1)
        parts.append(ranks)
    return np.mean(parts, axis=0) if parts else np.full(len(np.asarray(energy)), 0.5)


def shaped_positions(levels: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """Positions that lay ``levels`` along ``shape``: the place with the i-th lowest shape value gets the song
    with the i-th lowest level (ties keep list order)."""
    songs = np.argsort(np.asarray(levels, dtype=float), kind="stable")
    places = np.argsort(np.asarray(shape, dtype=float), kind="stable")
    positions = np.empty(len(songs), dtype=np.int64)
    positions[places] = songs
    return positions


def arc_shape(count: int, peak: float) -> np.ndarray:
    """A rise to ``peak`` (0-1 of the way through) and a fall after it, for ``count`` places."""
    if count == 0:
        return np.zeros(0)
    at = np.linspace(0.0, 1.0, count)
    peak = min(max(float(peak), 0.0), 1.0)
    rising = at / peak if peak > 0 else np.ones(count)
    falling = (1.0 - at) / (1.0 - peak) if peak < 1 else np.ones(count)
    return np.where(at <= peak, rising, falling)


def smooth_positions(energy: np.ndarray, tempo: np.ndarray) -> np.ndarray:
    """A path through the songs with small steps: from the calmest, always on to the nearest song not yet played
    (distance over energy and tempo, each scaled by its spread in the list)."""
    features = []
    for values in (np.asarray(energy, dtype=float), np.asarray(tempo, dtype=float)):
        if np.isfinite(values).any():
            filled = np.where(np.isfinite(values), values, np.nanmedian(values))
            spread = float(filled.std()) or 1.0
            features.append((filled - filled.mean()) / spread)
    count = len(np.asarray(energy))
    if not features or count == 0:
        return np.arange(count, dtype=np.int64)
    points = np.stack(features, axis=1)
    current = int(np.argmin(intensity(energy, tempo)))
    path = [current]
    left = np.ones(count, dtype=bool)
    left[current] = False
    while left.any():
        distance = np.linalg.norm(points - points[current], axis=1)
        distance[~left] = np.inf
        current = int(np.argmin(distance))
        path.append(current)
        left[current] = False
    return np.asarray(path, dtype=np.int64)


def order_positions(order: str | None, energy: np.ndarray, tempo: np.ndarray, peak: float = 0.6) -> np.ndarray:
    """Positions into the list for ``order``: build_up (calm to intense), wind_down (intense to calm), arc (a
    warm-up to a peak ``peak`` of the way through, then a cool-down), smooth (small steps); None keeps the list."""
    count = len(np.asarray(energy))
    if order is None or order == "rank":
        return np.arange(count, dtype=np.int64)
    if order == "smooth":
        return smooth_positions(energy, tempo)
    levels = intensity(energy, tempo)
    if order == "build_up":
        return shaped_positions(levels, np.arange(count))
    if order == "wind_down":
        return shaped_positions(levels, -np.arange(count))
    if order == "arc":
        return shaped_positions(levels, arc_shape(count, peak))
    raise ValueError(f"Unknown playlist order {order!r}; choose one of {', '.join(ORDERS)}.")
