"""Listener profiles in SQLite: likes (with a weight), dislikes, blocked artists, the songs shown, the blend switch.

One file (``Settings.profile_db_path``), opened per operation, so any number of sessions and threads (and processes)
share it safely: WAL journal, ``synchronous=FULL`` (a write that returned survives a killed process), every write in
one ``BEGIN IMMEDIATE`` transaction, a busy timeout instead of "database is locked". The schema carries its version
in ``PRAGMA user_version`` and is brought up to date by the migrations below, in order, when a file is opened.

A profile belongs to an owner key: ``user:<login>`` under ``--auth``, else ``browser:<id>`` (a random id the
browser keeps, or one an API client passes). Titles and artists are stored with each song, so an export reads on
its own and survives a change of catalogue.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from assistant.feedback import Feedback
from index_builder.errors import MoodringError, QueryError
from index_builder.song_fields import credit_name

FORMAT_VERSION = 1
"""The export's format version."""
BUSY_TIMEOUT_S = 30.0
OWNER_PATTERN = re.compile(r"^(?:user|browser):[^\x00-\x1f]{1,200}$")
BLEND_CHOICES = ("auto", "on", "off")
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE profiles (
        owner TEXT PRIMARY KEY,
        created REAL NOT NULL,
        blend TEXT NOT NULL DEFAULT 'auto' CHECK (blend IN ('auto', 'on', 'off'))
    );
    CREATE TABLE verdicts (
        owner TEXT NOT NULL REFERENCES profiles (owner) ON DELETE CASCADE,
        song_id TEXT NOT NULL,
        verdict TEXT NOT NULL CHECK (verdict IN ('like', 'dislike')),
        weight REAL NOT NULL DEFAULT 1.0,
        title TEXT NOT NULL DEFAULT '',
        artist TEXT NOT NULL DEFAULT '',
        at REAL NOT NULL,
        PRIMARY KEY (owner, song_id)
    );
    CREATE TABLE blocked_artists (
        owner TEXT NOT NULL REFERENCES profiles (owner) ON DELETE CASCADE,
        key TEXT NOT NULL,
        artist TEXT NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (owner, key)
    );
    CREATE TABLE shown (
        owner TEXT NOT NULL REFERENCES profiles (owner) ON DELETE CASCADE,
        song_id TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        artist TEXT NOT NULL DEFAULT '',
        times INTEGER NOT NULL DEFAULT 1,
        at REAL NOT NULL,
        PRIMARY KEY (owner, song_id)
    );
    CREATE INDEX shown_by_age ON shown (owner, at);
    """,
)
"""Schema migrations: entry i takes a file from ``user_version`` i to i + 1. Append; never edit a released one."""


class ProfileError(MoodringError):
    """A profile that cannot be read or written (an unreadable database file, a full profile)."""


@dataclass(frozen=True)
class Song:
    """A song as a profile stores it: its id in the catalogue, and its title and artist to read it by."""

    song_id: str
    title: str = ""
    artist: str = ""
    weight: float = 1.0
    """For a like: how much it counts (1 for a click; an imported play history may weigh songs differently)."""


@dataclass(frozen=True)
class Profile:
    """One owner's saved profile, newest entries last."""

    owner: str
    likes: tuple[Song, ...] = ()
    dislikes: tuple[Song, ...] = ()
    blocked: tuple[str, ...] = ()
    shown: tuple[Song, ...] = field(default=(), repr=False)
    blend: str = "auto"
    created: float | None = None

    @property
    def feedback(self) -> Feedback:
        """Everything here that steers a search (likes with weights, dislikes, blocks)."""
        return Feedback(
            tuple((s.song_id, s.weight) for s in self.likes), tuple(s.song_id for s in self.dislikes), self.blocked
        )

    def blend_on(self, min_likes: int) -> bool:
        """Whether the personal blend leans answers towards the likes: the switch, or on ``auto`` enough likes."""
        return self.blend == "on" or (self.blend == "auto" and len(self.likes) >= min_likes)

    def to_json(self) -> dict[str, object]:
        """The export: every stored fact, JSON-ready."""
        return {
            "format_version": FORMAT_VERSION,
            "profile_id": self.owner,
            "created": self.created,
            "personal_blend": self.blend,
            "likes": [
                {"song_id": s.song_id, "title": s.title, "artist": s.artist, "weight": s.weight} for s in self.likes
            ],
            "dislikes": [{"song_id": s.song_id, "title": s.title, "artist": s.artist} for s in self.dislikes],
            "blocked_artists": list(self.blocked),
            "shown": [{"song_id": s.song_id, "title": s.title, "artist": s.artist} for s in self.shown],
        }


class ProfileStore:
    """The profiles file; each call opens its own connection, so one store may serve every thread."""

    def __init__(self, path: Path, max_entries: int = 5_000) -> None:
        self.path = Path(path)
        self.max_entries = max_entries
        self._migrated = False
        self._migrate_lock = threading.Lock()

    # ---- writes -------------------------------------------------------------------------------------------

    def like(self, owner: str, songs: Iterable[Song]) -> None:
        """Save ``songs`` as liked (each replacing any earlier verdict on it, its weight included)."""
        self._verdicts(owner, songs, "like")

    def dislike(self, owner: str, songs: Iterable[Song]) -> None:
        """Save ``songs`` as disliked (each replacing any earlier like)."""
        self._verdicts(owner, songs, "dislike")

    def block(self, owner: str, artists: Iterable[str]) -> None:
        """Save ``artists`` as blocked."""
        now = time.time()
        rows = [(owner, credit_name(a), a, now) for a in artists]
        with self._write(owner) as db:
            self._check_room(db, "blocked_artists", owner, len(rows), "blocked artists")
            db.executemany("INSERT OR REPLACE INTO blocked_artists VALUES (?, ?, ?, ?)", rows)

    def unblock(self, owner: str, artists: Iterable[str]) -> None:
        """Forget that ``artists`` were blocked."""
        keys = [(owner, credit_name(a)) for a in artists]
        with self._write(owner) as db:
            db.executemany("DELETE FROM blocked_artists WHERE owner = ? AND key = ?", keys)

    def mark_shown(self, owner: str, songs: Iterable[Song]) -> None:
        """Count ``songs`` as shown once more; past ``max_entries`` the longest-unseen are forgotten."""
        now = time.time()
        rows = [(owner, s.song_id, s.title, s.artist, now) for s in songs]
        if not rows:
            return
        with self._write(owner) as db:
            db.executemany(
                "INSERT INTO shown (owner, song_id, title, artist, at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (owner, song_id) DO UPDATE SET times = times + 1, at = excluded.at",
                rows,
            )
            db.execute(
                "DELETE FROM shown WHERE owner = ? AND song_id NOT IN "
                "(SELECT song_id FROM shown WHERE owner = ? ORDER BY at DESC, rowid DESC LIMIT ?)",
                (owner, owner, self.max_entries),
            )

    def set_blend(self, owner: str, blend: str) -> None:
        """Turn the personal blend ``on``, ``off``, or back to ``auto`` (on once there are enough likes)."""
        if blend not in BLEND_CHOICES:
            raise QueryError(f"The personal blend is one of {', '.join(BLEND_CHOICES)}; got {blend!r}.")
        with self._write(owner) as db:
            db.execute("UPDATE profiles SET blend = ? WHERE owner = ?", (blend, owner))

    def save(self, owner: str, feedback: Feedback, songs: dict[str, Song]) -> None:
        """Save what ``feedback`` says (``Feedback.added_since``'s output), with titles from ``songs`` by id, in
        one transaction."""
        if not feedback:
            return
        now = time.time()
        with self._write(owner) as db:
            for song_id, weight in feedback.likes:
                self._put_verdict(db, owner, songs.get(song_id, Song(song_id)), "like", weight, now)
            for song_id in feedback.dislikes:
                self._put_verdict(db, owner, songs.get(song_id, Song(song_id)), "dislike", 1.0, now)
            self._check_room(db, "blocked_artists", owner, len(feedback.blocked), "blocked artists")
            db.executemany(
                "INSERT OR REPLACE INTO blocked_artists VALUES (?, ?, ?, ?)",
                [(owner, credit_name(a), a, now) for a in feedback.blocked],
            )

    def forget(self, owner: str) -> bool:
        """Delete everything stored for ``owner``; whether there was anything."""
        with self._write(owner, create=False) as db:
            for table in ("verdicts", "blocked_artists", "shown"):
                db.execute(f"DELETE FROM {table} WHERE owner = ?", (owner,))
            return db.execute("DELETE FROM profiles WHERE owner = ?", (owner,)).rowcount > 0

    # ---- reads --------------------------------------------------------------------------------------------

    def profile(self, owner: str) -> Profile:
        """``owner``'s profile (empty when nothing is stored), read in one transaction."""
        check_owner(owner)
        with self._connect() as db:
            db.execute("BEGIN")
            head = db.execute("SELECT created, blend FROM profiles WHERE owner = ?", (owner,)).fetchone()
            verdicts = db.execute(
                "SELECT song_id, title, artist, weight, verdict FROM verdicts WHERE owner = ? ORDER BY at, rowid",
                (owner,),
            ).fetchall()
            blocked = db.execute(
                "SELECT artist FROM blocked_artists WHERE owner = ? ORDER BY at, rowid", (owner,)
            ).fetchall()
            shown = db.execute(
                "SELECT song_id, title, artist FROM shown WHERE owner = ? ORDER BY at, rowid", (owner,)
            ).fetchall()
            db.execute("COMMIT")
        if head is None:
            return Profile(owner)
        return Profile(
            owner=owner,
            likes=tuple(Song(i, t, a, w) for i, t, a, w, v in verdicts if v == "like"),
            dislikes=tuple(Song(i, t, a) for i, t, a, _, v in verdicts if v == "dislike"),
            blocked=tuple(a for (a,) in blocked),
            shown=tuple(Song(i, t, a) for i, t, a in shown),
            blend=head[1],
            created=head[0],
        )

    def schema_version(self) -> int:
        """The file's ``PRAGMA user_version`` (after migrating it)."""
        with self._connect() as db:
            return int(db.execute("PRAGMA user_version").fetchone()[0])

    # ---- internals ----------------------------------------------------------------------------------------

    def _verdicts(self, owner: str, songs: Iterable[Song], verdict: str) -> None:
        now = time.time()
        with self._write(owner) as db:
            for song in songs:
                self._put_verdict(db, owner, song, verdict, song.weight, now)

    def _put_verdict(
        self, db: sqlite3.Connection, owner: str, song: Song, verdict: str, weight: float, now: float
    ) -> None:
        known = db.execute("SELECT 1 FROM verdicts WHERE owner = ? AND song_id = ?", (owner, song.song_id)).fetchone()
        if known is None:
            self._check_room(db, "verdicts", owner, 1, "likes and dislikes")
        db.execute(
            "INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?, ?, ?, ?)",
            (owner, song.song_id, verdict, float(weight), song.title, song.artist, now),
        )

    def _check_room(self, db: sqlite3.Connection, table: str, owner: str, adding: int, what: str) -> None:
        held = db.execute(f"SELECT count(*) FROM {table} WHERE owner = ?", (owner,)).fetchone()[0]
        if held + adding > self.max_entries:
            raise ProfileError(f"This profile already holds {held} {what}, the most it keeps is {self.max_entries}.")

    @contextmanager
    def _write(self, owner: str, create: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction for ``owner`` (their profile row made first when ``create``)."""
        check_owner(owner)
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                if create:
                    db.execute("INSERT OR IGNORE INTO profiles (owner, created) VALUES (?, ?)", (owner, time.time()))
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except (OSError, sqlite3.Error) as error:
            raise ProfileError(f"Cannot open the profiles file {self.path}: {error}") from error
        try:
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA synchronous = FULL")
            if not self._migrated:
                self._migrate(db)
            yield db
        except sqlite3.Error as error:
            raise ProfileError(f"The profiles file {self.path} could not be used: {error}") from error
        finally:
            db.close()

    def _migrate(self, db: sqlite3.Connection) -> None:
        """Switch the file to WAL and apply the migrations it lacks, each in its own transaction."""
        with self._migrate_lock:
            if self._migrated:
                return
            db.execute("PRAGMA journal_mode = WAL")
            while True:
                db.execute("BEGIN IMMEDIATE")
                version = int(db.execute("PRAGMA user_version").fetchone()[0])
                if version >= len(MIGRATIONS):
                    db.execute("COMMIT")
                    break
                try:
                    for statement in MIGRATIONS[version].split(";"):
                        if statement.strip():
                            db.execute(statement)
                    db.execute(f"PRAGMA user_version = {version + 1}")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            if version > len(MIGRATIONS):
                raise ProfileError(
                    f"The profiles file {self.path} is schema version {version}, newer than this Moodring "
                    f"({len(MIGRATIONS)}); update Moodring."
                )
            self._migrated = True


def check_owner(owner: object) -> str:
    """``owner`` when it is a profile key (``user:<login>`` or ``browser:<id>``), else a QueryError."""
    if not isinstance(owner, str) or not OWNER_PATTERN.match(owner):
        raise QueryError("A profile id is 'browser:' or 'user:' followed by up to 200 printable characters.")
    return owner
