"""Titles and artists as the artist wrote them: exact repairs from a table, tidy whitespace, and the marks of damage
that cannot be repaired without evidence (a lost character, a spreadsheet date, an unclosed bracket), for the load
report to name.

A character that a misreading tool could not decode was often saved as one ``?`` together with the ASCII character
after it (``Beyonc?`` for ``Beyoncé)``), so the mark is a ``?`` inside a word, or a ``?`` that ends a text leaving
a bracket open. A spreadsheet turns a title such as ``7/11`` into a date and saves its serial number (``43776``).
Which character was lost is not in the text itself, so those are repaired only from a table whose rows say why
(``data/text_repairs.csv``, the bundled catalogue's damage), and reported otherwise.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from index_builder.errors import CatalogueError

LOST_CHARACTER = "lost character"
SPREADSHEET_DATE = "spreadsheet date"
UNBALANCED = "unclosed bracket or quote"
MARKS = (LOST_CHARACTER, SPREADSHEET_DATE, UNBALANCED)
"""The kinds of damage ``text_marks`` finds, most telling first."""

REPAIR_COLUMNS = ("artist", "title as read", "title", "why")
"""The columns of a repairs table: the song's artist and its title as the loader reads it, the title to show, why."""

_QUESTION_IN_WORD = re.compile(r"\w\?\w")
_FIRST_SERIAL, _LAST_SERIAL = 25_569, 73_050
"""Spreadsheet day numbers (1900 date system) of 1970-01-01 and 2099-12-31."""
_DATE_SERIAL = re.compile(r"\d{5}(?:\.0+)?")
_DATE_TEXT = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?"  # 2019-11-07 00:00:00
    r"|\d{1,2}[/.]\d{1,2}[/.]\d{4}(?: \d{1,2}:\d{2})?"  # 07/11/2019
)
_PAIRS = (("(", ")"), ("[", "]"), ("{", "}"), ("“", "”"))


@dataclass(frozen=True)
class TextRepairs:
    """Exact title repairs: (artist, title as read) -> the title to show."""

    titles: Mapping[tuple[str, str], str]
    source: str = ""

    @classmethod
    def from_file(cls, path: Path | None) -> TextRepairs:
        """The table at ``path`` (columns ``REPAIR_COLUMNS``); None or a missing file is an empty table."""
        if path is None or not Path(path).is_file():
            return cls({})
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [name for name in REPAIR_COLUMNS if name not in (reader.fieldnames or [])]
            if missing:
                raise CatalogueError(f"The repairs table {Path(path).name} has no column {', '.join(missing)}.")
            titles = {(row["artist"], row["title as read"]): row["title"] for row in reader}
        return cls(titles, Path(path).name)

    def title(self, artist: str, title: str) -> str:
        """The repaired title of ``title`` by ``artist``, or ``title`` itself when the table has no row for it."""
        return self.titles.get((artist, title), title)


def tidy_whitespace(text: str) -> str:
    """Every run of whitespace (tabs, line breaks, no-break spaces) as one space, none at either end."""
    return " ".join(text.split())


def text_marks(text: str) -> tuple[str, ...]:
    """The kinds of damage ``text`` shows, from ``MARKS``; a lost character explains the bracket it left open."""
    marks = []
    unbalanced = _unbalanced(text)
    if _QUESTION_IN_WORD.search(text) or (unbalanced and text.endswith("?")):
        marks.append(LOST_CHARACTER)
    if _is_date(text):
        marks.append(SPREADSHEET_DATE)
    if unbalanced and LOST_CHARACTER not in marks:
        marks.append(UNBALANCED)
    return tuple(marks)


def _unbalanced(text: str) -> bool:
    if text.count('"') % 2:
        return True
    return any(text.count(opening) != text.count(closing) for opening, closing in _PAIRS)


def _is_date(text: str) -> bool:
    if _DATE_SERIAL.fullmatch(text):
        return _FIRST_SERIAL <= float(text) <= _LAST_SERIAL
    return bool(_DATE_TEXT.fullmatch(text))
