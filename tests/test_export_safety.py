"""Exports: spreadsheets read every cell as text, and M3U entries stay on their lines."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from gradio_client import Client

from assistant.discovery.export import parse_csv, parse_m3u, playlist_rows, to_csv, to_m3u
from tests.helpers import HOSTILE_ROWS


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
    m3u = to_m3u(rows)
    assert len(m3u.splitlines()) == 1 + 2 * len(rows)
    assert len(parse_m3u(m3u)) == len(rows)


def test_export_endpoint_writes_formulas_as_text(client):
    results = [{"title": "=1+2", "artist": "+cmd", "genre": "-x", "explanation": "@SUM(A1)", "year": "2015"}]
    path = client.predict(fmt="csv", results=results, api_name="/export")["path"]
    row = list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8"))))[1]
    assert row[1:5] == ["'=1+2", "'+cmd", "2015", "'-x"] and row[-1] == "'@SUM(A1)"
