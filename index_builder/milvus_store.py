"""A Milvus collection as Moodring's index: a Milvus Lite file (``songs.db``, in this process) or a Milvus server
(``http://host:19530``), through the one ``pymilvus.MilvusClient`` API.

The collection holds, per song: its row (the primary key, row i = vector i as in the folder), its vector, the
fields filters are pushed down to (year, genre, credited artists, each bucketed feature's raw value), its
description hash and the whole songs-table record (JSON). Its properties hold the manifest the folder keeps in
``manifest.json`` (model and weight hash, template, thresholds, catalogue hash, encoder precision, index plan),
checked on connect exactly as a folder's: a mismatch is refused with the reason (IndexMismatch).

A build writes a new collection ``<name>_v<milliseconds>`` and, once it is complete, indexed, loaded and stamped
with its manifest, points the alias ``<name>`` at it and drops the old one, so that readers never see a half
written index (the folder's atomic swap). Search always goes through the alias.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from index_builder.buckets import BucketScheme
from index_builder.errors import IndexMismatch, StoreUnavailable
from index_builder.index_store import IndexKey, checked_scheme, song_ids_sha256
from index_builder.schema import NUMERIC_FEATURES
from index_builder.song_fields import credited_artists
from index_builder.vector_index import METRIC, ivf_lists, normalized, usable_rows
from index_builder.vector_store import (
    AllOf,
    CreditsAny,
    FeatureBetween,
    FeatureIn,
    GenreIn,
    Not,
    RowsIn,
    Where,
    YearBetween,
)

log = logging.getLogger("moodring")

FORMAT_VERSION = 1
"""Version of the collection layout and of the manifest stored with it."""
MANIFEST_PROPERTY = "moodring.manifest"
"""The collection property that holds the manifest (JSON)."""
MAX_FETCH = 16_384
"""Milvus answers at most this many results per search (its ``topk`` limit, and limit + offset for a query)."""
INSERT_BATCH = 2_048
"""Songs sent per insert call (about 7 MiB of 768-d vectors as gRPC payload)."""
READ_BATCH = 4_096
"""Rows read per query while loading the songs table or vectors."""
LITE_SEGMENT_BYTES = 128 << 20
"""Milvus Lite seals a segment when its memtable holds 128 MiB (``MILVUS_LITE_MEMTABLE_MEMORY_LIMIT_BYTES``): 43,008
rows of 768-d songs were measured per segment, and its compaction leaves segments of that size alone."""
SERVER_SEGMENT_BYTES = 1 << 30
"""A Milvus server seals segments at about 1 GiB by default (``dataCoord.segment.maxSize``)."""
INDEX_TYPES = ("FLAT", "IVF_FLAT", "IVF_SQ8", "HNSW")
"""Index types ``Settings.milvus_index`` may name besides ``auto``."""
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 200
HNSW_EF = 128
_TEXT_MAX = 65_535
"""Milvus's largest VARCHAR (bytes); fields are cut to ``Settings.max_field_chars`` characters on load anyway."""
_FIELDS = ("row", "vector", "text_sha256", "year", "genre", "credited", "song")
"""Fields every collection has; one DOUBLE field per bucketed feature is added beside them."""


@dataclass(frozen=True)
class MilvusPlan:
    """How a collection's vectors are indexed and searched: a Milvus index type and its parameters."""

    index_type: str = "FLAT"
    build_params: tuple[tuple[str, int], ...] = ()
    search_params: tuple[tuple[str, int], ...] = ()
    segment_rows: int = 0
    """Rows per sealed segment the IVF lists were sized for (0 for the other index types)."""

    @property
    def exact(self) -> bool:
        """Whether search scores every vector."""
        return self.index_type == "FLAT"

    def describe(self) -> str:
        """``FLAT (exact)`` or ``IVF_SQ8 (nlist=512; nprobe=64)``."""
        if self.exact:
            return "FLAT (exact)"
        build = ", ".join(f"{k}={v}" for k, v in self.build_params)
        search = ", ".join(f"{k}={v}" for k, v in self.search_params)
        return f"{self.index_type} ({build}; {search})"

    def search_params_for(self, k: int, count: int) -> dict[str, Any]:
        """The search parameters for a top-``k`` search over ``count`` songs: HNSW's ``ef`` at least ``k``; IVF
        probing enough lists of each segment to hold ``k`` vectors on average (half as many again), as the folder's
        deep fetch does (``vector_index.search_index``), so a deep fetch is not cut short by ``nprobe``."""
        params = dict(self.search_params)
        if "ef" in params:
            params["ef"] = max(params["ef"], k)
        if "nprobe" in params:
            lists = dict(self.build_params)["nlist"]
            rows = max(1, min(count, self.segment_rows or count))
            params["nprobe"] = min(lists, max(params["nprobe"], math.ceil(1.5 * k * lists / rows)))
        return {"metric_type": "IP", "params": params}

    def to_manifest(self) -> dict[str, Any]:
        """The manifest fields that record this plan."""
        return {
            "milvus_index_type": self.index_type,
            "milvus_build_params": dict(self.build_params),
            "milvus_search_params": dict(self.search_params),
            "milvus_segment_rows": self.segment_rows,
        }

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any]) -> MilvusPlan:
        """The plan a manifest records."""
        return cls(
            str(manifest.get("milvus_index_type")),
            tuple(sorted(dict(manifest.get("milvus_build_params") or {}).items())),
            tuple(sorted(dict(manifest.get("milvus_search_params") or {}).items())),
            int(manifest.get("milvus_segment_rows") or 0),
        )


def milvus_plan_for(
    count: int,
    approximate_above: int,
    quantize_above: int,
    nprobe_share: float,
    segment_rows: int,
    index_type: str = "auto",
) -> MilvusPlan:
    """The index a collection of ``count`` songs gets, following the folder's plan (``vector_index.plan_for``).

    ``auto``: exact ``FLAT`` up to ``approximate_above`` songs (as the folder), ``IVF_FLAT`` above it and
    ``IVF_SQ8`` (8-bit scalar quantization: a quarter of the memory) above ``quantize_above``. Milvus builds one
    index per sealed segment, so the IVF lists follow the segment size (``segment_rows``: about 2*sqrt, as
    ``ivf_lists``), and each search probes ``nprobe_share`` of them in every segment. ``HNSW`` (M 16,
    efConstruction 200, ef 128 or k) can be named instead.
    """
    chosen = index_type.upper()
    if chosen == "AUTO":
        if count <= approximate_above:
            return MilvusPlan()
        chosen = "IVF_SQ8" if count > quantize_above else "IVF_FLAT"
    if chosen not in INDEX_TYPES:
        raise ValueError(f"Unknown Milvus index type {index_type!r}: choose auto or one of {', '.join(INDEX_TYPES)}.")
    if chosen == "FLAT":
        return MilvusPlan()
    if chosen == "HNSW":
        return MilvusPlan("HNSW", (("M", HNSW_M), ("efConstruction", HNSW_EF_CONSTRUCTION)), (("ef", HNSW_EF),))
    lists = ivf_lists(max(1, min(count, segment_rows)))
    nprobe = max(1, min(lists, math.ceil(lists * nprobe_share)))
    return MilvusPlan(chosen, (("nlist", lists),), (("nprobe", nprobe),), segment_rows)


def segment_rows_for(uri: str, dimension: int) -> int:
    """About how many vectors one sealed segment holds: Milvus Lite's 128 MiB memtable, or a server's 1 GiB, of
    float32 vectors (43,690 and 349,525 at 768 dimensions)."""
    return (LITE_SEGMENT_BYTES if is_lite(uri) else SERVER_SEGMENT_BYTES) // (4 * dimension)


def is_lite(uri: str) -> bool:
    """Whether ``uri`` names a Milvus Lite file (pymilvus runs those in this process) rather than a server."""
    return str(uri).endswith(".db")


# ---- filters ------------------------------------------------------------------------------------------------

_TRUE = "row >= 0"
_FALSE = "row < 0"


def filter_expression(where: Where | None, features: frozenset[str] | set[str] = frozenset()) -> str:
    """``where`` as a Milvus boolean expression over this collection's fields ("" for None: every song).

    Every leaf is null-safe (a missing year or feature value makes it false, never null), so ``not`` keeps the
    meaning the catalogue view's masks give it: "not very high energy" keeps songs without an energy value.
    ``features`` are the feature fields the collection has; a condition on another is refused (ValueError).
    """
    if where is None:
        return ""
    if isinstance(where, YearBetween):
        return _between("year", where.low, where.high, lambda value: str(int(value)))
    if isinstance(where, GenreIn):
        return f"genre in [{', '.join(map(quote, where.genres))}]" if where.genres else _FALSE
    if isinstance(where, CreditsAny):
        return f"array_contains_any(credited, [{', '.join(map(quote, where.names))}])" if where.names else _FALSE
    if isinstance(where, FeatureIn):
        if where.feature not in features:
            raise ValueError(f"The collection has no field {where.feature!r} to filter on.")
        ranges = [_range_expression(where.feature, low, high) for low, high in where.ranges]
        return "(" + " or ".join(ranges) + ")" if ranges else _FALSE
    if isinstance(where, FeatureBetween):
        if where.feature not in features:
            raise ValueError(f"The collection has no field {where.feature!r} to filter on.")
        return _between(where.feature, where.low, where.high, _number)
    if isinstance(where, RowsIn):
        return f"row in [{', '.join(str(int(r)) for r in where.rows)}]" if where.rows else _FALSE
    if isinstance(where, Not):
        return f"not ({filter_expression(where.condition, features)})"
    if isinstance(where, AllOf):
        parts = [f"({filter_expression(c, features)})" for c in where.conditions]
        return " and ".join(parts) if parts else _TRUE
    raise TypeError(f"Not a filter: {where!r}")


def _between(field: str, low: float | None, high: float | None, show: Callable[[float], str]) -> str:
    """``(field is not null and field >= low and field <= high)``; an open end is left out."""
    parts = [f"{field} is not null"]
    if low is not None:
        parts.append(f"{field} >= {show(low)}")
    if high is not None:
        parts.append(f"{field} <= {show(high)}")
    return "(" + " and ".join(parts) + ")"


def _range_expression(name: str, low: float | None, high: float | None) -> str:
    parts = [f"{name} is not null"]
    if low is not None:
        parts.append(f"{name} >= {_number(low)}")
    if high is not None:
        parts.append(f"{name} < {_number(high)}")
    return "(" + " and ".join(parts) + ")"


def _number(value: float) -> str:
    """A float literal that reads back as the same double (``repr`` round-trips)."""
    if not math.isfinite(value):
        raise ValueError(f"A filter bound must be finite, got {value!r}.")
    return repr(float(value))


def quote(text: str) -> str:
    """``text`` as a double-quoted Milvus string literal.

    Backslash, the double quote and line breaks are escaped (the expression grammar takes ``\\\\ \\" \\n \\r \\t``);
    every other character stands for itself, so nothing in a catalogue value can end the literal or change the
    expression. Values are matched exactly (``in``), never as ``like`` patterns, whose ``%`` and ``_`` Milvus
    cannot escape.
    """
    escaped = (
        str(text)
        .replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


# ---- the store ----------------------------------------------------------------------------------------------


class MilvusIndex:
    """A loaded collection: the ``VectorStore`` over Milvus. Filters are pushed down into each search."""

    pushes_down = True
    playlists = None
    """Playlist membership is kept in the FAISS folder only."""
    max_fetch = MAX_FETCH

    def __init__(
        self,
        client: Any,
        uri: str,
        name: str,
        songs: pd.DataFrame,
        scheme: BucketScheme,
        manifest: dict[str, Any],
    ) -> None:
        self.client = client
        self.uri = uri
        self.name = name
        self.songs = songs
        self.scheme = scheme
        self.manifest = manifest
        self.plan = MilvusPlan.from_manifest(manifest)
        self.dimension = int(manifest["dimension"])
        self.features = frozenset(manifest.get("milvus_feature_fields") or ())
        self._all_vectors: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.songs)

    def describe(self) -> str:
        """``Milvus collection <name> at <uri> (<plan>)``."""
        return f"Milvus collection {self.name} at {self.uri} ({self.plan.describe()})"

    def expression(self, where: Where | None) -> str:
        """``where`` as this collection's filter expression."""
        return filter_expression(where, self.features)

    def search(self, queries: np.ndarray, k: int, where: Where | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Cosine scores and row ids of the ``k`` nearest songs passing ``where`` per query row, best first; -1 pads."""
        queries = normalized(queries)
        k = max(1, min(int(k), len(self), MAX_FETCH))
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        if len(queries) == 0:
            return scores, ids
        hits = self._call(
            "search",
            self.name,
            data=[q.tolist() for q in queries],
            limit=k,
            filter=self.expression(where),
            output_fields=["row"],  # the key alone: with no fields named, Milvus Lite returns every field
            search_params=self.plan.search_params_for(k, len(self)),
        )
        for i, found in enumerate(hits):
            for j, hit in enumerate(found):
                ids[i, j] = int(hit["row"])
                scores[i, j] = float(hit["distance"])
        return scores, ids

    def candidates(self, query: np.ndarray, k: int, where: Where | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Row ids and cosine scores of up to ``k`` songs passing ``where`` nearest to one query."""
        scores, ids = self.search(np.asarray(query)[None, :], k, where)
        valid = ids[0] >= 0
        return ids[0][valid], scores[0][valid]

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """The stored vectors of ``rows``, in that order."""
        rows = [int(r) for r in rows]
        if not rows:
            return np.zeros((0, self.dimension), dtype=np.float32)
        found = {}
        for start in range(0, len(rows), READ_BATCH):
            chunk = rows[start : start + READ_BATCH]
            for record in self._call("get", self.name, ids=chunk, output_fields=["vector"]):
                found[int(record["row"])] = record["vector"]
        missing = [r for r in rows if r not in found]
        if missing:
            raise IndexMismatch(f"The {self.describe()} has no vector for rows {missing[:5]}.")
        return np.asarray([found[r] for r in rows], dtype=np.float32)

    def all_vectors(self) -> np.ndarray:
        """Every vector, row i = song i (read once, then kept)."""
        if self._all_vectors is None:
            vectors = np.zeros((len(self), self.dimension), dtype=np.float32)
            for records in _read_rows(self._call, self.name, len(self), ["vector"]):
                rows = np.fromiter((r["row"] for r in records), dtype=np.int64, count=len(records))
                vectors[rows] = np.asarray([r["vector"] for r in records], dtype=np.float32)
            vectors.setflags(write=False)
            self._all_vectors = vectors
        return self._all_vectors

    def similarities(self, vector: np.ndarray) -> np.ndarray:
        """The cosine between ``vector`` and every song's vector (``all_vectors``, read once)."""
        return self.all_vectors() @ normalized(vector)[0]

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return _call(self.client, self.uri, method, *args, **kwargs)


def connect(uri: str) -> Any:
    """A ``MilvusClient`` for ``uri``; a Milvus Lite file's folder is made first. StoreUnavailable if it fails."""
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    if is_lite(uri):
        Path(uri).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    try:
        return MilvusClient(uri=str(uri))
    except (MilvusException, OSError, RuntimeError) as exc:
        raise StoreUnavailable(_unavailable(uri, exc)) from exc


def _unavailable(uri: str, exc: BaseException) -> str:
    reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"Milvus at {uri} cannot be reached ({reason}): start it, or leave out --milvus to use the index folder."


def _call(client: Any, uri: str, method: str, *args: Any, **kwargs: Any) -> Any:
    """``client.<method>(...)``, with Milvus's errors as StoreUnavailable naming the server."""
    from pymilvus.exceptions import MilvusException

    try:
        return getattr(client, method)(*args, **kwargs)
    except MilvusException as exc:
        raise StoreUnavailable(f"Milvus at {uri} refused {method}: {getattr(exc, 'message', exc)}") from exc


def read_manifest(client: Any, uri: str, name: str) -> dict[str, Any]:
    """The manifest stored with the collection the alias ``name`` points at; IndexMismatch when there is none."""
    if not _call(client, uri, "has_collection", name):
        raise IndexMismatch(f"No index at Milvus {uri} (no collection {name}).")
    properties = _call(client, uri, "describe_collection", name).get("properties") or {}
    raw = properties.get(MANIFEST_PROPERTY)
    if raw is None:
        raise IndexMismatch(f"The Milvus collection {name} at {uri} has no Moodring manifest.")
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise IndexMismatch(f"The manifest of the Milvus collection {name} at {uri} is unreadable: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("store") != "milvus":
        raise IndexMismatch(f"The manifest of the Milvus collection {name} at {uri} is not a Moodring manifest.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatch(
            f"The Milvus collection {name} at {uri} has format {manifest.get('format_version')!r}, "
            f"not {FORMAT_VERSION}."
        )
    return manifest


def load_collection(
    uri: str,
    name: str,
    expected: IndexKey | None,
    plan_for: Callable[[int], MilvusPlan] | None = None,
    client: Any = None,
) -> MilvusIndex:
    """Connect to the collection ``name`` at ``uri``, check what built it and load its songs table.

    Raises IndexMismatch saying what differs: the key (model, weights and precision, catalogue, template,
    thresholds, column map), the buckets, the dimension, the song count, the index plan (when ``plan_for``, the
    plan for n songs, is given) or the rows (ids and description hashes in row order). ``expected=None`` skips the
    key comparison.
    """
    client = client if client is not None else connect(uri)
    manifest = read_manifest(client, uri, name)
    label = f"Milvus {uri} collection {name}"
    if expected is not None:
        differences = expected.differences(manifest)
        if differences:
            raise IndexMismatch(f"The index at {label} is stale: " + "; ".join(differences) + ".")
    scheme = checked_scheme(label, manifest)
    plan = MilvusPlan.from_manifest(manifest)
    wanted = plan_for(int(manifest.get("song_count", -1))) if plan_for is not None else None
    if wanted is not None and plan != wanted:
        raise IndexMismatch(f"The index at {label} is {plan.describe()}; the settings now ask for {wanted.describe()}.")
    described = _call(client, uri, "describe_collection", name)
    dimension = _vector_dimension(described)
    if dimension != manifest.get("dimension") or manifest.get("metric") != METRIC:
        raise IndexMismatch(
            f"The index at {label} holds {dimension}-d vectors, its manifest says {manifest.get('dimension')} "
            f"({manifest.get('metric')})."
        )
    built = _call(client, uri, "describe_index", name, "vector") or {}
    if (built.get("index_type"), built.get("metric_type")) != (plan.index_type, "IP"):
        raise IndexMismatch(
            f"The index at {label} has a {built.get('index_type')} ({built.get('metric_type')}) vector index, its "
            f"manifest says {plan.index_type} (IP)."
        )
    _call(client, uri, "load_collection", name)
    count = int(_call(client, uri, "get_collection_stats", name).get("row_count", -1))
    if count != manifest.get("song_count"):
        raise IndexMismatch(
            f"The index at {label} holds {count} songs, its manifest says {manifest.get('song_count')}."
        )
    songs = _read_songs(client, uri, name, count, manifest)
    if song_ids_sha256(songs) != manifest.get("song_ids_sha256") or list(songs["text_sha256"]) != manifest.get(
        "text_sha256"
    ):
        raise IndexMismatch(f"The songs in {label} are not the songs its vectors were stored for, in that order.")
    return MilvusIndex(client, uri, name, songs, scheme, manifest)


def _vector_dimension(described: Mapping[str, Any]) -> int | None:
    for spec in described.get("fields", []):
        if spec.get("name") == "vector":
            params = spec.get("params") or {}
            return int(params["dim"]) if "dim" in params else None
    return None


def _read_rows(call: Callable[..., Any], name: str, count: int, fields: list[str]) -> Iterator[list[dict[str, Any]]]:
    """The collection's records, ``READ_BATCH`` rows at a time in row order, with ``fields`` (and ``row``)."""
    for start in range(0, count, READ_BATCH):
        stop = min(count, start + READ_BATCH)
        yield call(
            "query", name, filter=f"row >= {start} and row < {stop}", output_fields=["row", *fields], limit=stop - start
        )


def _read_songs(client: Any, uri: str, name: str, count: int, manifest: Mapping[str, Any]) -> pd.DataFrame:
    """The songs table, rebuilt with the Arrow schema (hence the pandas dtypes) it was written with."""
    try:
        schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(manifest["songs_arrow_schema"])))
    except (KeyError, ValueError, TypeError, pa.ArrowException) as exc:
        raise IndexMismatch(
            f"The manifest of the Milvus collection {name} at {uri} has no readable songs schema."
        ) from exc
    records: list[dict[str, Any] | None] = [None] * count
    for batch in _read_rows(lambda *a, **k: _call(client, uri, *a, **k), name, count, ["song"]):
        for record in batch:
            row = int(record["row"])
            if 0 <= row < count:
                records[row] = record["song"]
    missing = [row for row, record in enumerate(records) if record is None]
    if missing:
        raise IndexMismatch(f"The Milvus collection {name} at {uri} is missing rows {missing[:5]}.")
    try:
        return pa.Table.from_pylist(records, schema=schema).to_pandas()
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise IndexMismatch(f"The songs in the Milvus collection {name} at {uri} cannot be read: {exc}") from exc


# ---- writing ------------------------------------------------------------------------------------------------


@dataclass
class MilvusCollection:
    """Where a build writes: the alias ``name`` at ``uri`` (a ``StoreTarget``), indexed as ``plan_for`` says."""

    uri: str
    name: str
    plan_for: Callable[[int], MilvusPlan]
    """The plan for a collection of n songs (``milvus_plan_for`` with the settings' values)."""
    client: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.client is None:
            self.client = connect(self.uri)

    def describe(self) -> str:
        """``Milvus collection <name> at <uri>``."""
        return f"Milvus collection {self.name} at {self.uri}"

    def previous_manifest(self) -> dict[str, Any] | None:
        """The manifest of the collection the alias points at now, if there is a readable one."""
        try:
            return read_manifest(self.client, self.uri, self.name)
        except IndexMismatch:
            return None

    def reusable_vectors(
        self, made_by: Callable[[Mapping[str, Any]], bool], dimension: int
    ) -> tuple[dict[str, np.ndarray], list[str]]:
        """The vectors of the collection now behind the alias, keyed by description hash, when ``made_by``
        accepts the model its manifest names; vectors that are not finite or not of unit length are left out."""
        manifest = self.previous_manifest()
        if manifest is None or not made_by(manifest) or manifest.get("dimension") != dimension:
            return {}, []
        count = int(_call(self.client, self.uri, "get_collection_stats", self.name).get("row_count", 0))
        _call(self.client, self.uri, "load_collection", self.name)
        reusable: dict[str, np.ndarray] = {}
        bad = 0
        call = self._call
        for records in _read_rows(call, self.name, count, ["text_sha256", "vector"]):
            vectors = np.asarray([r["vector"] for r in records], dtype=np.float32).reshape(len(records), -1)
            if vectors.shape[1] != dimension:
                return {}, []
            usable = usable_rows(vectors)
            bad += int((~usable).sum())
            reusable.update((r["text_sha256"], v) for r, v, ok in zip(records, vectors, usable, strict=True) if ok)
        notes = [f"{bad} stored vector(s) not finite or not of unit length are embedded again"] if bad else []
        return reusable, notes

    def write(
        self,
        songs: pd.DataFrame,
        vectors: np.ndarray,
        scheme: BucketScheme,
        key: IndexKey,
        extra: Mapping[str, Any],
        started: float | None = None,
        playlists: pd.DataFrame | None = None,
    ) -> MilvusIndex:
        """Write the songs and vectors into a new collection, index and load it, stamp it with its manifest, then
        point the alias at it and drop the old one. ``started`` (a ``perf_counter`` time) dates ``build_seconds``.
        A collection keeps no playlist membership: ``playlists`` is said to be left out.
        """
        if playlists is not None:
            log.warning("Playlist membership is kept in the FAISS folder only; this Milvus index has none.")
        started = time.perf_counter() if started is None else started
        if len(vectors) != len(songs):
            raise ValueError(f"{len(vectors)} vectors for {len(songs)} songs")
        vectors = np.asarray(vectors, dtype=np.float32)
        bad = np.flatnonzero(~usable_rows(vectors))
        if len(bad):
            raise ValueError(f"Vector {int(bad[0])} is not finite or not of unit length")
        self._refuse_foreign_collection()
        self._drop_leftovers()
        plan = self.plan_for(len(songs))
        # Every numeric feature, bucketed or not: requests filter on words (buckets) and on ranges of raw values.
        features = tuple(dict.fromkeys(n for n in (*scheme.features, *NUMERIC_FEATURES) if n in songs))
        clash = set(features) & set(_FIELDS)
        if clash:
            raise ValueError(f"Feature names {sorted(clash)} clash with the collection's own fields")
        staging = f"{self.name}_v{time.time_ns() // 1_000_000}"
        credited = [sorted(credited_artists(a, t)) for a, t in zip(songs["artist"], songs["title"], strict=True)]
        call = self._call
        call("create_collection", staging, schema=collection_schema(vectors.shape[1], features, credited))
        try:
            insert_started = time.perf_counter()
            table = pa.Table.from_pandas(songs, preserve_index=False)
            records = table.to_pylist()
            for start in range(0, len(songs), INSERT_BATCH):
                stop = min(len(songs), start + INSERT_BATCH)
                rows = [_row(i, vectors[i], songs, records[i], credited[i], features) for i in range(start, stop)]
                call("insert", staging, rows)
            call("flush", staging)
            insert_seconds = time.perf_counter() - insert_started
            index_started = time.perf_counter()
            call("create_index", staging, index_params(self.client, plan), sync=False)  # waited for below
            wait_for_index(call, staging, len(songs))
            call("load_collection", staging)
            index_seconds = time.perf_counter() - index_started
            count = int(call("get_collection_stats", staging).get("row_count", -1))
            if count != len(songs):
                raise StoreUnavailable(f"Milvus at {self.uri} holds {count} of the {len(songs)} songs written.")
            manifest = {
                "format_version": FORMAT_VERSION,
                "store": "milvus",
                **key.__dict__,
                "dimension": int(vectors.shape[1]),
                "metric": METRIC,
                **plan.to_manifest(),
                "milvus_collection": staging,
                "milvus_feature_fields": list(features),
                "song_count": len(songs),
                "song_ids_sha256": song_ids_sha256(songs),
                "text_sha256": list(songs["text_sha256"]),
                "buckets": scheme.to_dict(),
                "thresholds_sha256": scheme.fingerprint(),
                "songs_arrow_schema": base64.b64encode(table.schema.serialize().to_pybytes()).decode("ascii"),
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "versions": _library_versions(),
                **extra,
                "insert_seconds": round(insert_seconds, 3),
                "index_seconds": round(index_seconds, 3),
                "build_seconds": round(time.perf_counter() - started, 3),
            }
            call("alter_collection_properties", staging, properties={MANIFEST_PROPERTY: json.dumps(manifest)})
            previous = self._alias_target()
            if previous is None:
                call("create_alias", staging, self.name)
            else:
                call("alter_alias", staging, self.name)
        except BaseException:
            self._drop_quietly(staging)
            raise
        if previous is not None and previous != staging:
            self._drop_quietly(previous)
        return MilvusIndex(self.client, self.uri, self.name, songs, scheme, manifest)

    def _alias_target(self) -> str | None:
        """The collection the alias points at, or None when there is no such alias (or it names a collection)."""
        if not self._call("has_collection", self.name):
            return None
        target = str(self._call("describe_collection", self.name)["collection_name"])
        return None if target == self.name else target

    def _refuse_foreign_collection(self) -> None:
        """A collection (not an alias) by the alias's name is someone else's: refuse to replace it."""
        if self._call("has_collection", self.name) and self._alias_target() is None:
            raise IndexMismatch(
                f"Milvus at {self.uri} has a collection named {self.name} that Moodring did not make; "
                "choose another name with MOODRING_MILVUS_COLLECTION."
            )

    def _drop_leftovers(self) -> None:
        """Drop collections earlier builds of this name left behind when they were interrupted."""
        current = self._alias_target()
        pattern = re.compile(rf"{re.escape(self.name)}_v\d+")
        for other in self._call("list_collections"):
            if pattern.fullmatch(other) and other != current:
                self._drop_quietly(other)

    def _drop_quietly(self, name: str) -> None:
        from pymilvus.exceptions import MilvusException

        with contextlib.suppress(MilvusException):  # nothing to drop, or the server went away: the next build drops
            self.client.drop_collection(name)

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return _call(self.client, self.uri, method, *args, **kwargs)


def collection_schema(dimension: int, features: tuple[str, ...], credited: list[list[str]]) -> Any:
    """The collection's fields: row (key), vector, description hash, the filtered fields, the whole record."""
    from pymilvus import DataType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    schema.add_field("text_sha256", DataType.VARCHAR, max_length=64)
    schema.add_field("year", DataType.INT64, nullable=True)
    schema.add_field("genre", DataType.VARCHAR, max_length=_TEXT_MAX)
    capacity = min(4096, max(8, max((len(names) for names in credited), default=1)))
    schema.add_field(
        "credited", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=capacity, max_length=_TEXT_MAX
    )
    for name in features:
        schema.add_field(name, DataType.DOUBLE, nullable=True)
    schema.add_field("song", DataType.JSON)
    return schema


def _row(
    row: int,
    vector: np.ndarray,
    songs: pd.DataFrame,
    record: dict[str, Any],
    credited: list[str],
    features: tuple[str, ...],
) -> dict[str, Any]:
    year = songs["year"].iat[row]
    values: dict[str, Any] = {
        "row": row,
        "vector": vector.tolist(),
        "text_sha256": str(songs["text_sha256"].iat[row]),
        "year": None if pd.isna(year) else int(year),
        "genre": str(songs["genre"].iat[row]),
        "credited": credited,
        "song": _json_safe(record),
    }
    for name in features:
        value = songs[name].iat[row]
        values[name] = float(value) if pd.notna(value) and math.isfinite(float(value)) else None
    return values


def _json_safe(value: Any) -> Any:
    """A record with non-finite floats as null (JSON has no NaN) and arrays as lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def index_params(client: Any, plan: MilvusPlan) -> Any:
    """The vector index request. pymilvus 3 sends build parameters as flat keys (``nlist``), which a server reads;
    Milvus Lite 3.2 reads only a ``params`` key holding them as JSON (without it, it builds 128 lists whatever was
    asked). Both are sent: a server merges ``params`` into the flat keys."""
    params = client.prepare_index_params()
    build = dict(plan.build_params)
    extra = {**build, "params": build} if build else {}
    params.add_index(field_name="vector", index_type=plan.index_type, metric_type="IP", params=extra)
    return params


def wait_for_index(call: Callable[..., Any], name: str, count: int, timeout_s: float = 3600.0) -> None:
    """Wait until every row is indexed (a server builds indexes in the background; Milvus Lite at once)."""
    deadline = time.monotonic() + timeout_s
    while True:
        described = call("describe_index", name, "vector")
        if described.get("state") in ("Finished", None) and int(described.get("indexed_rows", count)) >= count:
            return
        if described.get("state") == "Failed" or time.monotonic() > deadline:
            raise StoreUnavailable(f"Milvus could not index the collection {name}: {described.get('fail_reason')}")
        time.sleep(0.5)


def _library_versions() -> dict[str, str]:
    versions = {}
    for package in ("pymilvus", "milvus-lite", "sentence-transformers", "transformers", "torch", "pandas", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions
