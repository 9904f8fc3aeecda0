"""Where export files live: one private folder per session, deleted with the session or once it is old.

The app writes each session's exports into a folder of its own inside Gradio's cache, so Gradio serves the file
without copying it, and the folder's random name keeps it out of reach of anyone who was not given the link.
Each format is one file per session, replaced by the next export, so a session holds at most three files however
often it exports.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import time
from pathlib import Path

from gradio.utils import get_upload_folder, is_in_or_equal

PREFIX = "moodring-export-"


def export_folder(current: object, root: Path, max_age_s: float) -> Path:
    """The session's folder: ``current`` while it still exists, else a new one under ``root`` (old ones pruned)."""
    if isinstance(current, str | Path) and Path(current).is_dir():
        return Path(current)
    prune_export_folders(root, max_age_s)
    root.mkdir(parents=True, exist_ok=True)
    folder = root / f"{PREFIX}{secrets.token_hex(16)}"
    folder.mkdir(mode=0o700)
    return folder


def remove_export_folder(folder: object) -> None:
    """Delete a session's export folder (Gradio calls this when the session ends); anything else is ignored."""
    if isinstance(folder, str | Path) and Path(folder).name.startswith(PREFIX):
        shutil.rmtree(folder, ignore_errors=True)


def prune_export_folders(root: Path, max_age_s: float) -> int:
    """Delete the export folders under ``root`` untouched for more than ``max_age_s`` seconds; how many went."""
    oldest = time.time() - max_age_s
    removed = 0
    for folder in Path(root).glob(f"{PREFIX}*") if Path(root).is_dir() else ():
        try:
            stale = (
                folder.is_dir() and max((p.stat().st_mtime for p in (folder, *folder.iterdir())), default=0) < oldest
            )
        except OSError:
            continue
        if stale:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def discard_upload(path: str | None) -> None:
    """Delete a file Gradio received into its cache (and its folder once empty); paths elsewhere are left alone.

    What a person uploads (a catalogue, a listening history) is read and then removed at once, so no one else can
    fetch it from the cache."""
    root = Path(get_upload_folder()).resolve()
    if not path or not is_in_or_equal(path, root):
        return
    upload = Path(path).resolve()
    upload.unlink(missing_ok=True)
    if upload.parent != root:
        with contextlib.suppress(OSError):  # not empty: another upload of the same content is in there
            upload.parent.rmdir()
