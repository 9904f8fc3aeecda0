"""Titles and artists as the artist wrote them: the bundled catalogue's damage repaired, an upload's named."""

from __future__ import annotations

import pytest

from assistant.catalogue_view import credited_artists
from index_builder.catalogue import load_catalogue
from index_builder.settings import PROJECT_ROOT
from index_builder.text_checks import (
    LOST_CHARACTER,
    SPREADSHEET_DATE,
    UNBALANCED,
    TextRepairs,
    text_marks,
    tidy_whitespace,
)
from tests.helpers import write_csv

HEADER = ["title", "artist", "energy", "valence", "tempo"]


@pytest.mark.parametrize(
    ("text", "marks"),
    [
        ("Perfect Duet (Ed Sheeran & Beyonc?", (LOST_CHARACTER,)),
        ("...Ready For It? - BloodPop?Remix", (LOST_CHARACTER,)),
        ("43776", (SPREADSHEET_DATE,)),
        ("2019-11-07 00:00:00", (SPREADSHEET_DATE,)),
        ('Let It Go - From "Frozen / Single Version', (UNBALANCED,)),
        ("Hello (Remix", (UNBALANCED,)),
        ("What Do You Mean?", ()),
        ("How Ya Doin'? (feat. Missy Elliott)", ()),
        ("7/11", ()),
        ("1999", ()),
        ("22", ()),
        ("Atlas - From “The Hunger Games: Catching Fire” Soundtrack", ()),
        ("Beyoncé", ()),
    ],
)
def test_marks_of_damage(text, marks):
    assert text_marks(text) == marks


def test_whitespace_is_tidied():
    assert tidy_whitespace("  Stay\u00a0 With\tMe \n") == "Stay With Me"


def test_bundled_catalogue_shows_no_damaged_title_or_artist(bundled_csv):
    catalogue = load_catalogue(bundled_csv)
    songs = catalogue.songs
    damaged = {text: text_marks(text) for text in [*songs["title"], *songs["artist"]] if text_marks(text)}
    assert damaged == {}
    for text in [*songs["title"], *songs["artist"]]:
        assert text == tidy_whitespace(text)
    assert not any(note.startswith("warning:") for note in catalogue.report.notes)
    titles = set(songs["title"])
    assert {
        "7/11",
        "Perfect Duet (Ed Sheeran & Beyoncé)",
        "Walk On Water (feat. Beyoncé)",
        "Mi Gente (feat. Beyoncé)",
        "Friends (with BloodPop®)",
        "...Ready For It? - BloodPop® Remix",
        "Cold Water (feat. Justin Bieber & MØ)",
        'Let It Go - From "Frozen" / Single Version',
    } <= titles
    assert "43776" not in titles
    assert any("repaired 8 damaged title(s) listed in text_repairs.csv" in note for note in catalogue.report.notes)


def test_every_repair_in_the_table_is_used_and_recorded(bundled_csv):
    repairs = TextRepairs.from_file(PROJECT_ROOT / "data" / "text_repairs.csv")
    songs = load_catalogue(bundled_csv, repairs=TextRepairs({})).songs
    as_read = set(zip(songs["artist"], songs["title"], strict=True))
    readme = (PROJECT_ROOT / "data" / "README.md").read_text(encoding="utf-8")
    for (artist, title), repaired in repairs.titles.items():
        assert (artist, title) in as_read, f"{title} by {artist} is not in the bundled catalogue"
        assert text_marks(title) and not text_marks(repaired)
        assert f"`{repaired}`" in readme, f"data/README.md does not record the repair to {repaired}"


def test_an_upload_with_damage_is_loaded_with_warnings(tmp_path):
    rows = [
        ["Friends (with Blood?", "Someone", "0.5", "0.5", "100"],
        ["43776", "Another", "0.4", "0.3", "90"],
        ["Hello (Remix", "Third", "0.3", "0.2", "80"],
        ["What Do You Mean?", "Fine", "0.6", "0.7", "120"],
        ["Two  spaces\there", "Fine", "0.6", "0.7", "120"],
    ]
    catalogue = load_catalogue(write_csv(tmp_path / "mine.csv", HEADER, rows), repairs=TextRepairs({}))
    assert len(catalogue) == 5  # warned about, never dropped
    summary = catalogue.report.summary(len(catalogue))
    assert "warning: 1 title(s) or artist(s) may have lost a character" in summary
    assert "'Friends (with Blood?' by Someone" in summary
    assert "warning: 1 title(s) or artist(s) look like a date a spreadsheet made" in summary
    assert "warning: 1 title(s) or artist(s) have an unclosed bracket or quote: 'Hello (Remix' by Third" in summary
    assert "What Do You Mean" not in summary
    assert "tidied stray whitespace" in summary and "Two spaces here" in set(catalogue.songs["title"])


def test_a_repairs_table_repairs_only_its_own_artist(tmp_path):
    table = tmp_path / "repairs.csv"
    table.write_text("artist,title as read,title,why\nBeyonce,43776,7/11,date\n", encoding="utf-8")
    rows = [["43776", "Beyonce", "0.5", "0.5", "100"], ["43776", "Someone Else", "0.5", "0.5", "100"]]
    songs = load_catalogue(write_csv(tmp_path / "c.csv", HEADER, rows), repairs=TextRepairs.from_file(table)).songs
    assert sorted(zip(songs["artist"], songs["title"], strict=True)) == [("Beyonce", "7/11"), ("Someone Else", "43776")]


def test_a_guest_credit_with_an_accent_credits_the_artist_without():
    assert "beyonce" in credited_artists("Eminem", "Walk On Water (feat. Beyoncé)")


def test_editing_the_repairs_table_changes_the_index_key(tmp_path, bundled_csv):
    from types import SimpleNamespace

    from index_builder.build import current_key
    from tests.helpers import test_settings

    encoder = SimpleNamespace(model_name="m", weights_sha256="w")
    table = tmp_path / "repairs.csv"
    table.write_text("artist,title as read,title,why\n", encoding="utf-8")
    settings = test_settings(tmp_path, bundled_csv, text_repairs_path=table)
    before = current_key(settings, encoder).catalogue_sha256  # type: ignore[arg-type]
    table.write_text("artist,title as read,title,why\nBeyonce,43776,7/11,date\n", encoding="utf-8")
    assert current_key(settings, encoder).catalogue_sha256 != before  # type: ignore[arg-type]
