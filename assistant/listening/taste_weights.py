"""Plays as a taste: each matched song's weight from how long it was heard, how long ago, and how often skipped.

A play weighs the share of the song heard (its catalogue length, else ``history_full_listen_s``; one full listen
when the file has no listening time), halved every ``history_half_life_days`` before the newest play; a skip takes
``history_skip_weight`` off instead. The result is the clean interface the rest of Moodring reads: song ids with
weights (negative where skips outweigh listens).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from assistant.catalogue_view import CatalogueView
from index_builder.settings import Settings


@dataclass(frozen=True)
class SongWeight:
    """One song of a listener's taste."""

    song_id: str
    row: int
    weight: float
    heard: int
    """Plays not skipped."""
    skipped: int
    minutes: float
    """Minutes heard, where the files say (plays without a time count nothing here)."""

    def to_dict(self) -> dict[str, object]:
        return {
            "song_id": self.song_id,
            "weight": round(self.weight, 4),
            "heard": self.heard,
            "skipped": self.skipped,
            "minutes": round(self.minutes, 1),
        }


def play_weights(
    space: CatalogueView, matched: pd.DataFrame, settings: Settings, now: pd.Timestamp | None = None
) -> list[SongWeight]:
    """The weight of every matched song, heaviest first; ``now`` (default: the newest play) dates the decay."""
    plays = matched[matched["row"] >= 0]
    if plays.empty:
        return []
    rows = plays["row"].to_numpy(dtype=np.int64)
    durations = space.songs["duration_s"].to_numpy(dtype=float, na_value=np.nan)[rows]
    full_ms = np.where(np.isfinite(durations) & (durations > 0), durations, settings.history_full_listen_s) * 1000.0
    ms = plays["ms_played"].to_numpy(dtype=float)
    heard_share = np.where(np.isfinite(ms), np.minimum(ms / full_ms, 1.0), 1.0)
    times = pd.to_datetime(plays["played_at"], utc=True)
    newest = now if now is not None else times.max()
    if pd.isna(newest):
        decay = np.ones(len(plays))
    else:
        age_days = ((newest - times).dt.total_seconds() / 86_400.0).clip(lower=0).fillna(0.0).to_numpy()
        decay = 0.5 ** (age_days / settings.history_half_life_days)
    skipped = plays["skipped"].to_numpy(dtype=bool)
    counts = plays["plays"].to_numpy(dtype=float)
    each = np.where(skipped, -settings.history_skip_weight, heard_share) * decay * counts
    table = pd.DataFrame(
        {
            "row": rows,
            "weight": each,
            "heard": np.where(skipped, 0, counts),
            "skipped": np.where(skipped, counts, 0),
            "minutes": np.where(np.isfinite(ms), ms, 0.0) / 60_000.0,
        }
    ).groupby("row", sort=False)
    summed = table.sum()
    songs = [
        SongWeight(
            song_id=str(space.song_ids[row]),
            row=int(row),
            weight=float(values["weight"]),
            heard=int(values["heard"]),
            skipped=int(values["skipped"]),
            minutes=float(values["minutes"]),
        )
        for row, values in summed.iterrows()
    ]
    return sorted(songs, key=lambda s: (-s.weight, s.song_id))
