"""Exports: spreadsheets read every cell as text, M3U entries stay on their lines, and the files a session
exports live in one private folder inside Gradio's cache that goes with the session or once it is old."""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import time
from pathlib import Path

import pytest
from gradio.utils import get_upload_folder
from gradio_client import Client

import app as moodring_app
from assistant.discovery.export import parse_csv, parse_m3u, playlist_rows, to_csv, to_m3u
from assistant.engine import SearchEngine
from assistant.export_folders import PREFIX, prune_export_folders
from tests.helpers import HOSTILE_ROWS, free_port


@pytest.fixture
def client(app_url):
    return Client(app_url, verbose=False, download_files=False)


def test_csv_cells_never_start_a_formula_and_m3u_entries_stay_on_their_lines(hostile_engine):
    response = hostile_engine.search("songs", len(HOSTILE_ROWS))
    rows = playlist_rows([r.to_dict() for r in response.results], hostile_engine.songs)
    text = to_csv(rows)
    cells = [cell for row in list(csv.reader(io.StringIO(text)))[1:] for cell in row]
    for cell in cells:
        if cell and not re.fullmatch(r"-?\d+(\.\d+)?", cell):  # numbers are numbers, not formulas
            assert cell[0] not in "=+-@\t\r", cell
    assert "'=HYPERLINK(" in text and "'@SUM(" in text and "'-Dash Artist" in text and "'+plus" in text
    assert [(r["title"], r["artist"]) for r in parse_csv(text)] == [(r["title"], r["artist"]) for r in rows]
    placed = [{**row, "location": f"/music/{position}.mp3"} for position, row in enumerate(rows)]  # a playable M3U
    m3u = to_m3u(placed)
    assert len(m3u.splitlines()) == 1 + 2 * len(rows)
    assert len(parse_m3u(m3u)) == len(rows)


def test_export_endpoint_writes_formulas_as_text(client):
    results = [{"title": "=1+2", "artist": "+cmd", "genre": "-x", "explanation": "@SUM(A1)", "year": "2015"}]
    path = client.predict(fmt="csv", results=results, api_name="/export")["path"]
    row = list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8"))))[1]
    assert row[1:5] == ["'=1+2", "'+cmd", "2015", "'-x"] and row[-1] == "'@SUM(A1)"


def test_exports_live_in_one_session_folder_that_goes_with_the_session(app_url, monkeypatch):
    # Gradio's own test setting: heartbeats every 0.25 s, and a closed session's state dropped after 1 s, not an hour.
    monkeypatch.setenv("GRADIO_IS_E2E_TEST", "1")
    temp_before = set(Path(tempfile.gettempdir()).glob("moodring-export-*"))
    client = Client(app_url, verbose=False, download_files=False)
    songs = client.predict(query="happy songs", k=8, api_name="/search")
    paths = [
        Path(client.predict(fmt=fmt, results=songs[:n], api_name="/export")["path"])
        for n in range(1, 5)
        for fmt in ("csv", "txt")
    ]  # fmt: skip  (no M3U: the bundled catalogue has no files or Spotify ids)
    assert set(Path(tempfile.gettempdir()).glob("moodring-export-*")) == temp_before  # no copy outside the cache
    folders = {path.parent for path in paths}
    assert len(folders) == 1
    folder = folders.pop()
    assert folder.name.startswith(PREFIX) and folder.parent == Path(get_upload_folder()).resolve()
    assert sorted(p.name for p in folder.iterdir()) == [f"moodring-playlist.{f}" for f in ("csv", "txt")]
    assert len(parse_csv(paths[-2].read_text(encoding="utf-8"))) == 4  # the latest export of each format

    client.close()
    deadline = time.monotonic() + 30
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not folder.exists()


def test_old_exports_are_deleted_by_age(bundled_engine):
    settings = bundled_engine.settings.with_changes(export_max_age_s=1, cache_sweep_s=1)
    engine = SearchEngine.from_settings(settings, encoder=bundled_engine.encoder)
    app = moodring_app.create_app(engine)
    url = moodring_app.launch(app, port=free_port(), block=False)
    try:
        client = Client(url, verbose=False, download_files=False)
        path = Path(client.predict(fmt="csv", results=[{"title": "Old"}], api_name="/export")["path"])
        assert path.exists()
        deadline = time.monotonic() + 20
        while path.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not path.exists()
    finally:
        app.close()


def test_export_folders_untouched_for_long_are_pruned(tmp_path):
    fresh, stale, other = (tmp_path / name for name in (f"{PREFIX}fresh", f"{PREFIX}stale", "someone-elses"))
    for folder in (fresh, stale, other):
        folder.mkdir()
        (folder / "moodring-playlist.csv").write_text("rank\n", encoding="utf-8")
    long_ago = time.time() - 7200
    for path in (stale, stale / "moodring-playlist.csv", other, other / "moodring-playlist.csv"):
        os.utime(path, (long_ago, long_ago))
    assert prune_export_folders(tmp_path, 3600) == 1
    assert fresh.exists() and not stale.exists() and other.exists()
