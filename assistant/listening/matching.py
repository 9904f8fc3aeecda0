"""Plays matched to catalogue songs: by Spotify track id where both have one, else by title and artist.

A play's title is found among the songs credited to its artist (``song_fields.credited_artists``: the artist field
and ``feat.`` guests, accents folded) through the one title resolver (``TitleIndex``: exact, without brackets or
" - Remastered" parts, then difflib); an artist the catalogue spells a little differently is read through difflib
too. Each play that misses gets a reason.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from assistant.catalogue_view import CatalogueView
from assistant.escaping import escape_markdown
from assistant.titles import SongNotFound, normalize_name, strip_brackets
from index_builder.song_fields import credit_name, credited_artists

HOW = ("id", "title and artist", "near title or artist")
"""How a play was matched: its track id, its exact title and artist (any case, brackets and accents aside), or a
title or artist close enough (typos)."""
NO_ARTIST = "no artist of that name in the catalogue"
NO_TITLE = "the artist is in the catalogue, but not this song"
MAX_EXAMPLES = 5


@dataclass
class MatchReport:
    """What matched, what did not and why: counts of plays and of distinct songs, with a few examples."""

    plays: int = 0
    matched_plays: int = 0
    tracks: int = 0
    matched_tracks: int = 0
    by_how: dict[str, int] = field(default_factory=dict)
    """Distinct tracks per way of matching (``HOW``)."""
    misses: dict[str, int] = field(default_factory=dict)
    """Distinct tracks per reason they missed."""
    examples: dict[str, list[str]] = field(default_factory=dict)
    """A few ``Title - Artist`` per reason (and per near match: ``typed -> catalogue``)."""

    def to_dict(self) -> dict[str, object]:
        return {
            "plays": self.plays,
            "matched_plays": self.matched_plays,
            "tracks": self.tracks,
            "matched_tracks": self.matched_tracks,
            "matched_by": self.by_how,
            "missed_because": self.misses,
            "examples": self.examples,
        }

    def as_markdown(self) -> str:
        """The report for the page, every title and artist escaped."""
        return self._lines(escape_markdown, bold=True)

    def as_text(self) -> str:
        """The report for a terminal."""
        return self._lines(str, bold=False)

    def _lines(self, shown: Callable[[str], str], bold: bool) -> str:
        share = self.matched_plays / self.plays if self.plays else 0.0
        head = (
            f"Matched {self.matched_plays:,} of {self.plays:,} plays ({share:.0%}): {self.matched_tracks:,} of "
            f"{self.tracks:,} distinct songs."
        )
        lines = [f"**{head}**" if bold else head]
        if self.by_how:
            lines.append("- matched by " + ", ".join(f"{how}: {n:,}" for how, n in self.by_how.items()))
        for reason, count in self.misses.items():
            examples = "; ".join(shown(e) for e in self.examples.get(reason, []))
            lines.append(f"- not matched, {shown(reason)}: {count:,}" + (f" (e.g. {examples})" if examples else ""))
        near = self.examples.get(HOW[2])
        if near:
            lines.append("- read as near matches: " + "; ".join(shown(e) for e in near))
        return "\n".join(lines)


@dataclass
class MatchedPlays:
    """The plays with the catalogue row each matched (``row``, -1 where none) and the report."""

    plays: pd.DataFrame
    report: MatchReport


def match_plays(space: CatalogueView, plays: pd.DataFrame, fuzzy_ratio: float) -> MatchedPlays:
    """Match every play (columns of ``history_files.PLAY_COLUMNS``) to a catalogue row; each distinct
    (title, artist, track id) is looked up once."""
    keys = plays["title"] + "\x1f" + plays["artist"] + "\x1f" + plays["track_id"]
    distinct = plays.assign(_key=keys).drop_duplicates("_key")
    matcher = _Matcher(space, fuzzy_ratio)
    found: dict[str, tuple[int, str]] = {}
    for key, title, artist, track_id in zip(
        distinct["_key"], distinct["title"], distinct["artist"], distinct["track_id"], strict=True
    ):
        found[key] = matcher.match(title, artist, track_id)
    rows = np.array([found[k][0] for k in keys], dtype=np.int64)
    matched = plays.assign(row=rows, how=[found[k][1] for k in keys])
    report = MatchReport(plays=int(plays["plays"].sum()), tracks=len(found))
    report.matched_plays = int(matched.loc[matched["row"] >= 0, "plays"].sum())
    outcomes = Counter(how for _, how in found.values())
    report.matched_tracks = sum(outcomes[h] for h in HOW)
    report.by_how = {h: outcomes[h] for h in HOW if outcomes[h]}
    report.misses = {reason: n for reason, n in outcomes.most_common() if reason not in HOW}
    report.examples = matcher.examples
    return MatchedPlays(matched, report)


class _Matcher:
    """Look-ups over one catalogue, kept while a history is matched (artists already read are remembered)."""

    def __init__(self, space: CatalogueView, fuzzy_ratio: float) -> None:
        self.space = space
        self.fuzzy_ratio = fuzzy_ratio
        self.titles = space.title_index
        self.artist_rows: dict[str, np.ndarray] = {}
        self.examples: dict[str, list[str]] = {}

    def match(self, title: str, artist: str, track_id: str) -> tuple[int, str]:
        """The row and how it matched, or -1 and why not."""
        if track_id:
            row = self.space.row_of(track_id)
            if row is not None:
                return row, HOW[0]
        credits, near_artist = self._credits(artist, title)
        rows = np.flatnonzero(self.space.credited_mask(credits)) if credits else np.array([], dtype=np.int64)
        if len(rows) == 0:
            self._example(NO_ARTIST, f"{title} - {artist}")
            return -1, NO_ARTIST
        for text in dict.fromkeys([title, strip_brackets(title).strip()]):
            try:
                match = self.titles.find(text, rows=rows)
            except SongNotFound:
                continue
            if match.note is None and not near_artist:
                return match.row, HOW[1]
            if self._close(text, match.row):
                self._example(HOW[2], f"{title} - {artist} -> {self.space.label(match.row)}")
                return match.row, HOW[2]
        self._example(NO_TITLE, f"{title} - {artist}")
        return -1, NO_TITLE

    def _credits(self, artist: str, title: str) -> tuple[frozenset[str], bool]:
        """The catalogue's names for the artists credited on a play, and whether any was a near spelling."""
        names = credited_artists(artist, title)
        known = set(self.space.credit_names)
        exact = names & known
        if exact:
            return frozenset(exact), False
        close = difflib.get_close_matches(credit_name(artist), self.space.credit_names, n=1, cutoff=self.fuzzy_ratio)
        return frozenset(close), bool(close)

    def _close(self, text: str, row: int) -> bool:
        """Whether a near match is close enough for a history (the title resolver's own cut-off is for what people
        type in a box; a history holds many songs the catalogue lacks, so it asks for ``fuzzy_ratio``)."""
        wanted = normalize_name(strip_brackets(text))
        candidate = normalize_name(strip_brackets(self.space.titles[row]))
        return difflib.SequenceMatcher(None, wanted, candidate, autojunk=False).ratio() >= self.fuzzy_ratio

    def _example(self, reason: str, text: str) -> None:
        shown = self.examples.setdefault(reason, [])
        if len(shown) < MAX_EXAMPLES:
            shown.append(text)
