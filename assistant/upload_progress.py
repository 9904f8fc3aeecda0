"""The page's progress bar while an uploaded catalogue is embedded: songs done of all, and the time left."""

from __future__ import annotations

import time
from collections.abc import Callable

Report = Callable[..., object]
"""A ``gr.Progress``: called with ``(done, total)``, ``desc`` and ``unit``."""


class EmbeddingProgress:
    """``on_embedded(done, total)`` for ``build_index``, shown through ``report`` with an estimate of the time left
    from the rate so far (the first batch also pays for loading the model, so early estimates run long)."""

    def __init__(self, report: Report, clock: Callable[[], float] = time.monotonic) -> None:
        self.report = report
        self.clock = clock
        self.started = clock()

    def __call__(self, done: int, total: int) -> None:
        self.report((done, total), desc=f"Embedding your catalogue: {self.time_left(done, total)}", unit="songs")

    def time_left(self, done: int, total: int) -> str:
        """``about 2 min 10 s left``, from the rate so far; ``estimating the time left`` before the first batch."""
        elapsed = self.clock() - self.started
        if done <= 0 or elapsed <= 0:
            return "estimating the time left"
        return f"about {duration_text(elapsed * (total - done) / done)} left"


def duration_text(seconds: float) -> str:
    """``45 s``, ``3 min 05 s``."""
    whole = max(0, round(seconds))
    minutes, rest = divmod(whole, 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"
