"""Hostile index folders: poisoned checkpoints."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from index_builder.build import build_index, describe_catalogue
from index_builder.checkpoint import EmbeddingCheckpoint
from index_builder.vector_index import all_vectors, first_unusable_row
from tests.helpers import spotify_catalogue, test_settings

# Checkpoints ---------------------------------------------------------------------------------------------------


def _poison_nan(path, meta) -> None:
    np.save(path, np.full(np.load(path).shape, np.nan, dtype=np.float32))  # still a valid .npy


def _poison_nan_and_checksum(path, meta) -> None:
    _poison_nan(path, meta)
    meta["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()


def _scale_and_checksum(path, meta) -> None:
    np.save(path, 3 * np.load(path))
    meta["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("poison", [_poison_nan, _poison_nan_and_checksum, _scale_and_checksum])
def test_a_poisoned_checkpoint_chunk_is_discarded_and_embedded_again(tmp_path, encoder, poison):
    settings = test_settings(tmp_path, spotify_catalogue(tmp_path))
    songs = describe_catalogue(settings).songs
    hashes, texts = list(songs["text_sha256"]), list(songs["description"])
    vectors = encoder.encode_documents(texts, show_progress=False)
    checkpoint = EmbeddingCheckpoint(settings.resolved_index_dir, encoder.vector_identity)
    checkpoint.add(hashes[:2], vectors[:2], flush_every=2)  # as if a build was killed after two chunks
    checkpoint.add(hashes[2:], vectors[2:], flush_every=2)
    meta_path = checkpoint.folder / "chunk-000002.json"
    meta = json.loads(meta_path.read_text())
    poison(meta_path.with_suffix(".npy"), meta)
    meta_path.write_text(json.dumps(meta))

    index = build_index(settings, encoder)
    assert (index.manifest["reused"], index.manifest["embedded"]) == (2, 2)
    assert any("chunk-000002" in note for note in index.manifest["build_notes"])
    assert first_unusable_row(index.faiss_index) is None
    assert np.allclose(all_vectors(index.faiss_index), vectors, atol=1e-2)
