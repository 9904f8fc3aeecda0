"""Song-like vectors in any number, made from real song embeddings, for FAISS at catalogue scale.

Each vector is a random blend of two real song embeddings (the second one's share uniform in 0-0.5) plus a
random offset of fixed length in all 768 directions, then L2-normalized: the vectors stay where the model puts
songs instead of spreading over the sphere, and no two coincide. Uniform random vectors would make recall
meaningless (no neighbourhoods: every index looks bad); copies of a few hundred songs would make it meaningless
the other way.

Calibration (measured once, by hand; not part of any command), with real embeddings of 4,000 songs of a
synthetic catalogue and 200 request embeddings, IVF with 64 lists at 4,000 vectors: recall@10 at nprobe 8 / 16
is 0.79 / 0.91 on the real vectors, 0.77 / 0.90 on vectors blended from 587 of them with ``NOISE`` 0.6 (0.81 /
0.92 with 0.3). So 0.6 makes an IVF index look no better than on real embeddings. The real songs blended matter
more than the noise: at a million vectors, IVF2048 with nprobe 256 finds 1.000 of the exact top 10 around the
587 bundled songs, 0.983 around 2,000 synthetic-catalogue songs and 0.981 around 4,000, so
``python -m bench.scale`` blends 4,000.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from index_builder.vector_index import normalized

NOISE = 0.6
"""Length of the random offset added to each unit-length blend."""
BLEND = 0.5
"""The second song's share of a blend is uniform in 0 to this."""
CHUNK = 50_000


def song_like_vectors(anchors: np.ndarray, count: int, seed: int = 0, noise: float = NOISE) -> np.ndarray:
    """``count`` unit vectors around the real song vectors ``anchors`` (float32, one row each)."""
    return np.concatenate(list(song_like_chunks(anchors, count, seed, noise))) if count else anchors[:0]


def song_like_chunks(
    anchors: np.ndarray, count: int, seed: int = 0, noise: float = NOISE, chunk: int = CHUNK
) -> Iterator[np.ndarray]:
    """``song_like_vectors`` in chunks of ``chunk`` rows; chunk i depends only on (seed, i)."""
    anchors = normalized(anchors)
    dimension = anchors.shape[1]
    for number, start in enumerate(range(0, count, chunk)):
        rows = min(chunk, count - start)
        rng = np.random.default_rng([seed, number])
        first = anchors[rng.integers(len(anchors), size=rows)]
        second = anchors[rng.integers(len(anchors), size=rows)]
        share = rng.uniform(0.0, BLEND, size=(rows, 1)).astype(np.float32)
        blend = normalized((1 - share) * first + share * second)
        offsets = rng.standard_normal((rows, dimension), dtype=np.float32)
        yield normalized(blend + offsets * np.float32(noise / math.sqrt(dimension)))
