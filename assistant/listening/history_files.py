"""Listening-history files people actually have, read into one plays table.

Four formats, recognised by their content rather than their names:

- Spotify account data (``StreamingHistory_music_*.json``): ``endTime, artistName, trackName, msPlayed``;
- Spotify extended history (``Streaming_History_Audio_*.json``): ``ts, ms_played, master_metadata_track_name,
  master_metadata_album_artist_name, spotify_track_uri, skipped, ...`` (podcast episodes have no track and are left
  out);
- a Last.fm scrobble CSV: lastfm-to-csv's ``artist, album, track, date`` without a header, or any export with
  headers such as ``artist, album, track, date`` / ``uts, utc_time, artist, ..., track`` (``,``, ``;`` or tab);
- a plain CSV: ``title, artist[, plays]``.

Every file is bounded (count, bytes each and together, rows together) and a file that cannot be read is one
sentence naming it; nothing of the other files is lost.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from index_builder.errors import MoodringError
from index_builder.settings import Settings

PLAY_COLUMNS = ("title", "artist", "track_id", "played_at", "ms_played", "skipped", "plays", "source")
"""One row per play (or per title of a plain CSV, with its ``plays`` count): ``played_at`` UTC (NaT when the file
has no times), ``ms_played`` NaN when unknown, ``skipped`` whether the listener skipped it."""

FORMATS = {
    "spotify_account": "Spotify account data (StreamingHistory_music)",
    "spotify_extended": "Spotify extended streaming history",
    "lastfm": "Last.fm scrobbles",
    "plain": "plain CSV (title, artist, plays)",
}
_URI = re.compile(r"^spotify:track:([0-9A-Za-z]{22})$")
_TITLE_HEADERS = ("title", "track", "track_name", "trackname", "song", "song_name", "name")
_ARTIST_HEADERS = ("artist", "artist_name", "artistname", "artists", "track_artist")
_TIME_HEADERS = ("uts", "timestamp", "played_at", "utc_time", "date", "datetime", "time", "date#", "scrobble_time")
_PLAYS_HEADERS = ("plays", "play_count", "playcount", "count", "listens", "scrobbles")
_ID_HEADERS = ("track_id", "spotify_id", "spotify_track_uri", "uri", "track_uri")


class HistoryError(MoodringError):
    """A listening-history file that cannot be read as plays."""


@dataclass(frozen=True)
class HistoryLimits:
    """Bounds on what one import reads (defaults: the ``Settings`` history fields)."""

    max_files: int
    max_file_bytes: int
    max_total_bytes: int
    max_rows: int

    @classmethod
    def from_settings(cls, settings: Settings) -> HistoryLimits:
        return cls(
            settings.history_max_files,
            settings.history_max_file_bytes,
            settings.history_max_total_bytes,
            settings.history_max_rows,
        )


@dataclass
class History:
    """The plays of every file read, and per file its format and row count (or why it was refused)."""

    plays: pd.DataFrame
    files: list[dict[str, object]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def read_files(self) -> int:
        return len(self.files)


def read_history(paths: Sequence[str | Path], limits: HistoryLimits, skip_ms: int) -> History:
    """Read every file in ``paths``; a file that fails is an error sentence and the others are still read.

    A play shorter than ``skip_ms`` counts as skipped when the file does not say (Spotify counts a stream from 30
    seconds). HistoryError when there are too many files, or when no file gave a single play.
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise HistoryError("Choose at least one listening-history file (Spotify JSON, Last.fm CSV or a plain CSV).")
    if len(paths) > limits.max_files:
        raise HistoryError(f"{len(paths)} files were given; a history import takes at most {limits.max_files}.")
    frames: list[pd.DataFrame] = []
    history = History(plays=_empty())
    total_bytes = 0
    rows = 0
    for path in paths:
        try:
            size = path.stat().st_size
            if size > limits.max_file_bytes:
                raise HistoryError(
                    f"{path.name} is {_size(size)}; each history file may be at most {_size(limits.max_file_bytes)}."
                )
            total_bytes += size
            if total_bytes > limits.max_total_bytes:
                raise HistoryError(
                    f"{path.name} takes the files past {_size(limits.max_total_bytes)} together, so it was not read."
                )
            kind, plays = read_history_file(path, limits.max_rows - rows, skip_ms)
        except HistoryError as error:
            history.errors.append(str(error))
            continue
        rows += len(plays)
        frames.append(plays)
        history.files.append({"file": path.name, "format": FORMATS[kind], "plays": len(plays)})
    if frames:
        history.plays = pd.concat(frames, ignore_index=True)
    if history.plays.empty:
        raise HistoryError(" ".join(history.errors) or "The history files hold no plays.")
    return history


def read_history_file(path: Path, max_rows: int, skip_ms: int) -> tuple[str, pd.DataFrame]:
    """The format of one file and its plays; HistoryError (one sentence naming the file) when it cannot be used."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise HistoryError(f"{path.name} could not be read ({error.strerror or error}).") from None
    if b"\x00" in raw[:4096]:
        raise HistoryError(f"{path.name} is not a text file (JSON or CSV).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    if not text.strip():
        raise HistoryError(f"{path.name} is empty.")
    if text.lstrip().startswith(("[", "{")):
        kind, plays = _read_json(path.name, text, max_rows)
    else:
        kind, plays = _read_csv(path.name, text, max_rows)
    plays = _tidy(plays, path.name, skip_ms)
    if plays.empty:
        raise HistoryError(f"{path.name} holds no plays with both a title and an artist.")
    return kind, plays


# ---- JSON: Spotify ------------------------------------------------------------------------------------------


def _read_json(name: str, text: str, max_rows: int) -> tuple[str, pd.DataFrame]:
    try:
        records = json.loads(text)
    except ValueError as error:
        raise HistoryError(f"{name} is not valid JSON ({error.args[0].split(':')[0]}).") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise HistoryError(f"{name} is JSON but not a list of plays, as Spotify's history files are.")
    if len(records) > max_rows:
        raise HistoryError(f"{name} holds {len(records):,} plays, more than the {max_rows:,} left for this import.")
    if not records:
        raise HistoryError(f"{name} is an empty list of plays.")
    keys = set().union(*(r.keys() for r in records[:50]))
    if {"ts", "ms_played"} <= keys and "master_metadata_track_name" in keys:
        frame = pd.DataFrame.from_records(records)
        uris = frame.get("spotify_track_uri", pd.Series("", index=frame.index)).fillna("").astype(str)
        plays = pd.DataFrame(
            {
                "title": frame["master_metadata_track_name"],
                "artist": frame.get("master_metadata_album_artist_name"),
                "track_id": uris.str.extract(_URI, expand=False).fillna(""),
                "played_at": frame["ts"],
                "ms_played": frame["ms_played"],
                "skipped": frame.get("skipped", pd.Series(np.nan, index=frame.index)),
            }
        )
        return "spotify_extended", plays
    if {"endTime", "artistName", "trackName"} <= keys:
        frame = pd.DataFrame.from_records(records)
        plays = pd.DataFrame(
            {
                "title": frame["trackName"],
                "artist": frame["artistName"],
                "played_at": frame["endTime"],
                "ms_played": frame.get("msPlayed", pd.Series(np.nan, index=frame.index)),
            }
        )
        return "spotify_account", plays
    shown = ", ".join(sorted(map(str, keys))[:8])
    raise HistoryError(
        f"{name} is JSON, but not a Spotify history (its plays have {shown}; expected endTime, artistName, "
        "trackName, msPlayed or ts, ms_played, master_metadata_track_name)."
    )


# ---- CSV: Last.fm and plain ---------------------------------------------------------------------------------


def _read_csv(name: str, text: str, max_rows: int) -> tuple[str, pd.DataFrame]:
    first = text.lstrip().splitlines()[0]
    delimiter = max(",;\t", key=first.count)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            header=None,
            keep_default_na=False,
            nrows=max_rows + 2,
            quoting=csv.QUOTE_MINIMAL,
            on_bad_lines="skip",
            engine="python",
        )
    except (ValueError, csv.Error) as error:
        raise HistoryError(f"{name} is not a readable CSV ({str(error).splitlines()[0]}).") from None
    if len(frame) - 1 > max_rows:
        raise HistoryError(f"{name} holds more than the {max_rows:,} rows left for this import.")
    header = [_header(value) for value in frame.iloc[0]]
    title_col = _find(header, _TITLE_HEADERS)
    artist_col = _find(header, _ARTIST_HEADERS)
    if title_col is not None and artist_col is not None:
        body = frame.iloc[1:]
        time_col = _find(header, _TIME_HEADERS)
        plays_col = _find(header, _PLAYS_HEADERS)
        id_col = _find(header, _ID_HEADERS)
        plays = pd.DataFrame({"title": body[title_col], "artist": body[artist_col]})
        if id_col is not None:
            ids = body[id_col].str.strip()
            plays["track_id"] = ids.str.extract(_URI, expand=False).fillna(ids.where(ids.str.len() == 22, ""))
        if time_col is not None:
            plays["played_at"] = body[time_col]
            return "lastfm", plays
        if plays_col is not None:
            counts = pd.to_numeric(body[plays_col].str.strip(), errors="coerce")
            bad = counts.isna() | (counts < 0) | (counts != counts.round())
            if bad.any():
                line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
                raise HistoryError(f"{name}: the plays column must hold whole numbers, but line {line} does not.")
            plays["plays"] = counts.astype(int)
        return "plain", plays
    if frame.shape[1] == 4 and _looks_like_dates(frame[3]):
        return "lastfm", pd.DataFrame({"artist": frame[0], "title": frame[2], "played_at": frame[3]})
    if frame.shape[1] in (2, 3) and not _looks_like_header(header):
        plays = pd.DataFrame({"title": frame[0], "artist": frame[1]})
        if frame.shape[1] == 3:
            counts = pd.to_numeric(frame[2].str.strip(), errors="coerce")
            if counts.notna().all():
                plays["plays"] = counts.astype(int)
        return "plain", plays
    raise HistoryError(
        f"{name} is a CSV, but not a listening history: give it title and artist columns (and plays), or use a "
        "Last.fm export (artist, album, track, date)."
    )


def _header(value: object) -> str:
    return re.sub(r"[\s.]+", "_", str(value).replace("\ufeff", "").strip().casefold())


def _find(header: list[str], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    return None


def _looks_like_header(header: list[str]) -> bool:
    known = {*_TITLE_HEADERS, *_ARTIST_HEADERS, *_TIME_HEADERS, *_PLAYS_HEADERS, "album"}
    return any(h in known for h in header)


def _looks_like_dates(values: pd.Series) -> bool:
    sample = values.head(50)
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed", utc=True)
    return bool(parsed.notna().mean() >= 0.8)


# ---- one table -------------------------------------------------------------------------------------------------


def _tidy(plays: pd.DataFrame, source: str, skip_ms: int) -> pd.DataFrame:
    """The plays in ``PLAY_COLUMNS``: text trimmed, times as UTC, skips decided, rows without a title or artist
    dropped."""
    index = plays.index
    out = pd.DataFrame(index=index)
    for name in ("title", "artist", "track_id"):
        values = plays[name] if name in plays else pd.Series("", index=index)
        out[name] = values.fillna("").astype(str).str.strip().str.slice(0, 500)
    out["played_at"] = _times(plays["played_at"]) if "played_at" in plays else pd.NaT
    out["played_at"] = pd.to_datetime(out["played_at"], utc=True)
    ms = pd.to_numeric(plays["ms_played"], errors="coerce") if "ms_played" in plays else np.nan
    out["ms_played"] = pd.Series(ms, index=index, dtype=float).clip(lower=0)
    stated = plays["skipped"] if "skipped" in plays else pd.Series(np.nan, index=index)
    stated = stated.map(lambda v: v if isinstance(v, bool) else np.nan)
    short = out["ms_played"] < skip_ms
    out["skipped"] = stated.where(stated.notna(), short).astype(bool)
    out["plays"] = plays["plays"].clip(lower=0).astype(int) if "plays" in plays else 1
    out["source"] = source
    keep = (out["title"] != "") & (out["artist"] != "") & (out["plays"] > 0)
    return out.loc[keep, list(PLAY_COLUMNS)].reset_index(drop=True)


def _times(values: pd.Series) -> pd.Series:
    """Play times as UTC: ISO text, ``2021-01-31 12:34``, ``31 Jan 2021 12:34``, or Unix seconds (or ms)."""
    text = values.fillna("").astype(str).str.strip()
    numeric = pd.to_numeric(text.where(text.str.fullmatch(r"\d{9,13}"), None), errors="coerce")
    seconds = numeric.where(numeric < 1e11, numeric / 1000)
    from_numbers = pd.to_datetime(seconds, unit="s", utc=True, errors="coerce")
    from_text = pd.to_datetime(text.where(numeric.isna(), None), utc=True, errors="coerce", format="mixed")
    return from_numbers.fillna(from_text)


def _size(count: int) -> str:
    """``30 MB``, ``120 kB``."""
    return (
        f"{count / 1e6:.0f} MB"
        if count >= 10_000_000
        else f"{count / 1e6:.1f} MB"
        if count >= 1e6
        else (f"{count / 1e3:.0f} kB")
    )


def _empty() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=object) for name in PLAY_COLUMNS})
