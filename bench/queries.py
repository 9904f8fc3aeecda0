"""Distinct benchmark requests: the labelled evaluation queries first, then seeded mood/activity/era mixes."""

from __future__ import annotations

import itertools

import numpy as np

from evaluation.rules import load_queries

_MOODS = ("sad", "happy", "calm", "energetic", "dark", "romantic", "melancholy", "cheerful", "angry", "dreamy",
          "upbeat", "mellow", "nostalgic", "moody")  # fmt: skip
_THINGS = ("songs", "songs for a workout", "music to study to", "party songs", "songs for a road trip",
           "songs for a rainy day", "acoustic songs", "dance pop", "songs for sleeping", "fast songs",
           "slow songs", "songs for cooking dinner", "hip hop", "songs for a long drive", "loud bangers")  # fmt: skip
_TAILS = ("", " from 2012", ", nothing before 2015", " from the late 2010s", " from the early 2010s",
          " without Pitbull", ", no dance pop", " like Adele", " between 2013 and 2016")  # fmt: skip


def benchmark_queries(count: int, seed: int = 0) -> list[str]:
    """``count`` different requests (the query cache never answers one from an earlier one)."""
    texts = [q.text for q in load_queries()]
    combos = [f"{mood} {thing}{tail}" for mood, thing, tail in itertools.product(_MOODS, _THINGS, _TAILS)]
    order = np.random.default_rng(seed).permutation(len(combos))
    texts += [combos[i] for i in order]
    distinct = list(dict.fromkeys(texts))
    if count > len(distinct):
        raise ValueError(f"At most {len(distinct)} distinct benchmark queries, {count} asked.")
    return distinct[:count]
