"""An app over a catalogue whose songs all come from one year starts, and its year filter works."""

from __future__ import annotations

import gradio as gr

import app as moodring_app
from assistant.engine import SearchEngine
from tests.helpers import SPOTIFY_HEADER, SPOTIFY_ROWS, test_settings, write_csv


def _handler(app: gr.Blocks, name: str):
    return next(block.fn for block in app.fns.values() if getattr(block.fn, "__name__", "") == name)


def test_an_app_over_a_one_year_catalogue_starts_and_filters(encoder, tmp_path):
    rows = [[*row[:4], "2015-06-01", *row[5:]] for row in SPOTIFY_ROWS]
    settings = test_settings(tmp_path, write_csv(tmp_path / "one-year.csv", SPOTIFY_HEADER, rows))
    engine = SearchEngine.from_settings(settings, encoder=encoder)
    app = moodring_app.create_app(engine)
    browse = _handler(app, "on_browse")
    listing, csv_path, *_ = browse("", ["folk"], 2015, 2016, 5, True, None)
    assert "Quiet Rain" in listing and csv_path
