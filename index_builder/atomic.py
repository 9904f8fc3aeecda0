"""Atomic file writes (write to a temporary file beside the target, then rename over it) and a lock file."""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it over ``target``, on error remove it."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_json_atomic(target: Path, payload: object) -> None:
    """Write ``payload`` as indented UTF-8 JSON, atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file`` (made if missing): one holder at a time across threads and processes
    (each holder opens the file anew, and ``flock`` locks the opening), released when the block ends or the holder
    dies."""
    lock_file = Path(lock_file)
    try:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock_file, "a")  # noqa: SIM115  closed below
    except OSError:
        yield  # a folder this process cannot write to: it writes nothing there either, so there is nothing to guard
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def held_elsewhere(lock_file: Path) -> bool:
    """Whether another holder has ``lock_file`` locked right now (``exclusive``'s lock), without waiting for it."""
    try:
        handle = open(lock_file)  # noqa: SIM115  closed below
    except OSError:
        return False  # no lock file: nobody has ever held it
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False
