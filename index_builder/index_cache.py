"""A bounded on-disk cache of index folders keyed by a file's sha256: an uploaded catalogue's index is kept, so the
same file uploaded again, in any session, is answered without embedding.

Each entry is a whole index folder (``<root>/<sha256>/``) put in place by one rename, so a reader finds it complete
or not at all, and it is checked like any other index when read (the caller loads it against the current key). A
hit touches its folder; storing an entry then removes the least recently used until at most ``max_entries`` folders
and ``max_bytes`` bytes remain, each renamed aside before it is deleted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from index_builder.settings import Settings

log = logging.getLogger("moodring")

_ENTRY = re.compile(r"^[0-9a-f]{64}$")
"""An entry's folder name: the sha256 of the file its index was built from."""


@dataclass(frozen=True)
class IndexCache:
    """Index folders under ``root`` keyed by sha256, at most ``max_entries`` of them in ``max_bytes``."""

    root: Path
    max_entries: int
    max_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> IndexCache:
        """The upload cache ``settings`` describe (``upload_cache_entries``, ``upload_cache_bytes``)."""
        return cls(settings.upload_cache_dir, settings.upload_cache_entries, settings.upload_cache_bytes)

    @property
    def enabled(self) -> bool:
        """Whether anything is kept at all."""
        return self.max_entries > 0 and self.max_bytes > 0

    def entry(self, digest: str) -> Path:
        """The folder that holds (or would hold) the index for the file whose sha256 is ``digest``."""
        if not _ENTRY.match(digest):
            raise ValueError(f"Not a sha256 hex digest: {digest!r}")
        return Path(self.root) / digest

    def lookup(self, digest: str) -> Path | None:
        """The entry for ``digest`` if there is one, marked as just used; the caller still checks it on load."""
        folder = self.entry(digest)
        if not self.enabled or not folder.is_dir():
            return None
        try:
            os.utime(folder)
        except OSError:
            return None  # evicted in between
        return folder

    def store(self, digest: str, index_folder: Path) -> Path | None:
        """Copy ``index_folder`` in as the entry for ``digest`` (replacing an older one), then evict down to the
        bounds; None when the cache is off, the folder alone is over ``max_bytes``, or the copy failed (logged)."""
        if not self.enabled or _folder_bytes(Path(index_folder)) > self.max_bytes:
            return None
        target = self.entry(digest)
        try:
            Path(self.root).mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=self.root, prefix=".incoming-"))
        except OSError as exc:
            log.warning(f"The upload cache {self.root} cannot be written ({exc.strerror or exc}).")
            return None
        try:
            shutil.copytree(index_folder, staging / "entry")
            if target.exists():
                self._remove(target)
            os.replace(staging / "entry", target)
        except OSError as exc:  # another session stored the same file first, or the disk is full
            if not target.is_dir():
                log.warning(f"The upload cache {self.root} cannot be written ({exc.strerror or exc}).")
                return None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self.evict()
        return target

    def entries(self) -> list[Path]:
        """Every entry, most recently used first."""
        if not Path(self.root).is_dir():
            return []
        found = [path for path in Path(self.root).iterdir() if _ENTRY.match(path.name) and path.is_dir()]
        return sorted(found, key=_mtime, reverse=True)

    def evict(self) -> list[Path]:
        """Remove the least recently used entries beyond ``max_entries`` or ``max_bytes``; the removed ones."""
        kept, kept_bytes, removed = 0, 0, []
        for folder in self.entries():
            size = _folder_bytes(folder)
            if kept < self.max_entries and kept_bytes + size <= self.max_bytes:
                kept, kept_bytes = kept + 1, kept_bytes + size
            else:
                self._remove(folder)
                removed.append(folder)
        return removed

    def _remove(self, folder: Path) -> None:
        """Rename ``folder`` aside (so no reader sees it half deleted), then delete it."""
        aside = Path(tempfile.mkdtemp(dir=self.root, prefix=".evicted-"))
        with contextlib.suppress(OSError):  # gone already
            os.replace(folder, aside / "entry")
        shutil.rmtree(aside, ignore_errors=True)


def _folder_bytes(folder: Path) -> int:
    """The bytes of the files directly in ``folder`` (an index folder has no subfolders)."""
    try:
        return sum(path.stat().st_size for path in folder.iterdir() if path.is_file())
    except OSError:
        return 0


def _mtime(folder: Path) -> float:
    try:
        return folder.stat().st_mtime
    except OSError:
        return 0.0
