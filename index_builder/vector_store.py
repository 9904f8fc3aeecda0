"""The vector-store boundary: what search asks of an index, whichever backend holds it.

Two stores implement it: the index folder (``index_store.SongIndex``, FAISS, the default) and a Milvus collection
(``milvus_store.MilvusIndex``, a Milvus Lite file or a server). Both hold the songs table (row i = vector i), the
bucket scheme and the manifest that says what built them, and answer the same questions: the nearest songs to a
query (optionally only those passing a filter), the stored vectors of some songs, and a line saying what they are.

Filters are small frozen values (``Where``), built by the catalogue view from a request's conditions. A store that
pushes filters down (Milvus) turns them into its own filter expression and returns only songs that pass; one that
does not (the FAISS folder) returns the nearest songs regardless and leaves filtering to the caller's masks, which
the search engine applies in either case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from index_builder.buckets import BucketScheme


@dataclass(frozen=True)
class YearBetween:
    """Released in ``low``-``high``, inclusive (None: open); a song without a year never passes."""

    low: int | None = None
    high: int | None = None


@dataclass(frozen=True)
class GenreIn:
    """The song's genre is one of ``genres``, exactly as the catalogue spells them."""

    genres: tuple[str, ...]


@dataclass(frozen=True)
class CreditsAny:
    """Any of ``names`` (case-folded) is credited on the song (``song_fields.credited_artists``)."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class FeatureIn:
    """The song's ``feature`` value lies in one of ``ranges``, each ``[low, high)`` (None: open); a song without a
    value never passes. Bucket words become ranges of the raw values (``CatalogueView.word_where``)."""

    feature: str
    ranges: tuple[tuple[float | None, float | None], ...]


@dataclass(frozen=True)
class FeatureBetween:
    """The song's ``feature`` value lies in ``low``-``high``, inclusive (None: open); a song without a value never
    passes ("between 100 and 120 BPM", "faster than the last answer")."""

    feature: str
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class RowsIn:
    """The song's row is one of ``rows``."""

    rows: tuple[int, ...]


@dataclass(frozen=True)
class Not:
    """The song does not pass ``condition``."""

    condition: Where


@dataclass(frozen=True)
class AllOf:
    """The song passes every one of ``conditions`` (none: every song passes)."""

    conditions: tuple[Where, ...]


Where = YearBetween | GenreIn | CreditsAny | FeatureIn | FeatureBetween | RowsIn | Not | AllOf
"""A filter a store can push down."""


def all_of(conditions: Iterable[Where | None]) -> Where | None:
    """The conjunction of the given conditions (Nones skipped), or None when there are none."""
    kept = tuple(c for c in conditions if c is not None)
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else AllOf(kept)


@runtime_checkable
class VectorStore(Protocol):
    """A loaded index: songs, their vectors, and the record of what built them."""

    songs: pd.DataFrame
    """The songs table; row i is the song whose vector has id i."""
    scheme: BucketScheme
    """The bucket edges and words the songs were described with."""
    manifest: dict[str, Any]
    """What built the index (model and weight hash, template, thresholds, catalogue hash, index plan, ...)."""
    pushes_down: bool
    """Whether ``search`` and ``candidates`` return only songs that pass ``where``."""
    max_fetch: int
    """The most songs one search returns."""
    playlists: pd.DataFrame | None
    """Playlist membership (``schema.PLAYLIST_COLUMNS``), or None when the index keeps none."""

    def __len__(self) -> int: ...

    def describe(self) -> str:
        """One line for people: where the index is and what kind it is."""
        ...

    def search(self, queries: np.ndarray, k: int, where: Where | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Cosine scores and row ids of the ``k`` nearest songs to each query row, best first; id -1 pads."""
        ...

    def candidates(self, query: np.ndarray, k: int, where: Where | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Row ids and cosine scores of up to ``k`` songs nearest to one query, in no particular order."""
        ...

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """The stored (L2-normalized) vectors of ``rows``, in that order."""
        ...

    def all_vectors(self) -> np.ndarray:
        """Every stored vector, row i = song i."""
        ...

    def similarities(self, vector: np.ndarray) -> np.ndarray:
        """The cosine between ``vector`` and every song's stored vector, row i = song i."""
        ...


class StoreTarget(Protocol):
    """Where a build writes an index: the folder (``index_store.FaissFolder``) or a Milvus collection
    (``milvus_store.MilvusCollection``)."""

    def describe(self) -> str:
        """One line for people: where the index goes."""
        ...

    def previous_manifest(self) -> dict[str, Any] | None:
        """The manifest of the index there now, if it is readable (a rebuild keeps its bucket edges)."""
        ...

    def reusable_vectors(
        self, made_by: Callable[[Mapping[str, Any]], bool], dimension: int
    ) -> tuple[dict[str, np.ndarray], list[str]]:
        """Vectors stored there that ``made_by(manifest)`` accepts, keyed by description hash; and notes."""
        ...

    def write(
        self,
        songs: pd.DataFrame,
        vectors: np.ndarray,
        scheme: BucketScheme,
        key: Any,
        extra: Mapping[str, Any],
        started: float | None = None,
        playlists: pd.DataFrame | None = None,
    ) -> VectorStore:
        """Add the vectors with their songs (row i = vector i) and the manifest (``key``, ``extra``), replacing what
        was there as one step; ``started`` (a ``perf_counter`` time) dates the manifest's ``build_seconds``;
        ``playlists`` is the catalogue's playlist membership, kept where the store can keep it."""
        ...
