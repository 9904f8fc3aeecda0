"""Listener profiles in real SQLite: schema and migrations, a restart and a SIGKILL lose nothing acknowledged, 30
threads writing at once leave 30 separate profiles, forget me, export, bounds and ids."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading

import pytest

from assistant.feedback import Feedback
from assistant.profile_store import MIGRATIONS, ProfileError, ProfileStore, Song, check_owner
from assistant.profiles import browser_secret, owner_key, saved_feedback, song_of, taste_seeds
from index_builder.errors import QueryError
from index_builder.settings import PROJECT_ROOT


@pytest.fixture
def store(tmp_path) -> ProfileStore:
    return ProfileStore(tmp_path / "profiles.sqlite3", max_entries=50)


def test_a_new_file_is_migrated_to_the_latest_schema_in_wal_mode(store):
    assert store.schema_version() == len(MIGRATIONS)
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"profiles", "verdicts", "blocked_artists", "shown"} <= tables


def test_a_file_from_a_newer_moodring_is_refused(tmp_path):
    path = tmp_path / "profiles.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(ProfileError, match="newer than this Moodring"):
        ProfileStore(path).profile("user:alice")


def test_likes_dislikes_blocks_and_shown_songs_read_back(store):
    owner = "user:alice"
    store.like(owner, [Song("a", "Hello", "Adele"), Song("b", "Shallow", "Lady Gaga", weight=3.0)])
    store.dislike(owner, [Song("c", "Timber", "Pitbull")])
    store.block(owner, ["Pitbull"])
    store.mark_shown(owner, [Song("a", "Hello", "Adele"), Song("d", "Happy", "Pharrell Williams")])
    store.dislike(owner, [Song("a", "Hello", "Adele")])  # the latest word on a song wins
    profile = store.profile(owner)
    assert [s.song_id for s in profile.likes] == ["b"] and profile.likes[0].weight == 3.0
    assert [s.song_id for s in profile.dislikes] == ["c", "a"]
    assert profile.blocked == ("Pitbull",)
    assert {s.song_id for s in profile.shown} == {"a", "d"}
    assert profile.feedback == Feedback((("b", 3.0),), ("c", "a"), ("Pitbull",))
    store.unblock(owner, ["pitbull"])
    assert store.profile(owner).blocked == ()


def test_export_is_json_with_titles_and_forget_me_deletes_everything(store):
    owner = "browser:" + "x" * 22
    store.like(owner, [Song("a", "Hello", "Adele")])
    store.block(owner, ["Kesha"])
    exported = json.loads(json.dumps(store.profile(owner).to_json()))
    assert exported["profile_id"] == owner and exported["format_version"] == 1
    assert exported["likes"] == [{"song_id": "a", "title": "Hello", "artist": "Adele", "weight": 1.0}]
    assert exported["blocked_artists"] == ["Kesha"]
    assert store.forget(owner) is True
    assert store.profile(owner).to_json()["likes"] == []
    with sqlite3.connect(store.path) as db:
        for table in ("profiles", "verdicts", "blocked_artists", "shown"):
            assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0
    assert store.forget(owner) is False


def test_the_personal_blend_lends_likes_only_when_on(store):
    owner = "user:bob"
    store.like(owner, [Song("a"), Song("b")])
    store.dislike(owner, [Song("c")])
    assert saved_feedback(store.profile(owner), 3) == Feedback((), ("c",), ())
    store.like(owner, [Song("d")])
    assert saved_feedback(store.profile(owner), 3).like_ids == ("a", "b", "d")  # auto: on at three likes
    store.set_blend(owner, "off")
    assert saved_feedback(store.profile(owner), 3).likes == ()
    with pytest.raises(QueryError, match="one of auto, on, off"):
        store.set_blend(owner, "always")


def test_a_profile_is_bounded(store):
    owner = "user:carol"
    store.like(owner, [Song(f"s{i}") for i in range(50)])
    with pytest.raises(ProfileError, match="the most it keeps is 50"):
        store.like(owner, [Song("one-too-many")])
    assert len(store.profile(owner).likes) == 50  # the refused write changed nothing
    for start in range(0, 120, 10):
        store.mark_shown(owner, [Song(f"shown{i}") for i in range(start, start + 10)])
    shown = store.profile(owner).shown
    assert len(shown) == 50 and shown[-1].song_id == "shown119"  # the longest-unseen went first


@pytest.mark.parametrize("owner", ["alice", "user:", "browser:a\nb", 7, None, "user:" + "x" * 201])
def test_owner_keys_are_checked(owner):
    with pytest.raises(QueryError, match="profile id"):
        check_owner(owner)


def test_browser_ids_are_checked_and_a_login_wins():
    assert owner_key("alice", "whatever") == "user:alice"
    assert owner_key(None, "A" * 22) == "browser:" + "A" * 22
    for bad in ("short", "x" * 65, "has space in it here!", 12, None):
        with pytest.raises(QueryError, match="profile_id must be"):
            owner_key(None, bad)


def test_the_browser_key_is_made_once_and_kept(tmp_path):
    first = browser_secret(tmp_path)
    assert len(first) >= 32 and browser_secret(tmp_path) == first
    assert oct((tmp_path / "browser_state.key").stat().st_mode & 0o777) == "0o600"


def test_a_profile_survives_a_restart(tmp_path):
    path = tmp_path / "profiles.sqlite3"
    ProfileStore(path).like("user:dana", [Song("a", "Hello", "Adele")])
    reopened = ProfileStore(path)  # a new process would start exactly like this
    assert [s.title for s in reopened.profile("user:dana").likes] == ["Hello"]


WRITER = """
import sys
from assistant.profile_store import ProfileStore, Song
store = ProfileStore(sys.argv[1])
for i in range(10_000):
    store.like("user:erin", [Song(f"song{i}", f"Title {i}", "Artist")])
    print(i, flush=True)  # the acknowledgement: printed only once the write returned
"""


def test_every_acknowledged_write_survives_sigkill(tmp_path):
    path = tmp_path / "profiles.sqlite3"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    acknowledged = -1
    assert writer.stdout is not None
    for line in writer.stdout:
        acknowledged = int(line)
        if acknowledged >= 40:
            break
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL
    likes = {s.song_id for s in ProfileStore(path, max_entries=20_000).profile("user:erin").likes}
    assert {f"song{i}" for i in range(acknowledged + 1)} <= likes
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_thirty_sessions_writing_at_once_leave_thirty_separate_profiles(tmp_path):
    store = ProfileStore(tmp_path / "profiles.sqlite3")
    start = threading.Barrier(30)
    failures: list[BaseException] = []

    def session(n: int) -> None:
        owner = f"browser:session-{n:02d}-{'x' * 12}"
        try:
            start.wait()
            for i in range(5):
                store.save(owner, Feedback(likes=((f"s{n}-{i}", 1.0),)), {f"s{n}-{i}": Song(f"s{n}-{i}", f"T{n}-{i}")})
            store.dislike(owner, [Song(f"bad{n}")])
            store.block(owner, [f"Artist {n}"])
            store.mark_shown(owner, [Song(f"s{n}-0")])
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=session, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    for n in range(30):
        profile = store.profile(f"browser:session-{n:02d}-{'x' * 12}")
        assert [s.song_id for s in profile.likes] == [f"s{n}-{i}" for i in range(5)]
        assert [s.title for s in profile.likes] == [f"T{n}-{i}" for i in range(5)]
        assert [s.song_id for s in profile.dislikes] == [f"bad{n}"]
        assert profile.blocked == (f"Artist {n}",)
        assert [s.song_id for s in profile.shown] == [f"s{n}-0"]


def test_the_taste_profile_starts_from_the_saved_likes_or_says_there_are_none(store, bundled_engine):
    catalogue = bundled_engine.catalogue
    owner = "browser:taste-seeds-xxxxxxxxxx"
    assert taste_seeds(store.profile(owner), catalogue, 50) == (
        [],
        "Your profile has no liked songs yet: like songs in the chat (*love #2*, or 👍 under an answer), then start "
        "from them.",
    )
    ids = [str(song_id) for song_id in bundled_engine.songs["song_id"].iloc[:3]]
    store.like(owner, [song_of(song_id, catalogue) for song_id in ids])
    labels, said = taste_seeds(store.profile(owner), catalogue, 50)
    assert labels == [catalogue.label(catalogue.row_of(song_id)) for song_id in ids]
    assert said == "Started from your profile's 3 liked songs; press *Describe my taste*."
    assert taste_seeds(store.profile(owner), catalogue, 2)[0] == labels[1:]  # the latest ones
    store.like(owner, [Song("not-in-this-catalogue")])
    labels_now, said = taste_seeds(store.profile(owner), catalogue, 50)
    assert labels_now == labels and said.startswith("Started from 3 of your profile's liked songs (1 not in this")
    store.forget(owner)
    store.like(owner, [Song("not-in-this-catalogue")])
    assert taste_seeds(store.profile(owner), catalogue, 50) == (
        [],
        "The song your profile likes is not in this catalogue.",
    )
