"""Cosine similarity in one place: L2-normalized vectors in a FAISS inner-product index, row positions as ids."""

from __future__ import annotations

import faiss
import numpy as np

METRIC = "cosine"
"""Inner product of L2-normalized vectors."""


def normalized(vectors: np.ndarray) -> np.ndarray:
    """A C-contiguous float32 copy of ``vectors`` with every row scaled to unit length (zero rows stay zero)."""
    array = np.array(vectors, dtype=np.float32, order="C", copy=True, ndmin=2)
    faiss.normalize_L2(array)
    return array


def build_flat_index(vectors: np.ndarray) -> faiss.Index:
    """An exact cosine index over ``vectors``; row i of the input is id i."""
    array = normalized(vectors)
    index = faiss.IndexFlatIP(array.shape[1])
    index.add(array)
    return index


def search_index(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` cosine scores and row ids for each query row; missing slots have id -1."""
    k = max(1, min(int(k), index.ntotal))
    scores, ids = index.search(normalized(queries), k)
    return scores, ids


def all_vectors(index: faiss.Index) -> np.ndarray:
    """Every stored vector, in id order (for flat indexes)."""
    return index.reconstruct_n(0, index.ntotal)
