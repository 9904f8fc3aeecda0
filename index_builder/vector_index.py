"""Cosine similarity in one place: L2-normalized vectors in a FAISS inner-product index, row positions as ids.

Up to ``Settings.approximate_above`` songs the index is an exact ``IndexFlatIP``; above it an ``IndexIVFFlat``
(vectors kept in full, so scores are exact cosines and ``reconstruct`` returns the stored vector). Both are
made by ``faiss.index_factory`` and tuned by ``faiss.ParameterSpace``; the plan (factory string and search
parameters) is recorded in the manifest and set again on load.
"""

from __future__ import annotations

import math
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


def plan_for(count: int, approximate_above: int, nprobe: int) -> IndexPlan:
    """Exact up to ``approximate_above`` vectors; above it IVF with about 2*sqrt(count) lists and ``nprobe``."""
    if count <= approximate_above:
        return IndexPlan()
    lists = ivf_lists(count)
    return IndexPlan(f"IVF{lists},Flat", f"nprobe={min(nprobe, lists)}")


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


def build_cosine_index(vectors: np.ndarray, plan: IndexPlan, seed: int = 0) -> faiss.Index:
    """A cosine index over ``vectors`` as ``plan`` says; row i is id i, and ``reconstruct(i)`` works.

    Rows are normalized and added a chunk at a time, so building holds no second copy of ``vectors``.
    """
    count, dimension = np.shape(vectors)[0], np.shape(vectors)[-1]
    index = _empty_index(dimension, plan)
    ivf = _ivf(index)
    if ivf is not None:
        sample = min(count, TRAINING_POINTS_PER_LIST * ivf.nlist)
        rows = np.sort(np.random.default_rng(seed).choice(count, sample, replace=False))
        index.train(normalized(vectors[rows]))
    for start in range(0, count, ADD_CHUNK):
        index.add(normalized(vectors[start : start + ADD_CHUNK]))
    if ivf is not None:
        ivf.make_direct_map()  # row id -> list position, so that reconstruct works
    apply_search_params(index, plan.search_params)
    return index


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


def usable_rows(vectors: np.ndarray) -> np.ndarray:
    """A boolean mask of the rows that are finite and of unit length, as every stored vector must be."""
    rows = np.asarray(vectors, dtype=np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        squares = np.einsum("ij,ij->i", rows, rows)  # no temporary copy; NaN, inf and overflow stay non-finite
    return np.isfinite(squares) & (np.abs(np.sqrt(squares) - 1.0) <= UNIT_TOLERANCE)


def first_unusable_row(index: faiss.Index) -> int | None:
    """The id of the first stored vector that is not finite or not unit length, or None when all are usable.

    A flat index is scanned in place; other kinds a chunk of reconstructed rows at a time.
    """
    view = stored_vectors(index)
    for start in range(0, index.ntotal, SCAN_CHUNK):
        count = min(SCAN_CHUNK, index.ntotal - start)
        rows = view[start : start + count] if view is not None else index.reconstruct_n(start, count)
        bad = np.flatnonzero(~usable_rows(rows))
        if len(bad):
            return start + int(bad[0])
    return None


def _empty_index(dimension: int, plan: IndexPlan) -> faiss.Index:
    """The untrained index ``plan`` names; the exact one as an ``IndexFlatIP``, as FAISS reads it back."""
    if plan.exact:
        return faiss.IndexFlatIP(dimension)
    return faiss.index_factory(dimension, plan.factory, faiss.METRIC_INNER_PRODUCT)


def _ivf(index: faiss.Index) -> faiss.IndexIVF | None:
    """The IVF part of ``index``, or None for flat indexes (and for stand-ins that only wrap ``search``)."""
    return faiss.try_extract_index_ivf(index) if isinstance(index, faiss.Index) else None
