"""Stopwatches that ride inside a real search: proxies for the encoder and the FAISS index, and summary numbers."""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np


class TimedEncoder:
    """Wraps an Encoder and adds up the seconds spent embedding requests (``encode_query``, and ``encode_queries``,
    which embeds a request with the words the open reading reads); everything else passes through."""

    def __init__(self, encoder: Any) -> None:
        self.wrapped = encoder
        self.seconds = 0.0

    def encode_query(self, text: str) -> np.ndarray:
        return self._timed(self.wrapped.encode_query, text)

    def encode_queries(self, texts: Any) -> np.ndarray:
        return self._timed(self.wrapped.encode_queries, texts)

    def _timed(self, embed: Any, argument: Any) -> np.ndarray:
        started = time.perf_counter()
        try:
            return embed(argument)
        finally:
            self.seconds += time.perf_counter() - started

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


class TimedIndex:
    """Wraps a FAISS index and adds up the seconds spent in ``search``; everything else passes through."""

    def __init__(self, index: Any) -> None:
        self.wrapped = index
        self.seconds = 0.0

    def search(self, queries: np.ndarray, k: int, **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
        started = time.perf_counter()
        try:
            return self.wrapped.search(queries, k, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


def percentiles_ms(seconds: list[float] | np.ndarray) -> tuple[float, float]:
    """(p50, p95) in milliseconds."""
    values = np.asarray(seconds, dtype=float) * 1000
    if values.size == 0:
        return float("nan"), float("nan")
    p50, p95 = np.percentile(values, [50, 95])
    return float(p50), float(p95)


def peak_rss_mb() -> float:
    """The most resident memory this process has held so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024**2 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def private_mib() -> float:
    """This process's anonymous resident memory (Linux ``RssAnon``), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def verdict(measured: float, target: float) -> str:
    """``PASS`` when ``measured`` is within ``target`` (at most it), else ``FAIL``."""
    return "PASS" if measured <= target else "FAIL"
