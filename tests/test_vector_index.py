"""FAISS cosine search agrees with brute force on plain arrays."""

from __future__ import annotations

import numpy as np

from index_builder.vector_index import build_flat_index, normalized, search_index


def test_search_matches_brute_force_cosine():
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(500, 32)).astype(np.float32) * rng.uniform(0.1, 10, size=(500, 1)).astype(np.float32)
    queries = rng.normal(size=(20, 32)).astype(np.float32)
    index = build_flat_index(vectors)
    scores, ids = search_index(index, queries, 10)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    brute = q @ unit.T
    expected_ids = np.argsort(-brute, axis=1)[:, :10]
    assert (ids == expected_ids).all()
    assert np.allclose(scores, np.take_along_axis(brute, expected_ids, axis=1), atol=1e-5)


def test_normalized_leaves_input_untouched_and_handles_zero_rows():
    data = np.array([[3.0, 4.0], [0.0, 0.0]], dtype=np.float64)
    out = normalized(data)
    assert out.dtype == np.float32 and np.allclose(out[0], [0.6, 0.8]) and np.allclose(out[1], 0)
    assert data[0, 0] == 3.0


def test_k_larger_than_index_is_capped():
    index = build_flat_index(np.eye(3, dtype=np.float32))
    _, ids = search_index(index, np.eye(3, dtype=np.float32)[:1], 50)
    assert ids.shape == (1, 3) and ids[0, 0] == 0
