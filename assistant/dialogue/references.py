"""References that miss: "more like #20" on a ten-song list, "songs like Blinding Lights" when the catalogue has no
such song. The reply says so and offers what is there, instead of reading the words as a new request."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from assistant.catalogue_view import CatalogueView
from assistant.dialogue.reading import normalized, reference_number
from assistant.dialogue.state import DialogueState
from assistant.escaping import escape_markdown
from assistant.titles import SongNotFound
from assistant.understanding import QueryIntent

ARTIST_SONGS = 5
"""How many of an artist's songs a miss offers."""
_CHANGE = re.compile(r"\s*(?:[,;]|\s(?:but|without|only|no|not|except|before|after|since|please)\s)\s*")
"""Where a song's name ends and a change to the request begins (``Blinding Lights, but slower``)."""
_BY = re.compile(r"\s+(?:by|-|–)\s+")
_QUOTES = "\"'“”‘’«»"
_DESCRIPTION_STARTS = frozenset({"a", "an", "some", "something", "anything", "my", "our", "your", "being", "when"})
"""First words of a lower-case "like" target that make it a description rather than a title."""


@dataclass(frozen=True)
class Miss:
    """What a "more like" names that is not there: the reply to give, or, for a ``note``, a description to search
    for with a line saying that no song has that name."""

    reply: str | None = None
    note: str | None = None


def named_part(target: str) -> str:
    """The part of a "like" target that names the song: ``blinding lights, but slower`` -> ``blinding lights``."""
    return _CHANGE.split(normalized(target), maxsplit=1)[0].strip()


def missed_reference(
    target: str, text: str, state: DialogueState, catalogue: CatalogueView, understood: QueryIntent
) -> Miss | None:
    """Why ``target`` (the words after "like" in ``text``, which found no song) names nothing, or None when it is
    a description or an artist to search for (``a summer evening``, ``Adele``).

    ``understood`` is the request's reading of ``named_part(target)``. A list number past the list, a quoted or
    Title Case name, and a name ending in "by <artist>" are references: the reply says the song is not there and
    offers the nearest titles or the artist's songs. A lower-case name with no word the request vocabulary knows
    is searched as words, with a note that no song is called that.
    """
    name = named_part(target)
    number = reference_number(name, state)
    if number is not None:
        if not state.shown:
            return Miss(reply=f"There is no list yet, so there is no #{number}. Ask for some songs first.")
        return Miss(reply=f"There is no #{number} in this list; it runs from #1 to #{state.shown[-1].rank}.")
    title, artist = _title_and_artist(name)
    artist_rows = _artist_rows(artist, catalogue) if artist else np.zeros(0, dtype=np.int64)
    if not artist and (understood.artists or understood.similar_artists):
        return None  # "songs like Adele": a request for songs like an artist
    written = _as_written(title, text)
    quoted = target.strip()[:1] in _QUOTES
    if not (quoted or artist or _title_case(written, text)):
        if understood.concepts or understood.genres or understood.year_min or understood.year_max:
            return None
        if title.split()[0] in _DESCRIPTION_STARTS:
            return None  # "songs like a summer evening"
        return Miss(note=f"No song here is called '{title}', so these songs match its words instead.")
    shown_name = escape_markdown((written or title).strip(_QUOTES + " "))
    if artist:
        artist_name = escape_markdown(
            _artist_spelling(artist, artist_rows, catalogue) or _as_written(artist, text) or artist
        )
        same_title = _exact_title_rows(title, catalogue)
        if len(same_title):
            by = ", ".join(sorted({escape_markdown(str(catalogue.artists[r])) for r in same_title}))
            reply = f"'{shown_name}' in this catalogue is by {by}, not {artist_name}."
        else:
            reply = f"There is no song called '{shown_name}' by {artist_name} in this catalogue."
        if len(artist_rows):
            songs = ", ".join(f"*{escape_markdown(catalogue.titles[r])}*" for r in artist_rows[:ARTIST_SONGS])
            reply += f" Songs credited to {artist_name} here: {songs}."
        else:
            reply += f" Nor any song credited to {artist_name}."
    else:
        reply = f"There is no song or artist called '{shown_name}' in this catalogue."
        suggestions = _near_titles(title, catalogue)
        if suggestions:
            reply += " The nearest titles: " + "; ".join(f"*{escape_markdown(s)}*" for s in suggestions) + "."
    reply += " Say *more like* and a song from the catalogue, or describe the sound you are after."
    return Miss(reply=reply)


def _title_and_artist(name: str) -> tuple[str, str]:
    """``blinding lights by the weeknd`` -> (``blinding lights``, ``the weeknd``); no artist: ``""``."""
    parts = _BY.split(name.strip(_QUOTES + " "))
    if len(parts) >= 2 and parts[0].strip(_QUOTES + " ") and parts[-1].strip():
        return " by ".join(parts[:-1]).strip(_QUOTES + " "), parts[-1].strip(_QUOTES + " ")
    return name.strip(_QUOTES + " "), ""


def _artist_rows(artist: str, catalogue: CatalogueView) -> np.ndarray:
    """The rows credited to ``artist``, most popular first."""
    rows = np.flatnonzero(catalogue.credited_mask([artist]))
    popularity = catalogue.songs["popularity"].to_numpy(dtype=float, na_value=np.nan)[rows]
    order = np.argsort(-np.nan_to_num(popularity, nan=-1.0), kind="stable")
    titles_seen: set[str] = set()
    unique = []
    for row in rows[order]:
        key = str(catalogue.titles[row]).casefold()
        if key not in titles_seen:
            titles_seen.add(key)
            unique.append(int(row))
    return np.asarray(unique, dtype=np.int64)


def _artist_spelling(artist: str, rows: np.ndarray, catalogue: CatalogueView) -> str:
    """The catalogue's spelling of ``artist`` when one of ``rows`` is theirs alone, else ``""``."""
    wanted = artist.casefold()
    return next((str(catalogue.artists[r]) for r in rows if str(catalogue.artists[r]).casefold() == wanted), "")


def _exact_title_rows(title: str, catalogue: CatalogueView) -> np.ndarray:
    """Rows whose title is ``title`` (brackets and " - Remix" parts aside), as the title index reads titles."""
    try:
        match = catalogue.title_index.find(title)
    except SongNotFound:
        return np.zeros(0, dtype=np.int64)
    return np.zeros(0, dtype=np.int64) if match.note else np.asarray([match.row], dtype=np.int64)


def _near_titles(title: str, catalogue: CatalogueView) -> list[str]:
    """The title index's "did you mean" for ``title`` (a title by another artist counts as near)."""
    try:
        match = catalogue.title_index.find(title)
    except SongNotFound as missing:
        return list(missing.suggestions)
    return [catalogue.label(match.row)]


def _as_written(name: str, text: str) -> str:
    """``name`` as the person typed it in ``text`` (case kept), or ``""`` when it cannot be found there."""
    words = name.split()
    if not words:
        return ""
    match = re.search(r"[\s\W]+".join(re.escape(w) for w in words), text.replace("’", "'"), flags=re.IGNORECASE)
    return match.group(0) if match else ""


def _title_case(written: str, text: str) -> bool:
    """Whether ``written`` is capitalized like a title while the words before it in ``text`` are not."""
    words = re.findall(r"[^\W\d_][\w']*", written)
    if not words or not words[0][0].isupper():
        return False
    if not all(w[0].isupper() for w in words if len(w) > 3):
        return False
    before = re.findall(r"[^\W\d_][\w']*", text[: text.find(written)])
    return not any(w[0].isupper() for w in before[1:])
