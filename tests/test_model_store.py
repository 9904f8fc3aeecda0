"""The model comes only from verified local files: wrong weights are refused, parts are reassembled."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from index_builder.errors import ModelError
from index_builder.model_store import (
    WEIGHTS_SHA256,
    _JoinedFiles,
    assemble_from_parts,
    resolve_model,
    verify_model_folder,
)
from index_builder.onnx_export import EXPORT_RECORD, ensure_onnx_model
from index_builder.prepare import prepare_ahead
from index_builder.settings import SHIPPED_MODEL_DIR


def _split_zip(tmp_path, files: dict[str, bytes], pieces: int = 5):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    blob = buffer.getvalue()
    size = len(blob) // pieces + 1
    parts = []
    for n in range(pieces):
        part = tmp_path / f"model.zip.{n + 1:03d}"
        part.write_bytes(blob[n * size : (n + 1) * size])
        parts.append(part)
    return parts


def test_parts_with_wrong_weights_are_refused(tmp_path):
    parts = _split_zip(tmp_path, {"all-mpnet-base-v2/model.safetensors": b"not the real weights"})
    with pytest.raises(ModelError, match="refusing"):
        assemble_from_parts(tmp_path / "cache", parts)
    assert not (tmp_path / "cache" / "all-mpnet-base-v2").exists()


def test_parts_that_are_not_a_zip_are_refused(tmp_path):
    part = tmp_path / "junk.001"
    part.write_bytes(b"junk" * 100)
    with pytest.raises(ModelError, match="valid zip"):
        assemble_from_parts(tmp_path / "cache", [part])


def test_explicit_path_must_exist_and_hold_weights(tmp_path):
    with pytest.raises(ModelError, match="not a folder"):
        resolve_model(tmp_path / "absent", tmp_path / "cache")
    with pytest.raises(ModelError, match=r"model\.safetensors"):
        verify_model_folder(tmp_path)


def test_real_model_is_verified(model_location):
    assert model_location.weights_sha256 == WEIGHTS_SHA256
    assert (model_location.path / "modules.json").is_file()
    # An explicit path to the same folder works too.
    assert resolve_model(model_location.path, model_location.path.parent).weights_sha256 == WEIGHTS_SHA256


def test_the_model_is_prepared_ahead_while_the_app_waits_for_it(tmp_path, monkeypatch):
    monkeypatch.setenv("MOODRING_MODEL_CACHE_DIR", str(tmp_path / "cache"))
    assert prepare_ahead(["--encoder", "nonsense"]) is None  # the app's own parser says what is wrong
    helped = prepare_ahead(["--help"])  # the app prints its own help; nothing is printed here
    assert helped is not None and helped.wait(timeout=120) == 0
    ahead = prepare_ahead(["--port", "7861", "--encoder", "fast"])
    assert ahead is not None
    location = resolve_model(None, tmp_path / "cache")  # waits for the child instead of unpacking a second copy
    exported = ensure_onnx_model(location, tmp_path / "cache", SHIPPED_MODEL_DIR)  # waits, then finds it made
    assert ahead.wait(timeout=120) == 0
    assert location.weights_sha256 == WEIGHTS_SHA256
    stamp = json.loads((location.path / ".moodring-verified.json").read_text(encoding="utf-8"))
    assert stamp["sha256"] == WEIGHTS_SHA256  # hashed while unpacking, so the first load does not read it again
    record = json.loads((exported.path.parent / EXPORT_RECORD).read_text(encoding="utf-8"))
    assert record["rebuilt_from"] == "shipped skeleton"
    made = sorted(p.name for p in (tmp_path / "cache").iterdir() if not p.name.startswith("."))
    # one of each (the model, its export, the default 8-bit-weight query graph): no second copy, no scratch left
    assert made == ["all-mpnet-base-v2", "all-mpnet-base-v2-onnx", "all-mpnet-base-v2-onnx-w8"]
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".assemble-")]


def test_the_pieces_read_as_one_file_across_their_boundaries(tmp_path):
    blob = bytes(range(256)) * 40
    paths = []
    for number, (start, end) in enumerate([(0, 1000), (1000, 1001), (1001, 7000), (7000, len(blob))]):
        paths.append(tmp_path / f"piece.{number}")
        paths[-1].write_bytes(blob[start:end])
    with _JoinedFiles(paths) as joined:
        assert joined.read() == blob
        joined.seek(995)
        assert joined.read(10) == blob[995:1005]
        joined.seek(-3, io.SEEK_END)
        assert joined.read(10) == blob[-3:] and joined.tell() == len(blob)
