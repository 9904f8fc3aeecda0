"""Genre and era browsing: a request answered among chosen genres and years, or their most popular songs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from assistant.conditions import Filters
from assistant.engine import SearchEngine, validate_query
from assistant.results import SearchResponse
from index_builder.errors import QueryError


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
    allowed = filters.mask(engine.catalogue)
    if not allowed.any():
        raise QueryError(f"No song in the catalogue is {filters.describe()}.")
    if not str(query or "").strip():
        if not filters.active:
            raise QueryError("Type a request or pick a genre or years to browse.")
        return _browse_popular(engine, filters, allowed, k, diverse)
    intent = engine.understand(validate_query(query))
    response = engine.search_intent(intent, k, diverse=diverse, allowed=allowed)
    if filters.active:
        response.understood = "; ".join(p for p in (response.understood, filters.describe()) if p)
    return response


def _browse_popular(
    engine: SearchEngine, filters: Filters, allowed: np.ndarray, k: int | None, diverse: bool
) -> SearchResponse:
    catalogue = engine.catalogue
    rows = np.flatnonzero(allowed)
    popularity = engine.songs["popularity"].to_numpy(dtype=float, na_value=np.nan)[rows]
    scores = np.nan_to_num(popularity, nan=0.0) / 100.0
    order = engine.pick(scores, rows, engine.result_count(k), diverse)
    results = []
    for rank, position in enumerate(order, 1):
        row = int(rows[position])
        words = catalogue.song_words(row)
        explanation = "; ".join(p for p in (_filter_reason(engine, row, filters), words.get("popularity")) if p)
        results.append(catalogue.result(rank, row, scores[position], explanation, ()))
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
