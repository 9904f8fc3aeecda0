"""A playlist of a stated length: songs taken by rank until their lengths add up to the target."""

from __future__ import annotations

import numpy as np

from assistant.understanding import describe_length


def take_length(durations: np.ndarray, target_s: float) -> np.ndarray:
    """Positions (in rank order) of the songs that fill ``target_s`` seconds: the best-ranked songs until the total
    reaches the target, the last one left out when that comes closer. The total is within one song's length of
    the target unless the songs run out first; a song of unknown length is passed over."""
    durations = np.asarray(durations, dtype=float)
    chosen: list[int] = []
    total = 0.0
    for position, seconds in enumerate(durations):
        if total >= target_s:
            break
        if np.isfinite(seconds) and seconds > 0:
            chosen.append(position)
            total += float(seconds)
    if len(chosen) > 1 and total - target_s > target_s - (total - durations[chosen[-1]]):
        chosen.pop()
    return np.asarray(chosen, dtype=np.int64)


def length_note(total_s: float, songs: int, target_s: float) -> str:
    """``Playlist: 46 min, 14 songs (asked for 45 min).``"""
    songs_text = f"{songs} song{'s' * (songs != 1)}"
    return f"Playlist: {describe_length(total_s)}, {songs_text} (asked for {describe_length(target_s)})."
