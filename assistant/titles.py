"""Names as people type them: the one title resolver (fuzzy, with "did you mean") and the one genre/artist check."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.vocabulary import tokens
from index_builder.errors import QueryError


class SongNotFound(QueryError):
    """A title that matches no song closely enough; ``suggestions`` are the nearest titles ("did you mean")."""

    def __init__(self, message: str, suggestions: list[str]) -> None:
        super().__init__(message)
        self.suggestions = suggestions


@dataclass(frozen=True)
class SongMatch:
    """A song found by title; ``note`` says when a near miss was read as this song."""

    row: int
    note: str | None = None


class TitleIndex:
    """Finds the song a person means by a title ("Title", "Title - Artist", "Title by Artist"), typos allowed.

    Exact titles (whole, or without brackets and " - Remix" parts) win; among several songs with that title the
    named artist comes first, then a preferred row (a song on the list being discussed), then the most popular.
    Otherwise the closest title at least ``match_ratio`` alike (difflib ratio on normalized text) is taken with a
    note; otherwise SongNotFound offers up to ``max_suggestions`` titles at least ``suggest_ratio`` alike.
    """

    def __init__(
        self,
        titles: Sequence[object],
        artists: Sequence[object],
        popularity: np.ndarray,
        match_ratio: float,
        suggest_ratio: float,
        max_suggestions: int,
    ) -> None:
        self._raw_titles = [str(t) for t in titles]
        self._raw_artists = [str(a) for a in artists]
        self._titles = [normalize_name(t) for t in self._raw_titles]
        self._short_titles = [normalize_name(strip_brackets(t)) for t in self._raw_titles]
        self._artists = [normalize_name(a) for a in self._raw_artists]
        self._popularity = np.nan_to_num(np.asarray(popularity, dtype=float), nan=0.0)
        self.match_ratio = match_ratio
        self.suggest_ratio = suggest_ratio
        self.max_suggestions = max_suggestions

    def label(self, row: int) -> str:
        """``Title - Artist``, the form ``find`` reads back exactly."""
        return f"{self._raw_titles[row]} - {self._raw_artists[row]}"

    def find(self, text: str, rows: Collection[int] | None = None, prefer: Collection[int] = ()) -> SongMatch:
        """The song ``text`` names, among ``rows`` (default: every song); SongNotFound says "did you mean"."""
        text = str(text or "").strip()
        if not normalize_name(text):
            raise SongNotFound("Name a song from the catalogue, for example 'Shape of You'.", [])
        candidates = range(len(self._titles)) if rows is None else sorted({int(r) for r in rows})
        preferred = {int(r) for r in prefer}
        for title_part, artist_part in _title_artist_splits(text):
            exact = [
                r
                for r in candidates
                if title_part in (self._titles[r], self._short_titles[r])
                and (artist_part is None or f" {artist_part} " in f" {self._artists[r]} ")
            ]
            if exact:
                return SongMatch(min(exact, key=lambda r: (r not in preferred, -self._popularity[r])))
        wanted = normalize_name(text)
        matcher = difflib.SequenceMatcher(autojunk=False)
        matcher.set_seq2(wanted)
        ratios = {
            r: max(
                _ratio(matcher, self._titles[r], self.suggest_ratio),
                _ratio(matcher, self._short_titles[r], self.suggest_ratio),
                _ratio(matcher, f"{self._titles[r]} {self._artists[r]}", self.suggest_ratio),
            )
            for r in candidates
        }
        order = sorted(ratios, key=lambda r: (-ratios[r], r not in preferred, -self._popularity[r]))
        if order and ratios[order[0]] >= self.match_ratio:
            best = order[0]
            note = f"read '{text}' as '{self._raw_titles[best]}' by {self._raw_artists[best]}"
            return SongMatch(best, note)
        suggestions = [self.label(r) for r in order[: self.max_suggestions] if ratios[r] >= self.suggest_ratio]
        if suggestions:
            raise SongNotFound(f"No song called '{text}'. Did you mean: {'; '.join(suggestions)}?", suggestions)
        raise SongNotFound(f"No song called '{text}' in the catalogue, and no title close to it.", [])


def known_name(name: str, known: Sequence[str], kind: str) -> str:
    """The catalogue's spelling of a genre or artist ``name``, or a QueryError that suggests the nearest ones."""
    wanted = " ".join(tokens(str(name)))
    by_key = {" ".join(tokens(k)): k for k in known}
    if wanted in by_key:
        return by_key[wanted]
    close = difflib.get_close_matches(wanted, list(by_key), n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(by_key[c]) for c in close)}?" if close else ""
    raise QueryError(f"There is no {kind} '{name}' in this catalogue.{hint}")


def normalize_name(text: object) -> str:
    """Lower case, accents and punctuation removed, spaces collapsed: ``Señorita!`` -> ``senorita``."""
    decomposed = unicodedata.normalize("NFKD", str(text).casefold().replace("’", "'").replace("&", " and "))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("'", "")
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


def strip_brackets(title: str) -> str:
    """``Lean On (feat. MØ & DJ Snake)`` -> ``Lean On``; ``Despacito - Remix`` -> ``Despacito``."""
    return re.split(r"\s[-–]\s", re.sub(r"[(\[][^)\]]*[)\]]", " ", str(title)))[0]


_VERSION_PARTS = re.compile(r"[(\[]([^)\]]*)[)\]]|\s[-–]\s(.*?)(?=\s[-–]\s|$)")
_GUESTS = re.compile(r",|\s(?:feat\.?|ft\.?|featuring|with|x)\s", flags=re.IGNORECASE)


def song_title(title: str, markers: Collection[str]) -> str:
    """The title without the parts that name a version (a bracket or a `` - `` part holding one of ``markers``):
    ``Lean On (feat. MØ) - Radio Edit`` -> ``Lean On``; ``Song - Remastered 2011`` -> ``Song``; ``Love (Part 2)``
    stays."""
    padded = {f" {m} " for m in markers}

    def cut(match: re.Match[str]) -> str:
        part = f" {normalize_name(match.group(1) or match.group(2) or '')} "
        return " " if any(m in part for m in padded) else match.group(0)

    return _VERSION_PARTS.sub(cut, str(title)).strip()


def version_key(title: str, artist: str, markers: Collection[str]) -> str:
    """What the versions of one song share (the remix, the radio edit, the live and the feat. versions): the
    normalized ``song_title`` and the first credited artist."""
    lead = _GUESTS.split(f"{artist} ", maxsplit=1)[0]
    return f"{normalize_name(song_title(title, markers))}\x1f{normalize_name(lead)}"


def _title_artist_splits(text: str) -> list[tuple[str, str | None]]:
    """The readings of ``text`` as a title with an optional artist, the whole text as a title first."""
    readings: list[tuple[str, str | None]] = [(normalize_name(text), None)]
    for separator in (" - ", " – ", " by "):
        if separator in text:
            head, _, tail = text.rpartition(separator)
            if normalize_name(head) and normalize_name(tail):
                readings.append((normalize_name(head), normalize_name(tail)))
    return readings


def _ratio(matcher: difflib.SequenceMatcher, candidate: str, floor: float) -> float:
    """difflib's ratio of ``candidate`` against the matcher's text; 0 when the cheap bounds put it under ``floor``."""
    matcher.set_seq1(candidate)
    if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
        return 0.0
    return matcher.ratio()
