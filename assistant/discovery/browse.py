"""Genre and era browsing: counts to browse by, and filters (exact genres, a year range) for any search."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from assistant.discovery.diversity import diverse_order
from assistant.discovery.space import song_space
from assistant.engine import SearchEngine, validate_query
from assistant.results import SearchResponse
from assistant.understanding import describe_years
from index_builder.errors import QueryError


@dataclass(frozen=True)
class Filters:
    """Hard filters chosen from UI controls or API parameters: exact genre names and an inclusive year range."""

    genres: tuple[str, ...] = ()
    year_min: int | None = None
    year_max: int | None = None

    @classmethod
    def of(
        cls, genres: Iterable[str] | str | None = None, year_min: float | None = None, year_max: float | None = None
    ) -> Filters:
        """Filters from loose input: a genre name or list (blanks dropped), years as numbers or None."""
        if isinstance(genres, str):
            genres = [genres]
        names = tuple(dict.fromkeys(str(g).strip() for g in genres or () if str(g).strip()))
        low = None if year_min is None or pd.isna(year_min) else int(year_min)
        high = None if year_max is None or pd.isna(year_max) else int(year_max)
        if low is not None and high is not None and low > high:
            low, high = high, low
        return cls(names, low, high)

    @property
    def active(self) -> bool:
        """Whether anything is filtered."""
        return bool(self.genres) or self.year_min is not None or self.year_max is not None

    def mask(self, songs: pd.DataFrame) -> np.ndarray:
        """Which rows pass; a song without a year fails any year filter. Unknown genres raise QueryError."""
        allowed = np.ones(len(songs), dtype=bool)
        if self.genres:
            known = {g.casefold(): g for g in songs["genre"].dropna().astype(str).unique()}
            unknown = [g for g in self.genres if g.casefold() not in known]
            if unknown:
                close = difflib.get_close_matches(unknown[0].casefold(), list(known), n=3, cutoff=0.6)
                hint = f" Did you mean: {', '.join(known[c] for c in close)}?" if close else ""
                raise QueryError(f"No genre called '{unknown[0]}' in the catalogue.{hint}")
            wanted = {g.casefold() for g in self.genres}
            allowed &= songs["genre"].astype(str).str.casefold().isin(wanted).to_numpy()
        if self.year_min is not None or self.year_max is not None:
            low = self.year_min if self.year_min is not None else -10_000
            high = self.year_max if self.year_max is not None else 10_000
            allowed &= songs["year"].between(low, high).fillna(False).to_numpy(dtype=bool)
        return allowed

    def describe(self) -> str:
        """``genre dance pop or pop; 2015-2017``, or ``""`` when nothing is filtered."""
        parts = []
        if self.genres:
            parts.append("genre " + " or ".join(self.genres))
        years = describe_years(self.year_min, self.year_max)
        if years:
            parts.append(years)
        return "; ".join(parts)


def genre_counts(songs: pd.DataFrame) -> list[dict[str, object]]:
    """Every genre with its number of songs, most songs first (ties by name)."""
    counts = songs["genre"].dropna().astype(str).value_counts()
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"genre": genre, "count": int(count)} for genre, count in rows]


def year_counts(songs: pd.DataFrame) -> list[dict[str, object]]:
    """Every release year with its number of songs, oldest first."""
    counts = songs["year"].dropna().astype(int).value_counts().sort_index()
    return [{"year": int(year), "count": int(count)} for year, count in counts.items()]


def era_of(year: int) -> str:
    """``early 2010s`` (years 0-3 of a decade), ``mid 2010s`` (4-6) or ``late 2010s`` (7-9)."""
    part = "early" if year % 10 <= 3 else "mid" if year % 10 <= 6 else "late"
    return f"{part} {year - year % 10}s"


def filtered_search(
    engine: SearchEngine, query: str, filters: Filters, k: int | None = None, diverse: bool = True
) -> SearchResponse:
    """The engine's answer to ``query`` among the songs ``filters`` allow (never relaxed, unlike request words).

    An empty query with active filters lists the most popular songs that pass them.
    """
    allowed = filters.mask(engine.songs)
    if not allowed.any():
        raise QueryError(f"No song in the catalogue is {filters.describe()}.")
    if not str(query or "").strip():
        if not filters.active:
            raise QueryError("Type a request or pick a genre or years to browse.")
        return _browse_popular(engine, filters, allowed, k, diverse)
    intent = engine.understand(validate_query(query))
    excluded = engine.songs["song_id"].to_numpy()[~allowed]
    response = engine.search_intent(intent, k, exclude_ids=set(excluded), diverse=diverse)
    if filters.active:
        response.understood = "; ".join(p for p in (response.understood, filters.describe()) if p)
    return response


def _browse_popular(
    engine: SearchEngine, filters: Filters, allowed: np.ndarray, k: int | None, diverse: bool
) -> SearchResponse:
    space = song_space(engine)
    rows = np.flatnonzero(allowed)
    popularity = engine.songs["popularity"].to_numpy(dtype=float, na_value=np.nan)[rows]
    scores = np.nan_to_num(popularity, nan=0.0) / 100.0
    order = diverse_order(scores, space.artists[rows], space.count(k), diverse=diverse)
    results = []
    for rank, position in enumerate(order, 1):
        row = int(rows[position])
        words = engine.song_words(row)
        explanation = "; ".join(p for p in (_filter_reason(engine, row, filters), words.get("popularity")) if p)
        results.append(space.result(rank, row, scores[position], explanation, ()))
    return SearchResponse(
        query="", understood=filters.describe() + "; most popular first", results=results, notes=[], relaxed=None
    )


def _filter_reason(engine: SearchEngine, row: int, filters: Filters) -> str:
    song = engine.songs.iloc[row]
    parts = []
    if filters.genres:
        parts.append(f"{song['genre']} genre")
    if (filters.year_min is not None or filters.year_max is not None) and not pd.isna(song["year"]):
        parts.append(f"released {int(song['year'])}")
    return ", ".join(parts)
