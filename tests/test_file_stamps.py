"""A large index file is hashed once and then trusted while its stat is unchanged; any write is still caught."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import index_builder.file_stamps as file_stamps
from index_builder.errors import IndexMismatch
from index_builder.file_stamps import STAMP_FILE, FileStamps
from index_builder.index_store import INDEX_FILE, load_index, write_index
from index_builder.vector_index import build_flat_index
from tests.test_index_store import KEY, SCHEME, _songs


@pytest.fixture
def stamped(tmp_path, monkeypatch):
    """A written index whose FAISS file counts as large, so it is stamped."""
    monkeypatch.setattr(file_stamps, "STAMP_ABOVE_BYTES", 0)
    vectors = np.random.default_rng(0).normal(size=(50, 8)).astype(np.float32)
    folder = tmp_path / "index"
    write_index(folder, build_flat_index(vectors), _songs(50), SCHEME, KEY)
    return folder


def _flip_a_byte(path, keep_times: bool) -> None:
    stat = os.stat(path)
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01  # inside the last vector
    path.write_bytes(bytes(data))
    if keep_times:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the modification time put back; ctime moves on
    else:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))


def test_a_loaded_index_is_not_hashed_again_while_unchanged(stamped):
    recorded = json.loads((stamped / STAMP_FILE).read_text())
    assert recorded[INDEX_FILE]["rows_checked"] is True  # written with the index: its vectors were checked then
    load_index(stamped, KEY)
    stamps = FileStamps(stamped)
    stamps.sha256(INDEX_FILE)
    assert stamps.from_stamp(INDEX_FILE) and stamps.rows_checked(INDEX_FILE)


@pytest.mark.parametrize("keep_times", [False, True])
def test_a_flipped_byte_is_caught_whatever_the_times_say(stamped, keep_times):
    load_index(stamped, KEY)
    _flip_a_byte(stamped / INDEX_FILE, keep_times)
    stamps = FileStamps(stamped)
    stamps.sha256(INDEX_FILE)
    assert not stamps.from_stamp(INDEX_FILE)
    with pytest.raises(IndexMismatch, match="damaged"):
        load_index(stamped, KEY)


def test_a_replaced_file_is_hashed_again(stamped):
    path = stamped / INDEX_FILE
    copy = path.with_name("copy")
    copy.write_bytes(path.read_bytes())
    os.replace(copy, path)  # same bytes, another inode
    stamps = FileStamps(stamped)
    stamps.sha256(INDEX_FILE)
    assert not stamps.from_stamp(INDEX_FILE)
    load_index(stamped, KEY)  # verified again, and stamped again
    again = FileStamps(stamped)
    again.sha256(INDEX_FILE)
    assert again.from_stamp(INDEX_FILE)


def test_a_forged_stamp_for_other_bytes_is_still_compared_with_the_manifest(stamped):
    recorded = json.loads((stamped / STAMP_FILE).read_text())
    recorded[INDEX_FILE]["sha256"] = "0" * 64
    (stamped / STAMP_FILE).write_text(json.dumps(recorded))
    with pytest.raises(IndexMismatch, match="damaged"):
        load_index(stamped, KEY)


def test_small_files_are_never_stamped(tmp_path):
    vectors = np.random.default_rng(1).normal(size=(5, 8)).astype(np.float32)
    write_index(tmp_path / "index", build_flat_index(vectors), _songs(5), SCHEME, KEY)
    load_index(tmp_path / "index", KEY)
    assert not (tmp_path / "index" / STAMP_FILE).exists()
