"""Hostile index folders: poisoned checkpoints, tampered manifests, reordered songs, NaN vectors, read-only folders."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

import faiss
import numpy as np
import pytest

from index_builder.__main__ import main
from index_builder.build import build_index, describe_catalogue, open_index
from index_builder.checkpoint import EmbeddingCheckpoint
from index_builder.cli_common import run_cli
from index_builder.errors import IndexMismatch, IndexNotWritable
from index_builder.index_store import INDEX_FILE, MANIFEST_FILE, SONGS_FILE, load_index, write_index
from index_builder.model_store import sha256_of_file
from index_builder.vector_index import all_vectors, build_flat_index, first_unusable_row
from tests.helpers import spotify_catalogue, test_settings
from tests.test_index_store import KEY, SCHEME, _songs


def _manifest(folder):
    return json.loads((folder / MANIFEST_FILE).read_text())


def _save_manifest(folder, manifest) -> None:
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))


def _recorded_again(folder, name: str) -> None:
    """Record the current checksum of ``name`` wherever the folder records it, as a careless repair would."""
    digest = sha256_of_file(folder / name)
    manifest = _manifest(folder)
    manifest["files"][name] = digest
    _save_manifest(folder, manifest)
    vectors_path = folder / "vectors.json"
    if name == INDEX_FILE and vectors_path.is_file():
        vectors = json.loads(vectors_path.read_text())
        vectors["index_sha256"] = digest
        vectors_path.write_text(json.dumps(vectors))
        _recorded_again(folder, "vectors.json")


@pytest.fixture
def written(tmp_path):
    """A small index folder of random unit vectors, written without the model."""
    folder = tmp_path / "index"
    write_index(folder, build_flat_index(np.random.default_rng(0).normal(size=(6, 8))), _songs(6), SCHEME, KEY)
    return folder


@pytest.fixture
def spotify(tmp_path, encoder):
    """Settings for the small Spotify catalogue and its index, built once by the real model."""
    settings = test_settings(tmp_path, spotify_catalogue(tmp_path))
    first = build_index(settings, encoder)
    assert first.manifest["embedded"] == 4
    return settings


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


# Manifest and folder tampering ---------------------------------------------------------------------------------


def test_a_manifest_without_checksums_is_refused(written):
    manifest = _manifest(written)
    del manifest["files"]
    _save_manifest(written, manifest)
    with pytest.raises(IndexMismatch, match=r"records no checksum for index\.faiss, songs\.parquet"):
        load_index(written, KEY)


def test_edited_bucket_words_are_refused(written):
    manifest = _manifest(written)
    manifest["buckets"]["energy"]["words"] = ["low energy", "<b>INJECTED</b>"]
    _save_manifest(written, manifest)
    with pytest.raises(IndexMismatch, match="altered buckets"):
        load_index(written, KEY)


def test_edited_words_with_a_recomputed_checksum_are_caught_by_the_thresholds_file(spotify, encoder):
    folder = spotify.resolved_index_dir
    manifest = _manifest(folder)
    manifest["buckets"]["energy"]["words"][-1] = "<b>INJECTED</b>"
    body = json.dumps(manifest["buckets"], sort_keys=True).encode()
    manifest["thresholds_sha256"] = hashlib.sha256(body).hexdigest()
    _save_manifest(folder, manifest)
    with pytest.raises(IndexMismatch, match="energy words differ from the thresholds file"):
        open_index(spotify, encoder, rebuild=False)

    rebuilt = open_index(spotify, encoder)  # rebuilt from the thresholds file, every vector reused
    assert "INJECTED" not in json.dumps(rebuilt.manifest["buckets"])
    assert (rebuilt.manifest["reused"], rebuilt.manifest["embedded"]) == (4, 0)


def test_reordered_songs_with_an_updated_checksum_are_refused(written):
    _songs(6).iloc[::-1].to_parquet(written / SONGS_FILE, index=False)
    _recorded_again(written, SONGS_FILE)
    with pytest.raises(IndexMismatch, match="not the songs its vectors were stored for, in that order"):
        load_index(written, KEY)


def test_nan_vectors_with_an_updated_checksum_are_refused(written):
    vectors = all_vectors(load_index(written, KEY).faiss_index)
    vectors[3] = np.nan
    poisoned = faiss.IndexFlatIP(8)
    poisoned.add(vectors)
    faiss.write_index(poisoned, str(written / INDEX_FILE))
    _recorded_again(written, INDEX_FILE)
    with pytest.raises(IndexMismatch, match="vector 3 is not finite or not of unit length"):
        load_index(written, KEY)


def test_nan_vectors_are_never_written(tmp_path):
    vectors = np.ones((3, 8), dtype=np.float32)
    vectors[1] = np.nan
    with pytest.raises(ValueError, match="Vector 1 is not finite"):
        write_index(tmp_path / "index", build_flat_index(vectors), _songs(3), SCHEME, KEY)


# Damaged and read-only folders ---------------------------------------------------------------------------------


def test_damaged_metadata_keeps_the_intact_vectors(spotify, encoder):
    folder = spotify.resolved_index_dir
    for damaged in (SONGS_FILE, MANIFEST_FILE, "vectors.json"):  # one at a time; each rebuild repairs the folder
        (folder / damaged).write_bytes(b"damaged")
        rebuilt = open_index(spotify, encoder)
        assert (rebuilt.manifest["reused"], rebuilt.manifest["embedded"]) == (4, 0), damaged


def test_a_format_1_folder_is_rebuilt_reusing_its_vectors(spotify, encoder):
    folder = spotify.resolved_index_dir
    manifest = _manifest(folder)
    manifest["format_version"] = 1
    del manifest["files"]["vectors.json"]
    _save_manifest(folder, manifest)
    (folder / "vectors.json").unlink()
    rebuilt = open_index(spotify, encoder)
    assert rebuilt.manifest["format_version"] == 2
    assert (rebuilt.manifest["reused"], rebuilt.manifest["embedded"]) == (4, 0)


def _make_read_only(folder) -> bool:
    """Make ``folder`` refuse new files (chmod, or chattr +i where root ignores modes); False if neither works."""
    folder.chmod(0o555)
    if _refuses_files(folder):
        return True
    chattr = shutil.which("chattr")
    return bool(chattr) and subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode == 0


def _refuses_files(folder) -> bool:
    try:
        (folder / ".probe").touch()
    except OSError:
        return True
    (folder / ".probe").unlink()
    return False


def _make_writable(folder) -> None:
    chattr = shutil.which("chattr")
    if chattr:
        subprocess.run([chattr, "-i", str(folder)], capture_output=True)
    folder.chmod(0o755)


def test_a_read_only_folder_is_named_before_anything_is_embedded(spotify, encoder, capsys):
    folder = spotify.resolved_index_dir
    (folder / INDEX_FILE).write_bytes(b"damaged")
    if not _make_read_only(folder):
        _make_writable(folder)
        pytest.skip("this machine cannot make a folder read-only")
    try:
        calls = encoder.model_calls
        with pytest.raises(IndexNotWritable, match=r"^The index folder .* cannot be written \("):
            open_index(spotify, encoder)
        assert encoder.model_calls == calls  # nothing embedded first

        with pytest.raises(SystemExit) as exited:
            run_cli(lambda: main(["--catalogue", str(spotify.catalogue_path), "--index", str(folder), "--quiet"]))
        assert exited.value.code == 2
        error = capsys.readouterr().err.strip()
        assert error.startswith(f"error: The index folder {folder} cannot be written (") and "\n" not in error
    finally:
        _make_writable(folder)
