"""Cosine similarity in one place: L2-normalized vectors in a FAISS inner-product index, row positions as ids.

Up to ``Settings.approximate_above`` songs the index is an exact ``IndexFlatIP``; above it an ``IndexIVFFlat``
(vectors kept in full, so scores are exact cosines and ``reconstruct`` returns the stored vector). Both are
made by ``faiss.index_factory`` and tuned by ``faiss.ParameterSpace``; the plan (factory string and search
parameters) is recorded in the manifest and set again on load.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

METRIC = "cosine"
"""Inner product of L2-normalized vectors."""
EXACT_FACTORY = "Flat"
TRAINING_POINTS_PER_LIST = 50
"""IVF training sample: this many vectors per list (FAISS asks for at least 39; more only slows k-means)."""
ADD_CHUNK = 65_536
"""Rows normalized and added at a time while building."""
SCAN_CHUNK = 8_192
"""Rows checked at a time by ``first_unusable_row`` (24 MiB of reconstructed vectors at 768 dimensions)."""
UNIT_TOLERANCE = 1e-3
"""How far from 1 a stored vector's length may be (float32 rounding, bf16 widened to fp32, stay under 1e-5)."""
MMAP_FLAGS = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY
"""Map the file's vectors (flat codes, IVF lists) instead of copying them; FAISS >= 1.11 supports both kinds."""


@dataclass(frozen=True)
class IndexPlan:
    """How to index a catalogue: a ``faiss.index_factory`` string and ``ParameterSpace`` search parameters."""

    factory: str = EXACT_FACTORY
    """``"Flat"`` (exact) or ``"IVF<lists>,Flat"``."""
    search_params: str = ""
    """Set after building and after every load, e.g. ``"nprobe=96"``; empty for the exact index."""

    @property
    def exact(self) -> bool:
        """Whether search scores every vector."""
        return self.factory == EXACT_FACTORY

    def describe(self) -> str:
        """A phrase for messages: "exact flat index" or "IVF4096,Flat index (nprobe=96)"."""
        return "exact flat index" if self.exact else f"{self.factory} index ({self.search_params})"

    def to_manifest(self) -> dict[str, str]:
        """The manifest fields that record this plan."""
        return {"index_factory": self.factory, "search_params": self.search_params}


def plan_for(count: int, approximate_above: int, nprobe: int, lists: int | None = None) -> IndexPlan:
    """Exact up to ``approximate_above`` vectors; above it IVF with about 2*sqrt(count) lists (or ``lists``: those
    of trained centroids that are kept) and ``nprobe``."""
    if count <= approximate_above:
        return IndexPlan()
    lists = lists or ivf_lists(count)
    return IndexPlan(f"IVF{lists},Flat", f"nprobe={min(nprobe, lists)}")


def plan_lists(plan: IndexPlan) -> int | None:
    """The IVF list count a plan names (None for the exact index)."""
    shape = plan_shape(plan)
    return int(shape["lists"]) if "lists" in shape else None  # type: ignore[call-overload]


def ivf_lists(count: int) -> int:
    """About 2*sqrt(count) lists, a power of two (2,048 at a million), never more than count/39.

    Measured at a million song-like vectors (bench/RESULTS.md): 1,024 lists need more vectors scanned for the
    same recall, 4,096 lists take several times longer to train.
    """
    wanted = 2 ** round(math.log2(2 * math.sqrt(max(count, 1))))
    return int(max(1, min(wanted, 2 ** math.floor(math.log2(max(count // 39, 1))))))


def normalized(vectors: np.ndarray) -> np.ndarray:
    """A C-contiguous float32 copy of ``vectors`` with every row scaled to unit length (zero rows stay zero)."""
    array = np.array(vectors, dtype=np.float32, order="C", copy=True, ndmin=2)
    faiss.normalize_L2(array)
    return array


def build_flat_index(vectors: np.ndarray) -> faiss.Index:
    """An exact cosine index over ``vectors``; row i of the input is id i."""
    return build_cosine_index(vectors, IndexPlan())


def build_cosine_index(
    vectors: np.ndarray,
    plan: IndexPlan,
    seed: int = 0,
    centroids: np.ndarray | None = None,
    lists: np.ndarray | None = None,
) -> faiss.Index:
    """A cosine index over ``vectors`` as ``plan`` says; row i is id i, and ``reconstruct(i)`` works.

    Rows are normalized and added a chunk at a time, so building holds no second copy of ``vectors``. An IVF plan
    trains its centroids on a sample, unless ``centroids`` (those of an earlier build, one row per list) are given;
    then ``lists`` may give each row's list where it is known already (-1 elsewhere), so only the other rows are
    assigned to their nearest centroid.
    """
    count, dimension = np.shape(vectors)[0], np.shape(vectors)[-1]
    index = _empty_index(dimension, plan)
    ivf = _ivf(index)
    if ivf is not None and centroids is not None:
        if np.shape(centroids) != (ivf.nlist, dimension):
            raise ValueError(f"{np.shape(centroids)} centroids for {ivf.nlist} lists of {dimension} dimensions")
        ivf.quantizer.add(np.ascontiguousarray(centroids, dtype=np.float32))
        ivf.is_trained = True
    elif ivf is not None:
        index.train(normalized(vectors[training_rows(count, ivf.nlist, seed)]))
    for start in range(0, count, ADD_CHUNK):
        chunk = normalized(vectors[start : start + ADD_CHUNK])
        if ivf is None or lists is None:
            index.add(chunk)
            continue
        assigned = np.array(lists[start : start + len(chunk)], dtype=np.int64)
        unknown = assigned < 0
        if unknown.any():
            assigned[unknown] = ivf.quantizer.search(chunk[unknown], 1)[1][:, 0]
        ivf.add_core(len(chunk), faiss.swig_ptr(chunk), None, faiss.swig_ptr(assigned))
    if ivf is not None:
        ivf.make_direct_map()  # row id -> list position, so that reconstruct works
    apply_search_params(index, plan.search_params)
    return index


def training_rows(count: int, lists: int, seed: int = 0) -> np.ndarray:
    """The rows k-means trains ``lists`` centroids on: ``TRAINING_POINTS_PER_LIST`` a list, sorted, seeded."""
    sample = min(count, TRAINING_POINTS_PER_LIST * lists)
    return np.sort(np.random.default_rng(seed).choice(count, sample, replace=False))


def ivf_centroids(index: faiss.Index) -> np.ndarray:
    """An IVF index's centroids, one row per list."""
    ivf = _ivf(index)
    if ivf is None:
        raise ValueError("Not an IVF index")
    return ivf.quantizer.reconstruct_n(0, ivf.nlist)


def list_numbers(index: faiss.Index) -> np.ndarray:
    """The list each id of an IVF index (built here, with its direct map) is stored in."""
    ivf = _ivf(index)
    if ivf is None:
        raise ValueError("Not an IVF index")
    lookups = faiss.vector_to_array(ivf.direct_map.array)  # (list << 32) | offset, per id
    if len(lookups) != ivf.ntotal:
        raise ValueError("The IVF index has no direct map")
    return (lookups >> 32).astype(np.int64)


def centroid_fit(centroids: np.ndarray, vectors: np.ndarray) -> float:
    """The mean squared distance from each (normalized) vector to its nearest centroid: how well the centroids fit
    them, lower is better (for unit vectors, 2 - 2 x the best inner product)."""
    if len(vectors) == 0:
        return 0.0
    search = faiss.IndexFlatIP(int(np.shape(centroids)[1]))
    search.add(np.ascontiguousarray(centroids, dtype=np.float32))
    best = search.search(normalized(vectors), 1)[0][:, 0]
    return float(np.mean(2.0 - 2.0 * best))


def apply_search_params(index: faiss.Index, params: str) -> None:
    """Set ``ParameterSpace`` parameters such as ``"nprobe=96"`` (empty: nothing to set)."""
    if params:
        faiss.ParameterSpace().set_index_parameters(index, params)


def index_shape(index: faiss.Index) -> dict[str, object]:
    """What a loaded FAISS file is, to compare with the manifest: class, metric and IVF list count."""
    shape: dict[str, object] = {
        "index_type": type(index).__name__,
        "inner_product": index.metric_type == faiss.METRIC_INNER_PRODUCT,
    }
    if isinstance(index, faiss.IndexIVF):
        shape["lists"] = int(index.nlist)
    return shape


def plan_shape(plan: IndexPlan) -> dict[str, object]:
    """``index_shape`` of an index built by ``plan`` (without building it)."""
    return index_shape(_empty_index(8, plan))


def write_faiss(index: faiss.Index, path: Path) -> None:
    """Write ``index`` to ``path`` (the caller makes the write atomic)."""
    faiss.write_index(index, str(path))


def read_faiss(path: Path, mmap: bool = True) -> faiss.Index:
    """Read a FAISS file; with ``mmap`` its vectors stay in the page cache, read-only and shared."""
    return faiss.read_index(str(path), MMAP_FLAGS if mmap else 0)


def search_index(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` cosine scores and row ids for each query row; missing slots have id -1.

    An IVF index that finds fewer than ``k`` vectors in its ``nprobe`` lists searches again with twice as many
    lists (up to all of them), so a deep fetch gets ``k`` results; the index's own ``nprobe`` is left as is.
    """
    k = max(1, min(int(k), index.ntotal))
    queries = normalized(queries)
    scores, ids = index.search(queries, k)
    ivf = _ivf(index)
    if ivf is None:
        return scores, ids
    nprobe = ivf.nprobe
    while (ids < 0).any() and nprobe < ivf.nlist:
        # Enough lists for k vectors on average, and at least twice the last try.
        nprobe = min(ivf.nlist, max(2 * nprobe, math.ceil(1.5 * k * ivf.nlist / max(ivf.ntotal, 1))))
        scores, ids = index.search(queries, k, params=faiss.SearchParametersIVF(nprobe=nprobe))
    return scores, ids


def all_vectors(index: faiss.Index) -> np.ndarray:
    """Every stored vector, in id order (flat indexes, and IVF indexes built here with a direct map)."""
    return index.reconstruct_n(0, index.ntotal)


def stored_vectors(index: faiss.Index) -> np.ndarray | None:
    """A read-only view (no copy) of a flat FAISS index's vectors, row i = id i; None for any other index."""
    if not isinstance(index, faiss.IndexFlat) or index.ntotal == 0:
        return None
    view = faiss.rev_swig_ptr(index.get_xb(), index.ntotal * index.d).reshape(index.ntotal, index.d)
    view.setflags(write=False)  # a memory-mapped index is read-only: a write would crash the process
    return view


def stored_blocks(index: faiss.Index) -> Iterator[tuple[np.ndarray | None, np.ndarray]]:
    """Every stored vector without copying: ``(ids, rows)`` blocks of read-only views into the index's own storage
    (memory-mapped pages included); ``ids`` is None for a flat index's single block (row i = id i), else each IVF
    list's ids. Any other index is reconstructed a chunk at a time."""
    view = stored_vectors(index)
    if view is not None:
        yield None, view
        return
    ivf = _ivf(index)
    if ivf is None or not isinstance(ivf, faiss.IndexIVFFlat):
        for start in range(0, index.ntotal, SCAN_CHUNK):
            count = min(SCAN_CHUNK, index.ntotal - start)
            yield np.arange(start, start + count), index.reconstruct_n(start, count)
        return
    lists = ivf.invlists
    for number in range(ivf.nlist):
        size = lists.list_size(number)
        if size == 0:
            continue
        codes = faiss.rev_swig_ptr(lists.get_codes(number), size * ivf.code_size)
        rows = codes.view(np.float32).reshape(size, ivf.d)
        ids = faiss.rev_swig_ptr(lists.get_ids(number), size)
        rows.setflags(write=False)
        ids.setflags(write=False)
        yield ids, rows


def cosine_to_all(index: faiss.Index, vector: np.ndarray) -> np.ndarray:
    """The cosine between ``vector`` (normalized here) and every stored vector, row i = id i, read in place
    (``stored_blocks``): at a million songs no 3 GB copy of the vectors is made."""
    query = normalized(vector)[0]
    scores = np.zeros(index.ntotal, dtype=np.float32)
    for ids, rows in stored_blocks(index):
        if ids is None:
            scores[: len(rows)] = rows @ query
        else:
            scores[ids] = rows @ query
    return scores


def usable_rows(vectors: np.ndarray) -> np.ndarray:
    """A boolean mask of the rows that are finite and of unit length, as every stored vector must be."""
    rows = np.asarray(vectors, dtype=np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        squares = np.einsum("ij,ij->i", rows, rows)  # no temporary copy; NaN, inf and overflow stay non-finite
    return np.isfinite(squares) & (np.abs(np.sqrt(squares) - 1.0) <= UNIT_TOLERANCE)


def first_unusable_row(index: faiss.Index) -> int | None:
    """The id of the first stored vector that is not finite or not unit length, or None when all are usable.

    Read in place (``stored_blocks``): a flat index's rows, an IVF index's lists.
    """
    first = None
    for ids, rows in stored_blocks(index):
        for start in range(0, len(rows), SCAN_CHUNK):
            bad = np.flatnonzero(~usable_rows(rows[start : start + SCAN_CHUNK]))
            if len(bad):
                found = start + bad if ids is None else ids[start + bad]
                first = int(found.min()) if first is None else min(first, int(found.min()))
                if ids is None:
                    return first
                break
    return first


def _empty_index(dimension: int, plan: IndexPlan) -> faiss.Index:
    """The untrained index ``plan`` names; the exact one as an ``IndexFlatIP``, as FAISS reads it back."""
    if plan.exact:
        return faiss.IndexFlatIP(dimension)
    return faiss.index_factory(dimension, plan.factory, faiss.METRIC_INNER_PRODUCT)


def _ivf(index: faiss.Index) -> faiss.IndexIVF | None:
    """The IVF part of ``index``, or None for flat indexes (and for stand-ins that only wrap ``search``)."""
    return faiss.try_extract_index_ivf(index) if isinstance(index, faiss.Index) else None
