"""Index folders: written atomically, checked on load, stale or damaged ones refused with the reason."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from index_builder.buckets import BucketScheme, FeatureBuckets
from index_builder.errors import IndexMismatch
from index_builder.index_store import (
    INDEX_FILE,
    MANIFEST_FILE,
    SONGS_FILE,
    VECTORS_FILE,
    IndexKey,
    load_index,
    write_index,
)
from index_builder.vector_index import build_flat_index

KEY = IndexKey(
    model_name="m", model_sha256="a" * 64, catalogue_sha256="b" * 64, template_sha256="c" * 64,
    feature_words_sha256="d" * 64, column_map_sha256="e" * 64,
)  # fmt: skip
SCHEME = BucketScheme({"energy": FeatureBuckets("energy", "energy", (0.5,), ("low energy", "high energy"))})


def _songs(n: int) -> pd.DataFrame:
    return pd.DataFrame({"song_id": [f"s{i}" for i in range(n)], "title": [f"Song {i}" for i in range(n)]})


@pytest.fixture
def written(tmp_path):
    vectors = np.random.default_rng(0).normal(size=(6, 8)).astype(np.float32)
    folder = tmp_path / "index"
    write_index(folder, build_flat_index(vectors), _songs(6), SCHEME, KEY)
    return folder


def test_round_trip(written):
    index = load_index(written, KEY)
    assert len(index) == 6 and index.faiss_index.ntotal == 6
    assert index.scheme.features["energy"].word_for(0.7) == "high energy"
    manifest = json.loads((written / MANIFEST_FILE).read_text())
    assert manifest["dimension"] == 8 and manifest["metric"] == "cosine" and manifest["song_count"] == 6
    assert set(manifest["files"]) == {INDEX_FILE, SONGS_FILE, VECTORS_FILE}
    assert not list(written.parent.glob(".index.*"))  # no staging or backup folder left behind


@pytest.mark.parametrize(
    ("field", "words"),
    [
        ("model_sha256", "model weights"),
        ("catalogue_sha256", "catalogue file"),
        ("template_sha256", "song template"),
        ("feature_words_sha256", "feature thresholds"),
        ("column_map_sha256", "column mapping"),
    ],
)
def test_each_stale_field_is_named(written, field, words):
    changed = dataclasses.replace(KEY, **{field: "f" * 64})
    with pytest.raises(IndexMismatch, match=words):
        load_index(written, changed)


def test_damaged_faiss_file_is_detected(written):
    data = (written / INDEX_FILE).read_bytes()
    (written / INDEX_FILE).write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexMismatch, match="damaged"):
        load_index(written, KEY)


def test_missing_manifest_and_missing_folder(written, tmp_path):
    with pytest.raises(IndexMismatch, match="No index"):
        load_index(tmp_path / "elsewhere", KEY)
    (written / MANIFEST_FILE).write_text("{not json")
    with pytest.raises(IndexMismatch, match="unreadable"):
        load_index(written, KEY)


def test_songs_and_vectors_of_different_lengths_are_refused(written):
    manifest = json.loads((written / MANIFEST_FILE).read_text())
    _songs(5).to_parquet(written / SONGS_FILE, index=False)
    from index_builder.model_store import sha256_of_file

    manifest["files"][SONGS_FILE] = sha256_of_file(written / SONGS_FILE)
    (written / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match="inconsistent"):
        load_index(written, KEY)


def test_failed_write_keeps_the_previous_index(written):
    vectors = np.ones((3, 8), dtype=np.float32)
    with pytest.raises(ValueError):
        write_index(written, build_flat_index(vectors), _songs(4), SCHEME, KEY)  # 3 vectors, 4 songs
    assert len(load_index(written, KEY)) == 6


def test_interrupted_swap_is_recovered(written):
    backup = written.with_name(f".{written.name}.previous")
    written.rename(backup)  # as if the process died between the two renames
    assert len(load_index(written, KEY)) == 6
    assert written.is_dir() and not backup.exists()
