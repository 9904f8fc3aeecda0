"""A rebuild that adds songs to an IVF index keeps its trained centroids while they fit, and trains again when the
catalogue outgrew them or the new songs fit them worse; the answers stay those of exact search within recall."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from index_builder.index_store import FaissFolder, load_index
from index_builder.vector_index import IndexPlan, build_cosine_index, ivf_centroids, list_numbers, search_index
from tests.test_index_store import KEY, SCHEME
from tests.test_scale_index import clustered


def _songs(vectors: np.ndarray) -> pd.DataFrame:
    """A songs table whose description hash is the vector's own, as a build's is the description's."""
    hashes = [hashlib.sha256(row.tobytes()).hexdigest() for row in vectors]
    return pd.DataFrame({"song_id": [f"s{i}" for i in range(len(vectors))], "text_sha256": hashes})


def _write(folder, vectors, **bounds):
    target = FaissFolder(folder, approximate_above=0, nprobe=8, **bounds)
    return target.write(_songs(vectors), vectors, SCHEME, KEY, {})


def _recall(index, vectors, queries) -> float:
    truth = search_index(build_cosine_index(vectors, IndexPlan()), queries, 10)[1]
    found = search_index(index.faiss_index, queries, 10)[1]
    return float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)]))


def test_added_songs_join_the_trained_lists_and_search_like_brute_force(tmp_path):
    vectors, queries = clustered(12_000, seed=3)
    first = _write(tmp_path / "index", vectors[:8_000])
    assert first.manifest["ivf_centroids"] == "trained" and first.manifest["ivf_trained_on"] == 8_000
    grown = _write(tmp_path / "index", vectors)  # 4,000 more songs from the same clusters
    assert grown.manifest["ivf_centroids"] == "kept" and grown.manifest["ivf_trained_on"] == 8_000
    assert np.array_equal(ivf_centroids(grown.faiss_index), ivf_centroids(first.faiss_index))
    assert np.array_equal(list_numbers(grown.faiss_index)[:8_000], list_numbers(first.faiss_index))
    assert _recall(grown, vectors, queries) >= 0.9
    assert np.allclose(grown.faiss_index.reconstruct_n(0, len(vectors)), vectors, atol=1e-6)
    loaded = load_index(tmp_path / "index", KEY)  # the kept plan (the old list count) is what the manifest says
    assert loaded.plan == grown.plan


def test_a_catalogue_grown_past_the_ratio_is_trained_again(tmp_path):
    vectors, _ = clustered(9_000, seed=4)
    _write(tmp_path / "index", vectors[:4_000])
    grown = _write(tmp_path / "index", vectors, retrain_growth=2.0)  # 2.25 times the songs
    assert grown.manifest["ivf_centroids"] == "trained" and grown.manifest["ivf_trained_on"] == 9_000


def test_new_songs_the_centroids_fit_worse_are_trained_again(tmp_path):
    vectors, _ = clustered(6_000, seed=5)
    _write(tmp_path / "index", vectors)
    elsewhere, queries = clustered(3_000, seed=6)  # other clusters: far from every trained centroid
    combined = np.concatenate([vectors, elsewhere])
    assert _write(tmp_path / "kept", vectors).manifest["ivf_centroids"] == "trained"
    assert _write(tmp_path / "kept", combined, retrain_fit=100.0).manifest["ivf_centroids"] == "kept"  # growth is fine
    grown = _write(tmp_path / "index", combined, retrain_fit=1.1)
    assert grown.manifest["ivf_centroids"] == "trained"
    assert _recall(grown, combined, queries) >= 0.9
