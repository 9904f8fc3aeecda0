"""Playlist export: results as CSV, as an M3U playlist a player can open, as Spotify track URIs and as a plain list.

An M3U entry must be a location: the song's file path (a local library's catalogue has a ``location``, ``path`` or
``file`` column) or its Spotify URI (a Spotify export's track ids). A catalogue with neither can export a list of
names, not a playable playlist, and says so (``NOT_PLAYABLE``).
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from index_builder.errors import QueryError

FORMATS = ("csv", "m3u", "txt")
"""Export formats, also the file extensions."""
CSV_COLUMNS = (
    "rank", "title", "artist", "year", "genre", "score", "song_id", "spotify_uri", "location", "duration_s",
    "explanation",
)  # fmt: skip
NOT_PLAYABLE = (
    "This catalogue has no file paths and no Spotify track ids, so it can export a list of names (CSV or plain "
    "list), not a playable playlist."
)
"""What the page and the API say where an M3U would play nothing."""
NO_SPOTIFY_IDS = "None of these songs has a Spotify track id, so there are no Spotify URIs to paste."
_FORMULA = re.compile(r"^'*[=+\-@\t\r]")
"""A cell spreadsheets would run as a formula (OWASP CSV injection): ``=``, ``+``, ``-``, ``@``, tab or CR first,
also behind quotes this module added, so that reading the file back is exact."""
_SPOTIFY_ID = re.compile(r"^(?:spotify:track:|https?://open\.spotify\.com/track/)?([0-9A-Za-z]{22})(?:\?.*)?$")


def spotify_uri(song_id: object) -> str | None:
    """``spotify:track:<id>`` when ``song_id`` is a Spotify track id, URI or link; else None (hashes, say)."""
    match = _SPOTIFY_ID.match(str(song_id or "").strip())
    return f"spotify:track:{match.group(1)}" if match else None


def playlist_sources(songs: pd.DataFrame) -> tuple[bool, bool]:
    """Whether the catalogue ``songs`` has file locations, and whether it has Spotify track ids: what decides if
    its results can become a playable playlist."""
    files = "location" in songs and bool((songs["location"].fillna("").astype(str) != "").any())
    spotify = bool(songs["song_id"].astype(str).str.strip().str.match(_SPOTIFY_ID.pattern).any())
    return files, spotify


def playlist_rows(results: object, songs: pd.DataFrame | None = None) -> list[dict[str, object]]:
    """Export rows from results: a list of result dicts (``SearchResult.to_dict()``), or a response dict holding
    them under ``results`` or ``recommendations``. ``songs`` (the catalogue) adds each song's length and file
    location."""
    items = _result_list(results)
    durations: dict[str, float] = {}
    locations: dict[str, str] = {}
    if songs is not None and "duration_s" in songs:
        known = songs[["song_id", "duration_s"]].dropna()
        durations = dict(zip(known["song_id"].astype(str), known["duration_s"].astype(float), strict=True))
    if songs is not None and "location" in songs:
        placed = songs[songs["location"].fillna("").astype(str) != ""]
        locations = dict(zip(placed["song_id"].astype(str), placed["location"].astype(str), strict=True))
    rows = []
    for position, item in enumerate(items, 1):
        if not isinstance(item, Mapping) or not _field(item, "title", position).strip():
            raise QueryError(f"Result {position} has no title; export takes the results a search returned.")
        song_id = _field(item, "song_id", position)
        duration = durations.get(song_id)
        rows.append(
            {
                "rank": _number(item.get("rank"), "rank", position, whole=True) or position,
                "title": _field(item, "title", position),
                "artist": _field(item, "artist", position),
                "year": _number(item.get("year"), "year", position, whole=True),
                "genre": _field(item, "genre", position),
                "score": _number(item.get("score"), "score", position),
                "song_id": song_id,
                "spotify_uri": spotify_uri(song_id) or "",
                "location": locations.get(song_id, ""),
                "duration_s": "" if duration is None else round(duration),
                "explanation": _field(item, "explanation", position),
            }
        )
    return rows


def to_csv(rows: Sequence[Mapping[str, object]]) -> str:
    """A CSV with a header row (CSV_COLUMNS), one song per row."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(CSV_COLUMNS), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: spreadsheet_safe(row.get(key)) for key in CSV_COLUMNS} for row in rows)
    return buffer.getvalue()


def spreadsheet_safe(value: object) -> object:
    """A CSV cell that spreadsheets show as text, never run: ``=HYPERLINK(...)`` -> ``'=HYPERLINK(...)``; None -> ""."""
    if value is None:
        return ""
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value
    return value


def to_m3u(rows: Sequence[Mapping[str, object]]) -> str:
    """An extended M3U: ``#EXTINF:<seconds>,<artist> - <title>`` then where a player finds the song: its file
    location, else its Spotify URI. A song with neither is left out (named in a ``#`` comment, which players skip);
    when no song has either, QueryError with ``NOT_PLAYABLE``. Unknown lengths are -1."""
    if not any(_entry(row) for row in rows):
        raise QueryError(NOT_PLAYABLE)
    lines = ["#EXTM3U"]
    for row in rows:
        name = _one_line(f"{row['artist']} - {row['title']}")
        location = _entry(row)
        if not location:
            lines.append(f"# not playable (no file or Spotify id): {name}")
            continue
        seconds = row.get("duration_s")
        lines.append(f"#EXTINF:{seconds if seconds not in (None, '') else -1},{name}")
        lines.append(location)
    return "\n".join(lines) + "\n"


def to_spotify_uris(rows: Sequence[Mapping[str, object]]) -> str:
    """The songs' Spotify URIs, one per line, to paste into a Spotify playlist; songs without one are left out.
    QueryError when none has one."""
    uris = [str(row.get("spotify_uri")) for row in rows if row.get("spotify_uri")]
    if not uris:
        raise QueryError(NO_SPOTIFY_IDS)
    return "\n".join(uris) + "\n"


def to_text(rows: Sequence[Mapping[str, object]]) -> str:
    """A numbered plain list to paste anywhere: ``1. Artist - Title (2015)``."""
    lines = []
    for number, row in enumerate(rows, 1):
        year = f" ({row['year']})" if row.get("year") not in (None, "") else ""
        lines.append(_one_line(f"{number}. {row['artist']} - {row['title']}{year}"))
    return "\n".join(lines) + ("\n" if lines else "")


def render(rows: Sequence[Mapping[str, object]], fmt: str) -> str:
    """The export text in ``fmt`` (csv, m3u or txt)."""
    fmt = normalize_format(fmt)
    return {"csv": to_csv, "m3u": to_m3u, "txt": to_text}[fmt](rows)


def write_export(rows: Sequence[Mapping[str, object]], fmt: str, folder: Path, stem: str = "moodring-playlist") -> Path:
    """Write the export into ``folder`` as ``<stem>.<fmt>`` (UTF-8), replacing any earlier one whole; its path."""
    fmt = normalize_format(fmt)
    path = Path(folder) / f"{stem}.{fmt}"
    handle, staging = tempfile.mkstemp(dir=folder, prefix=f".{stem}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(render(rows, fmt))
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return path


def normalize_format(fmt: str) -> str:
    """``CSV``/``.csv`` -> ``csv``; ``text``/``plain`` -> ``txt``; anything else is a QueryError."""
    name = str(fmt or "").strip().lower().lstrip(".")
    name = {"text": "txt", "plain": "txt", "m3u8": "m3u", "playlist": "m3u"}.get(name, name)
    if name not in FORMATS:
        raise QueryError(f"Export format must be one of {', '.join(FORMATS)}, not '{fmt}'.")
    return name


def parse_csv(text: str) -> list[dict[str, str]]:
    """The rows of an exported CSV, as strings (the quote ``to_csv`` puts before a formula-like cell removed)."""
    return [
        {
            key: value[1:] if value and value.startswith("'") and _FORMULA.match(value) else value
            for key, value in row.items()
        }
        for row in csv.DictReader(io.StringIO(text))
    ]


def parse_m3u(text: str) -> list[dict[str, str]]:
    """``artist``, ``title``, ``seconds`` and ``location`` of each entry of an exported M3U."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != "#EXTM3U":
        raise ValueError("Not an extended M3U playlist: the first line must be #EXTM3U.")
    entries = []
    info: dict[str, str] | None = None
    for line in lines[1:]:
        if line.startswith("#EXTINF:"):
            seconds, _, name = line[len("#EXTINF:") :].partition(",")
            artist, _, title = name.partition(" - ")
            info = {"seconds": seconds, "artist": artist, "title": title}
        elif not line.startswith("#") and info is not None:
            entries.append({**info, "location": line})
            info = None
    return entries


def parse_text(text: str) -> list[dict[str, str]]:
    """``artist``, ``title`` and ``year`` of each line of an exported plain list."""
    entries = []
    for line in text.splitlines():
        match = re.match(r"^\s*\d+\.\s+(.*?) - (.*?)(?: \((\d{4})\))?\s*$", line)
        if match:
            entries.append({"artist": match.group(1), "title": match.group(2), "year": match.group(3) or ""})
    return entries


def _result_list(results: object) -> list[object]:
    if isinstance(results, Mapping):
        for key in ("results", "recommendations"):
            value = results.get(key)
            if isinstance(value, Mapping) and "results" in value:
                value = value["results"]
            if isinstance(value, list):
                return value
        raise QueryError("Export takes a list of results, or a response with 'results'.")
    if isinstance(results, list | tuple):
        return list(results)
    raise QueryError("Export takes a list of results, or a response with 'results'.")


def _entry(row: Mapping[str, object]) -> str:
    """Where a player finds the song of ``row``: its file location, else its Spotify URI, else ""."""
    location = _one_line(str(row.get("location") or ""))
    if location.startswith("#"):
        location = ""
    return location or str(row.get("spotify_uri") or "")


def _field(item: Mapping[str, object], key: str, position: int) -> str:
    """A text field of a result: a string or a plain number; missing is ""; anything else is a QueryError."""
    value = item.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise QueryError(f"Result {position} has a {key} that is not text; export takes the results a search returned.")


def _number(value: object, key: str, position: int, whole: bool = False) -> int | float | None:
    """A numeric field of a result (also a number written as text); missing is None; anything else a QueryError."""
    if value is None or value == "":
        return None
    try:
        number = float(value) if isinstance(value, int | float | str) and not isinstance(value, bool) else math.nan
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or (whole and not number.is_integer()):
        kind = "whole number" if whole else "number"
        raise QueryError(f"Result {position} has a {key} that is not a {kind}; export takes what a search returned.")
    return int(number) if whole else number


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
