"""Uploads people do not wait on: the same bytes uploaded again, by any session, answer without embedding; changed
bytes are indexed afresh; the cache stays within its bounds and a damaged entry is never used."""

from __future__ import annotations

import json

import pytest

from assistant.chat import ChatSession, open_catalogue, release
from assistant.upload_progress import EmbeddingProgress, duration_text
from index_builder.index_cache import IndexCache
from index_builder.index_store import SONGS_FILE
from tests.helpers import SPOTIFY_HEADER, SPOTIFY_ROWS, spotify_catalogue, test_settings, write_csv


@pytest.fixture
def settings(tmp_path, bundled_csv):
    return test_settings(tmp_path, bundled_csv)


def _upload(path, settings, encoder, **kwargs):
    message, session = open_catalogue(path, [], ChatSession(), settings, encoder, **kwargs)
    assert session.engine is not None, message
    return message, session


def test_the_same_bytes_answer_without_embedding_in_any_session(settings, encoder, tmp_path):
    first_file = spotify_catalogue(tmp_path, "mine.csv")
    seen: list[tuple[int, int]] = []
    message, first = _upload(first_file, settings, encoder, on_embedded=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 4) and seen[-1] == (4, 4)
    calls = encoder.model_calls
    other = tmp_path / "other-name"
    other.mkdir()
    again_file = spotify_catalogue(other, "renamed.csv")  # the same bytes under another name, another session
    again_message, again = _upload(again_file, settings, encoder, on_embedded=lambda *_: pytest.fail("embedded"))
    assert encoder.model_calls == calls
    assert again_message == message.replace("mine.csv", "renamed.csv")
    assert again.workspace != first.workspace and (again.workspace / "renamed.csv").is_file()
    assert (
        again.engine.search("energetic workout", 3).results[0].title
        == first.engine.search("energetic workout", 3).results[0].title
    )
    release(first)
    release(again)
    assert not first.workspace.exists() and not again.workspace.exists()


def test_changed_bytes_are_indexed_afresh(settings, encoder, tmp_path):
    _upload(spotify_catalogue(tmp_path, "mine.csv"), settings, encoder)
    rows = [*SPOTIFY_ROWS, ["id9", "Brand New", "Someone", "50", "2017", "edm", "0.8", "0.96", "-2", "0.05", "0.01",
                            "0.7", "0.1", "0.6", "155", "190000"]]  # fmt: skip
    changed = write_csv(tmp_path / "mine2.csv", SPOTIFY_HEADER, rows)
    seen: list[tuple[int, int]] = []
    message, _ = _upload(changed, settings, encoder, on_embedded=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] > 0 and "5 songs" in message
    assert len(IndexCache.from_settings(settings).entries()) == 2


def test_a_damaged_entry_is_rebuilt_not_used(settings, encoder, tmp_path):
    upload = spotify_catalogue(tmp_path, "mine.csv")
    _upload(upload, settings, encoder)
    (entry,) = IndexCache.from_settings(settings).entries()
    (entry / SONGS_FILE).write_bytes((entry / SONGS_FILE).read_bytes()[:-10])
    seen: list[tuple[int, int]] = []
    _upload(upload, settings, encoder, on_embedded=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (4, 4)  # embedded again (nothing else in the cache held these songs)
    (entry,) = IndexCache.from_settings(settings).entries()
    manifest = json.loads((entry / "manifest.json").read_text())
    assert manifest["song_count"] == 4


def test_the_cache_keeps_the_most_recently_used_within_its_bounds(settings, encoder, tmp_path):
    small = settings.with_changes(upload_cache_entries=2)
    files = []
    for n in range(3):
        rows = [[f"{cell}{n}" if i == 1 else cell for i, cell in enumerate(row)] for row in SPOTIFY_ROWS]
        files.append(write_csv(tmp_path / f"f{n}.csv", SPOTIFY_HEADER, rows))
    _upload(files[0], small, encoder)
    _upload(files[1], small, encoder)
    _upload(files[0], small, encoder)  # used again: now the most recent
    _upload(files[2], small, encoder)  # evicts f1, the least recently used
    cache = IndexCache.from_settings(small)
    kept = {json.loads((e / "manifest.json").read_text())["catalogue_file"] for e in cache.entries()}
    assert kept == {"f0.csv", "f2.csv"}
    by_size = IndexCache(cache.root, 10, 1)  # one byte: nothing fits
    assert by_size.evict() and by_size.entries() == []


def test_no_cache_when_turned_off(settings, encoder, tmp_path):
    off = settings.with_changes(upload_cache_entries=0)
    _upload(spotify_catalogue(tmp_path, "mine.csv"), off, encoder)
    assert IndexCache.from_settings(off).entries() == []


def test_progress_says_how_long_is_left():
    clock = iter([0.0, 10.0, 10.0]).__next__
    calls = []
    progress = EmbeddingProgress(lambda *args, **kwargs: calls.append((args, kwargs)), clock=clock)
    progress(0, 100)
    progress(25, 100)
    assert calls[0][1]["desc"].endswith("estimating the time left")
    assert calls[1][0] == ((25, 100),) and calls[1][1]["desc"].endswith("about 30 s left")
    assert duration_text(185) == "3 min 05 s"
