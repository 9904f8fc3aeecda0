"""Index kind by catalogue size: exact up to the threshold, IVF above; recall, mmap round trip, damage, reuse."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from bench.synthetic import write_synthetic_catalogue
from index_builder.build import build_index, open_index
from index_builder.errors import IndexMismatch
from index_builder.index_store import INDEX_FILE, MANIFEST_FILE, load_index, write_index
from index_builder.model_store import ModelLocation, sha256_of_file
from index_builder.settings import Settings
from index_builder.vector_index import (
    IndexPlan,
    all_vectors,
    build_cosine_index,
    ivf_lists,
    normalized,
    plan_for,
    search_index,
)
from tests.helpers import test_settings
from tests.test_index_store import KEY, SCHEME, _songs

DIMENSION = 32


class HashEncoder:
    """A deterministic stand-in for the model: each text's vector comes from its hash; counts what it embeds."""

    dimension = DIMENSION
    location = ModelLocation(path=Path("fake"), name="fake", weights_sha256="f" * 64)
    model_name = location.name
    document_precision = "fp32"
    weights_sha256 = location.weights_sha256
    vector_identity = f"{weights_sha256}:fp32"

    def __init__(self) -> None:
        self.embedded = 0

    def matches_manifest(self, manifest) -> bool:
        return (manifest.get("model_sha256"), manifest.get("model_name")) == (self.weights_sha256, self.model_name)

    def encode_documents(self, texts, batch_size=32, show_progress=True, description="", on_batch=None):
        self.embedded += len(texts)
        vectors = np.stack([self.vector(text) for text in texts])
        if on_batch is not None:
            on_batch(list(range(len(texts))), vectors)
        return vectors

    @staticmethod
    def vector(text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        return normalized(np.random.default_rng(seed).normal(size=DIMENSION))[0]


def clustered(count: int, seed: int = 0, clusters: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors in Gaussian clusters, and 100 queries drawn the same way."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, DIMENSION))
    points = centres[rng.integers(clusters, size=count + 100)] + 0.35 * rng.normal(size=(count + 100, DIMENSION))
    points = normalized(points)
    return points[:count], points[count:]


@pytest.fixture(scope="module")
def ivf_setup():
    vectors, queries = clustered(20_000)
    lists = ivf_lists(len(vectors))
    plan = plan_for(len(vectors), approximate_above=0, nprobe=lists // 8)  # the share of lists probed at 1M
    assert lists // 8 == Settings().ivf_nprobe * lists // ivf_lists(1_000_000)
    return vectors, queries, plan, build_cosine_index(vectors, plan)


def test_plan_follows_the_threshold():
    assert plan_for(1000, approximate_above=1000, nprobe=64).exact
    above = plan_for(1001, approximate_above=1000, nprobe=64)
    assert not above.exact and above.factory == "IVF16,Flat" and above.search_params == "nprobe=16"
    assert plan_for(1_000_000, 200_000, 256) == IndexPlan("IVF2048,Flat", "nprobe=256")
    assert all(ivf_lists(n) * 39 <= max(n, 39) for n in (1, 50, 1000, 20_000, 10**6))
    assert Settings.from_env({"MOODRING_APPROXIMATE_ABOVE": "5", "MOODRING_IVF_NPROBE": "3"}).approximate_above == 5


def test_ivf_recall_against_exact_search(ivf_setup):
    vectors, queries, _, index = ivf_setup
    exact = build_cosine_index(vectors, IndexPlan())
    truth = search_index(exact, queries, 10)[1]
    found = search_index(index, queries, 10)[1]
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
    assert index.nprobe < index.nlist  # really approximate
    assert recall >= 0.95


def test_deep_fetch_widens_the_probe_and_never_returns_missing_ids(ivf_setup):
    vectors, queries, _, index = ivf_setup
    scores, ids = search_index(index, queries[:2], len(vectors))
    assert (ids >= 0).all() and all(len(set(row)) == len(vectors) for row in ids)
    assert np.allclose(scores[0], np.sort(vectors @ queries[0])[::-1], atol=1e-5)  # nprobe = all lists: exact
    assert index.nprobe == ivf_lists(len(vectors)) // 8  # the search above did not change it
    assert np.allclose(all_vectors(index), vectors, atol=1e-6)


@pytest.mark.parametrize("mmap", [True, False])
def test_saved_ivf_index_loads_with_the_same_answers(tmp_path, ivf_setup, mmap):
    vectors, queries, plan, index = ivf_setup
    folder = tmp_path / "index"
    write_index(folder, index, _songs(len(vectors)), SCHEME, KEY, plan=plan)
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    assert manifest["index_factory"] == plan.factory and manifest["search_params"] == plan.search_params
    loaded = load_index(folder, KEY, mmap=mmap)
    assert loaded.plan == plan and loaded.faiss_index.nprobe == index.nprobe
    for expected, got in zip(
        search_index(index, queries, 10), search_index(loaded.faiss_index, queries, 10), strict=True
    ):
        assert np.array_equal(expected, got)
    assert np.array_equal(loaded.faiss_index.reconstruct(123), index.reconstruct(123))


def test_truncated_ivf_file_is_detected(tmp_path, ivf_setup):
    vectors, _, plan, index = ivf_setup
    folder = tmp_path / "index"
    write_index(folder, index, _songs(len(vectors)), SCHEME, KEY, plan=plan)
    path = folder / INDEX_FILE
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    with pytest.raises(IndexMismatch, match="damaged"):
        load_index(folder, KEY)
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    manifest["files"][INDEX_FILE] = sha256_of_file(path)  # damaged before its checksum was taken
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match="cannot be read"):
        load_index(folder, KEY)


@pytest.mark.parametrize(
    ("field", "value"),
    [("index_factory", "IVF8,Flat"), ("index_factory", "Flat"), ("index_type", "IndexFlatIP"), ("index_factory", "?")],
)
def test_manifest_that_disagrees_with_the_faiss_file_is_refused(tmp_path, field, value):
    vectors, _ = clustered(2000)
    plan = plan_for(len(vectors), approximate_above=0, nprobe=4)
    folder = tmp_path / "index"
    write_index(folder, build_cosine_index(vectors, plan), _songs(len(vectors)), SCHEME, KEY, plan=plan)
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    manifest[field] = value
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match=r"manifest|unknown FAISS index"):
        load_index(folder, KEY)


def test_a_plan_and_index_that_disagree_are_not_written(tmp_path):
    vectors, _ = clustered(2000)
    with pytest.raises(ValueError):
        write_index(tmp_path / "index", build_cosine_index(vectors, IndexPlan()), _songs(2000), SCHEME, KEY,
                    plan=plan_for(2000, 0, 4))  # fmt: skip


def test_kind_switches_at_the_threshold_and_rebuilds_reuse_vectors(tmp_path):
    full = write_synthetic_catalogue(tmp_path / "full.csv", 450, seed=2)
    catalogue = tmp_path / "songs.csv"
    lines = full.read_text().splitlines(keepends=True)
    catalogue.write_text("".join(lines[:401]))  # header and the first 400 songs
    encoder = HashEncoder()
    exact = test_settings(tmp_path, catalogue, approximate_above=400, ivf_nprobe=2)
    first = build_index(exact, encoder)  # type: ignore[arg-type]
    assert first.plan.exact and first.manifest["index_type"] == "IndexFlatIP" and encoder.embedded == 400

    approximate = exact.with_changes(approximate_above=399)  # same catalogue, now above the threshold
    second = open_index(approximate, encoder)  # type: ignore[arg-type]
    assert second.plan == IndexPlan("IVF8,Flat", "nprobe=2") and second.manifest["index_type"] == "IndexIVFFlat"
    assert second.manifest["reused"] == 400 and encoder.embedded == 400  # nothing embedded again
    assert open_index(approximate, encoder).manifest["built_at"] == second.manifest["built_at"]  # loaded as is

    catalogue.write_text("".join(lines))  # 50 more songs (and a few descriptions move to another bucket)
    grown = open_index(approximate, encoder)  # type: ignore[arg-type]
    new = set(grown.songs["text_sha256"]) - set(second.songs["text_sha256"])
    assert not grown.plan.exact and grown.manifest["embedded"] == len(new) == encoder.embedded - 400
    assert grown.manifest["reused"] == 450 - len(new) > 0
    expected = np.stack([HashEncoder.vector(text) for text in grown.songs["description"]])
    assert np.allclose(all_vectors(grown.faiss_index), expected, atol=1e-6)  # reused vectors come back exactly


def test_engine_gives_the_same_answers_over_an_ivf_index(bundled_engine):
    from assistant.engine import SearchEngine

    index = bundled_engine.index
    plan = plan_for(len(index), approximate_above=0, nprobe=1)  # one list probed: most songs never seen
    ivf = build_cosine_index(all_vectors(index.faiss_index), plan)
    manifest = {**index.manifest, **plan.to_manifest(), "index_type": type(ivf).__name__}
    approximate = SearchEngine(
        dataclasses.replace(index, faiss_index=ivf, manifest=manifest), bundled_engine.encoder, bundled_engine.settings
    )
    for query in ("sad acoustic songs from 2012", "upbeat dance pop, nothing by Pitbull", "songs by Adele"):
        expected = [(r.song_id, round(r.score, 5)) for r in bundled_engine.search(query, 10).results]
        assert [(r.song_id, round(r.score, 5)) for r in approximate.search(query, 10).results] == expected, query
