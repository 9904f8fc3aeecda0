"""Hash a large index file once, not at every load: a file that passed its checks is recorded in ``verified.json``
beside it with its size, inode, modification and change times, and its sha256 is taken from there while they all
stay the same.

A write to the file changes its change time (``st_ctime``), which no program can set back (``os.utime`` sets the
modification time only), and a copy or replacement is a new inode; either way the file is hashed again. What a stamp
cannot see is damage that bypasses the file system (a disk flipping bits under an unchanged file): that is the
price of not reading 3 GB at every start, and it applies to files over ``STAMP_ABOVE_BYTES`` only. Smaller files
are hashed every time and no stamp is ever written for them, so a read-only folder (the shipped index) stays as is.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from index_builder.atomic import write_json_atomic
from index_builder.model_store import sha256_of_file

STAMP_FILE = "verified.json"
STAMP_ABOVE_BYTES = 64 * 1024 * 1024
"""Files at least this large (64 MiB; a FAISS file of 20,000 songs at 768 dimensions) are stamped once verified;
hashing them costs about a second a gigabyte on the reference machine."""


class FileStamps:
    """The stamps of one index folder: sha256 of each large file, valid while its stat is unchanged."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._recorded = _read(self.folder / STAMP_FILE)
        self._fresh: dict[str, dict[str, Any]] = {}
        self._from_stamp: set[str] = set()

    def sha256(self, name: str) -> str:
        """The sha256 of ``folder/name``: from its stamp when the file's stat still matches it, else computed."""
        path = self.folder / name
        stat = _stat_of(path)
        recorded = self._recorded.get(name)
        if isinstance(recorded, dict) and recorded.get("stat") == stat and isinstance(recorded.get("sha256"), str):
            self._from_stamp.add(name)
            return recorded["sha256"]
        digest = sha256_of_file(path)
        self.remember(name, digest, stat)
        return digest

    def remember(self, name: str, digest: str, stat: dict[str, int] | None = None) -> None:
        """Note that ``name`` (at its current stat) has sha256 ``digest``; kept by ``save`` if it is large."""
        stat = stat or _stat_of(self.folder / name)
        self._from_stamp.discard(name)
        if stat["size"] >= STAMP_ABOVE_BYTES:
            self._fresh[name] = {"stat": stat, "sha256": digest}

    def from_stamp(self, name: str) -> bool:
        """Whether the last ``sha256(name)`` came from a stamp rather than from reading the file."""
        return name in self._from_stamp

    def rows_checked(self, name: str) -> bool:
        """Whether ``name``'s stamp (valid, as ``sha256`` found it) says its vectors were checked: all finite and of
        unit length."""
        recorded = self._recorded.get(name)
        return self.from_stamp(name) and isinstance(recorded, dict) and recorded.get("rows_checked") is True

    def save(self, rows_checked: str | None = None) -> None:
        """Record the large files hashed since loading, ``rows_checked`` naming the one whose vectors were checked
        (call only once every check passed); a folder that cannot be written is hashed again next time."""
        if not self._fresh:
            return
        fresh = {name: {**entry, "rows_checked": name == rows_checked} for name, entry in self._fresh.items()}
        kept = {name: entry for name, entry in self._recorded.items() if isinstance(entry, dict)}
        with contextlib.suppress(OSError):  # a read-only folder: verified in full at every load, as before
            write_json_atomic(self.folder / STAMP_FILE, {**kept, **fresh})


def _stat_of(path: Path) -> dict[str, int]:
    """What changes when a file is written, replaced or copied: size, inode, device, modification and change time."""
    stat = os.stat(path)
    return {
        "size": stat.st_size,
        "inode": stat.st_ino,
        "device": stat.st_dev,
        "mtime_ns": stat.st_mtime_ns,
        "ctime_ns": stat.st_ctime_ns,
    }


def _read(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
