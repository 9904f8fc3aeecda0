"""An index is a folder: ``index.faiss``, ``songs.parquet``, ``vectors.json`` and ``manifest.json``, written and
checked as one.

``vectors.json`` says what each stored vector is: the model that embedded it, the checksum of ``index.faiss``,
the sha256 of the song ids in row order and each row's description hash. It ties row i of the songs table to
vector i (a reordered table is refused), and it lets a rebuild reuse the vectors of an index whose manifest or
songs table is damaged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pandas as pd

from index_builder.atomic import write_json_atomic
from index_builder.buckets import BucketScheme, FeatureBuckets, scheme_problems
from index_builder.errors import IndexMismatch, IndexNotWritable
from index_builder.file_stamps import FileStamps
from index_builder.model_store import sha256_of_file
from index_builder.vector_index import (
    EXACT_FACTORY,
    METRIC,
    IndexPlan,
    all_vectors,
    apply_search_params,
    build_cosine_index,
    centroid_fit,
    cosine_to_all,
    first_unusable_row,
    index_shape,
    ivf_centroids,
    list_numbers,
    normalized,
    plan_for,
    plan_shape,
    read_faiss,
    search_index,
    stored_vectors,
    training_rows,
    usable_rows,
    write_faiss,
)
from index_builder.vector_store import Where

log = logging.getLogger("moodring")

FORMAT_VERSION = 2
"""2: ``vectors.json`` added, every file's checksum required. Version 1 folders are rebuilt, reusing their vectors."""
INDEX_FILE = "index.faiss"
SONGS_FILE = "songs.parquet"
VECTORS_FILE = "vectors.json"
MANIFEST_FILE = "manifest.json"
CHECKED_FILES = (INDEX_FILE, SONGS_FILE, VECTORS_FILE)
"""Files the manifest must hold a checksum for; a manifest without one is refused."""


@dataclass(frozen=True)
class IndexKey:
    """Everything an index depends on; a stored index is used only when every field matches."""

    model_name: str
    model_sha256: str
    catalogue_sha256: str
    template_sha256: str
    feature_words_sha256: str
    column_map_sha256: str

    def differences(self, stored: dict[str, Any]) -> list[str]:
        """Readable descriptions of each field where ``stored`` differs from this key."""
        labels = {
            "model_sha256": "model weights",
            "model_name": "model",
            "catalogue_sha256": "catalogue file (or its repairs table)",
            "template_sha256": "song template (prompts/song_description.txt)",
            "feature_words_sha256": "feature thresholds (prompts/feature_words.toml)",
            "column_map_sha256": "column mapping",
        }
        return [
            f"{label} changed (index has {_short(field, stored.get(field))}, now {_short(field, getattr(self, field))})"
            for field, label in labels.items()
            if stored.get(field) != getattr(self, field)
        ]


def _short(field: str, value: object) -> str:
    """Hashes cut to 12 characters; names in full."""
    return str(value)[:12] if field.endswith("_sha256") else str(value)


@dataclass
class SongIndex:
    """A loaded index folder: the FAISS index, the songs table (row i is FAISS id i), its buckets and manifest.

    The default ``VectorStore`` (index_builder/vector_store.py). It does not push filters down: searches return the
    nearest songs and the caller's masks filter them.
    """

    folder: Path
    faiss_index: faiss.Index
    songs: pd.DataFrame
    scheme: BucketScheme
    manifest: dict[str, Any]
    pushes_down = False

    def __len__(self) -> int:
        return len(self.songs)

    @property
    def plan(self) -> IndexPlan:
        """How the FAISS index was built and is searched, as the manifest records it."""
        return plan_from_manifest(self.manifest)

    @property
    def max_fetch(self) -> int:
        """A FAISS search can return every song."""
        return len(self)

    def describe(self) -> str:
        """``FAISS folder <path> (exact flat index)``."""
        return f"FAISS folder {self.folder} ({self.plan.describe()})"

    def search(self, queries: np.ndarray, k: int, where: Where | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` cosine scores and row ids per query row (``vector_index.search_index``); ``where`` is not
        applied here (the caller's masks filter)."""
        return search_index(self.faiss_index, queries, k)

    def candidates(self, query: np.ndarray, k: int, where: Where | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Every song when ``k`` covers them and the index is exact (one matrix-vector product: FAISS would also
        heap-sort all of them, 30,000 songs: 7 ms against 12+), else FAISS's top ``k``; ``where`` is not applied."""
        flat = stored_vectors(self.faiss_index)
        if flat is not None and k >= len(flat):
            return np.arange(len(flat)), flat @ normalized(query)[0]
        scores, ids = search_index(self.faiss_index, np.asarray(query)[None, :], k)
        valid = ids[0] >= 0
        return ids[0][valid], scores[0][valid]

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """The stored vectors of ``rows``."""
        if len(rows) == 0:
            return np.zeros((0, self.faiss_index.d), dtype=np.float32)
        return np.stack([self.faiss_index.reconstruct(int(r)) for r in rows])

    def similarities(self, vector: np.ndarray) -> np.ndarray:
        """The cosine between ``vector`` and every stored vector, read where the index keeps them (no copy)."""
        return cosine_to_all(self.faiss_index, vector)

    def all_vectors(self) -> np.ndarray:
        """Every stored vector: a no-copy view of an exact index, else a copy."""
        view = stored_vectors(self.faiss_index)
        return view if view is not None else np.asarray(all_vectors(self.faiss_index), dtype=np.float32)


def write_index(
    folder: Path,
    faiss_index: faiss.Index,
    songs: pd.DataFrame,
    scheme: BucketScheme,
    key: IndexKey,
    extra: dict[str, Any] | None = None,
    plan: IndexPlan | None = None,
) -> SongIndex:
    """Write the three files into a fresh folder, then swap it into place; the old index survives a crash.

    ``plan`` is how ``faiss_index`` was built (default: the exact flat index); the manifest records it.
    """
    plan = plan or IndexPlan()
    if index_shape(faiss_index) != plan_shape(plan):
        raise ValueError(f"A {type(faiss_index).__name__} is not what the plan {plan.factory!r} builds")
    if faiss_index.ntotal != len(songs):
        raise ValueError(f"{faiss_index.ntotal} vectors for {len(songs)} songs")
    bad = first_unusable_row(faiss_index)
    if bad is not None:
        raise ValueError(f"Vector {bad} is not finite or not of unit length")
    folder = Path(folder)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.building-"))
    except OSError as exc:
        raise IndexNotWritable(_not_writable(folder, exc)) from exc
    try:
        write_faiss(faiss_index, staging / INDEX_FILE)
        songs.to_parquet(staging / SONGS_FILE, index=False)
        vectors = {
            "model_name": key.model_name,
            "model_sha256": key.model_sha256,
            "dimension": int(faiss_index.d),
            "count": len(songs),
            "index_sha256": sha256_of_file(staging / INDEX_FILE),
            "song_ids_sha256": song_ids_sha256(songs),
            "text_sha256": list(songs["text_sha256"]) if "text_sha256" in songs else None,
        }
        write_json_atomic(staging / VECTORS_FILE, vectors)
        manifest = {
            "format_version": FORMAT_VERSION,
            **key.__dict__,
            "dimension": int(faiss_index.d),
            "metric": METRIC,
            "index_type": type(faiss_index).__name__,
            **plan.to_manifest(),
            "song_count": len(songs),
            "buckets": scheme.to_dict(),
            "thresholds_sha256": scheme.fingerprint(),
            "files": {name: sha256_of_file(staging / name) for name in CHECKED_FILES},
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": _library_versions(),
            **(extra or {}),
        }
        write_json_atomic(staging / MANIFEST_FILE, manifest)
        stamps = FileStamps(staging)  # its vectors were checked above: the first load need not read them again
        stamps.remember(INDEX_FILE, vectors["index_sha256"])
        stamps.save(rows_checked=INDEX_FILE)
        _swap_into_place(staging, folder)
    except OSError as exc:
        raise IndexNotWritable(f"The index at {folder} could not be written ({exc.strerror or exc}).") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return SongIndex(folder=folder, faiss_index=faiss_index, songs=songs, scheme=scheme, manifest=manifest)


@dataclass
class FaissFolder:
    """Where a build writes by default: the index folder (a ``StoreTarget``), indexed as ``plan_for`` says.

    An IVF index rebuilt with more songs keeps the centroids of the one in the folder while they still fit
    (``kept_lists``): only the new songs are assigned to lists, and k-means does not run again.
    """

    folder: Path
    approximate_above: int
    nprobe: int
    retrain_growth: float = 2.0
    """Train again once the catalogue holds this many times the songs the centroids were trained for."""
    retrain_fit: float = 1.1
    """...or once the new songs' mean squared distance to their centroid is this many times the trained songs'."""

    def plan_for(self, count: int, lists: int | None = None) -> IndexPlan:
        """The plan for ``count`` songs (``vector_index.plan_for``), with ``lists`` when centroids are kept."""
        return plan_for(count, self.approximate_above, self.nprobe, lists)

    def describe(self) -> str:
        """``FAISS folder <path>``."""
        return f"FAISS folder {self.folder}"

    def previous_manifest(self) -> dict[str, Any] | None:
        """The manifest now in the folder, in any format version, if it is readable."""
        try:
            return read_manifest(self.folder, any_format=True)
        except IndexMismatch:
            return None

    def reusable_vectors(
        self, made_by: Callable[[Mapping[str, Any]], bool], dimension: int
    ) -> tuple[dict[str, np.ndarray], list[str]]:
        """The folder's vectors that can be trusted, keyed by description hash (``reusable_vectors``)."""
        return reusable_vectors(self.folder, made_by, dimension)

    def write(
        self,
        songs: pd.DataFrame,
        vectors: np.ndarray,
        scheme: BucketScheme,
        key: IndexKey,
        extra: Mapping[str, Any],
        started: float | None = None,
    ) -> SongIndex:
        """Build the FAISS index the plan names and write the folder (``write_index``); ``started`` (a
        ``perf_counter`` time) dates ``build_seconds``, which counts building the index but not writing the files."""
        plan = self.plan_for(len(songs))
        index_started = time.perf_counter()
        kept = None if plan.exact else self.kept_lists(songs, vectors, key)
        if kept is not None:
            plan = self.plan_for(len(songs), len(kept.centroids))
            faiss_index = build_cosine_index(vectors, plan, centroids=kept.centroids, lists=kept.lists)
            training = {"ivf_trained_on": kept.trained_on, "ivf_fit": kept.fit, "ivf_centroids": "kept"}
        else:
            faiss_index = build_cosine_index(vectors, plan)
            training = {} if plan.exact else trained_record(faiss_index, vectors)
        finished = time.perf_counter()
        timing = {
            "index_seconds": round(finished - index_started, 3),
            "build_seconds": round(finished - (index_started if started is None else started), 3),
        }
        return write_index(self.folder, faiss_index, songs, scheme, key, {**extra, **training, **timing}, plan)

    def kept_lists(self, songs: pd.DataFrame, vectors: np.ndarray, key: IndexKey) -> KeptLists | None:
        """The folder's IVF centroids, and the list of each song they already hold, when they still fit these songs
        (``keeps_centroids`` and ``retrain_fit``) and were trained on vectors of the same model; None when they
        must be trained (said in the log)."""
        manifest = self.previous_manifest()
        if manifest is None or not keeps_centroids(manifest, len(songs), self.retrain_growth):
            return None
        if (manifest.get("model_sha256"), manifest.get("model_name")) != (key.model_sha256, key.model_name):
            return None
        try:
            stamps = FileStamps(self.folder)
            _check_files(self.folder, manifest, stamps)  # the centroids are only as good as the file they come from
            previous = read_faiss(self.folder / INDEX_FILE, mmap=True)
            hashes = pd.read_parquet(self.folder / SONGS_FILE, columns=["text_sha256"])["text_sha256"]
            centroids, numbers = ivf_centroids(previous), list_numbers(previous)
        except (IndexMismatch, RuntimeError, OSError, ValueError, KeyError) as exc:
            log.info(f"Training the IVF centroids again: the previous index cannot be read ({exc}).")
            return None
        list_of = dict(zip(hashes, numbers, strict=True))
        lists = np.fromiter((list_of.get(h, -1) for h in songs["text_sha256"]), dtype=np.int64, count=len(songs))
        new_rows = np.flatnonzero(lists < 0)
        sample = new_rows[training_rows(len(new_rows), len(centroids))] if len(new_rows) else new_rows
        fit = centroid_fit(centroids, vectors[sample])
        if fit > self.retrain_fit * float(manifest["ivf_fit"]):
            log.info(f"Training the IVF centroids again: the new songs fit them worse ({fit:.3f} against "
                     f"{float(manifest['ivf_fit']):.3f}).")  # fmt: skip
            return None
        return KeptLists(centroids, lists, int(manifest["ivf_trained_on"]), float(manifest["ivf_fit"]))


@dataclass(frozen=True)
class KeptLists:
    """Trained IVF centroids carried into a rebuild."""

    centroids: np.ndarray
    """One row per list."""
    lists: np.ndarray
    """Each song's list where the previous index held its vector, else -1 (assigned while adding)."""
    trained_on: int
    """The songs the centroids were trained for."""
    fit: float
    """Their training songs' mean squared distance to the nearest centroid (``centroid_fit``)."""


def trained_record(faiss_index: faiss.Index, vectors: np.ndarray) -> dict[str, Any]:
    """Manifest fields for freshly trained IVF centroids: the songs they were trained for and how well they fit
    their training sample (``centroid_fit``), which later rebuilds compare the new songs with."""
    centroids = ivf_centroids(faiss_index)
    rows = training_rows(len(vectors), len(centroids))
    return {
        "ivf_trained_on": len(vectors),
        "ivf_fit": centroid_fit(centroids, vectors[rows]),
        "ivf_centroids": "trained",
    }


def keeps_centroids(manifest: Mapping[str, Any], count: int, growth: float) -> bool:
    """Whether an IVF index's centroids may serve ``count`` songs: it records what they were trained for, and the
    catalogue has neither grown past ``growth`` times that nor shrunk below its ``1 / growth``."""
    trained_on, fit = manifest.get("ivf_trained_on"), manifest.get("ivf_fit")
    if plan_from_manifest(dict(manifest)).exact or not isinstance(trained_on, int) or not isinstance(fit, float):
        return False
    return trained_on > 0 and trained_on / growth <= count <= growth * trained_on


def ensure_writable(folder: Path) -> None:
    """Raise IndexNotWritable unless an index can be built at ``folder``; cheap, so a build checks before working.

    A build writes beside the folder (staging, checkpoints) and renames the folder itself, so both must take new
    files. Each is probed by creating and removing a file, which also catches read-only mounts and immutable folders.
    """
    folder = Path(folder)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        for target in (folder.parent, folder) if folder.is_dir() else (folder.parent,):
            handle, name = tempfile.mkstemp(dir=target, prefix=".moodring-probe-")
            os.close(handle)
            os.unlink(name)
    except OSError as exc:
        raise IndexNotWritable(_not_writable(folder, exc)) from exc


def _not_writable(folder: Path, exc: OSError) -> str:
    return (
        f"The index folder {folder} cannot be written ({exc.strerror or exc}): make it writable, or build the index "
        "elsewhere with --index or MOODRING_INDEX_DIR."
    )


def song_ids_sha256(songs: pd.DataFrame) -> str:
    """sha256 of the song ids in row order: what ties row i of the songs table to vector i."""
    return hashlib.sha256("\n".join(songs["song_id"].astype(str)).encode("utf-8")).hexdigest()


def read_manifest(folder: Path, any_format: bool = False) -> dict[str, Any]:
    """The manifest of the index in ``folder``; IndexMismatch if there is none or it is unreadable.

    ``any_format`` also accepts a manifest written in another format version (to read what a rebuild may keep).
    """
    folder = Path(folder)
    _recover_interrupted_swap(folder)
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise IndexMismatch(f"No index at {folder} (no {MANIFEST_FILE}).")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexMismatch(f"The index manifest {path} is unreadable: {exc}") from exc
    if not isinstance(manifest, dict):
        raise IndexMismatch(f"The index manifest {path} is not a JSON object.")
    if manifest.get("format_version") != FORMAT_VERSION and not any_format:
        raise IndexMismatch(
            f"The index at {folder} has format {manifest.get('format_version')!r}, not {FORMAT_VERSION}."
        )
    return manifest


def load_index(folder: Path, expected: IndexKey | None, mmap: bool = True) -> SongIndex:
    """Load and check an index folder; raise IndexMismatch saying what differs or what is damaged.

    ``expected=None`` skips the comparison with the current model, template and catalogue (the files are
    still checked against their checksums). ``mmap`` (default on) maps an approximate index's FAISS file instead
    of copying it; an exact index is always read into memory, where scanning it is several times faster.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    if expected is not None:
        differences = expected.differences(manifest)
        if differences:
            raise IndexMismatch(f"The index at {folder} is stale: " + "; ".join(differences) + ".")
    stamps = FileStamps(folder)
    _check_files(folder, manifest, stamps)
    try:
        faiss_index = read_faiss(folder / INDEX_FILE, mmap=mmap and not plan_from_manifest(manifest).exact)
        songs = pd.read_parquet(folder / SONGS_FILE)
        vectors = json.loads((folder / VECTORS_FILE).read_text(encoding="utf-8"))
    except (RuntimeError, OSError, ValueError) as exc:
        raise IndexMismatch(f"The index at {folder} cannot be read: {exc}") from exc
    if not (faiss_index.ntotal == len(songs) == manifest.get("song_count")):
        raise IndexMismatch(
            f"The index at {folder} is inconsistent: {faiss_index.ntotal} vectors, {len(songs)} songs, "
            f"manifest says {manifest.get('song_count')}."
        )
    if faiss_index.d != manifest.get("dimension"):
        raise IndexMismatch(
            f"The index at {folder} has dimension {faiss_index.d}, manifest says {manifest.get('dimension')}."
        )
    _check_plan(folder, faiss_index, manifest)
    _check_rows(folder, songs, vectors, manifest)
    if not stamps.rows_checked(INDEX_FILE):  # checked when it was stamped, and unchanged since
        try:
            bad = first_unusable_row(faiss_index)
        except RuntimeError as exc:  # an IVF file without the direct map every index written here has
            raise IndexMismatch(f"The index at {folder} cannot be read: {exc}") from exc
        if bad is not None:
            raise IndexMismatch(f"The index at {folder} is damaged: vector {bad} is not finite or not of unit length.")
    scheme = checked_scheme(folder, manifest)
    stamps.save(rows_checked=INDEX_FILE)
    return SongIndex(folder=folder, faiss_index=faiss_index, songs=songs, scheme=scheme, manifest=manifest)


def _check_files(folder: Path, manifest: dict[str, Any], stamps: FileStamps) -> None:
    """Every file must be present and match the checksum the manifest records; a missing checksum is refused.

    A large file's checksum comes from its stamp while the file is unchanged since it was verified (``FileStamps``).
    """
    files = manifest.get("files")
    recorded = files if isinstance(files, dict) else {}
    unrecorded = [name for name in CHECKED_FILES if not isinstance(recorded.get(name), str)]
    if unrecorded:
        raise IndexMismatch(
            f"The index manifest at {folder} records no checksum for {', '.join(unrecorded)}, so the index cannot "
            "be trusted."
        )
    for name in CHECKED_FILES:
        path = folder / name
        if not path.is_file():
            raise IndexMismatch(f"The index at {folder} is missing {name}.")
        if stamps.sha256(name) != recorded[name]:
            raise IndexMismatch(f"The index file {path} is damaged (its checksum does not match the manifest).")


def _check_rows(folder: Path, songs: pd.DataFrame, vectors: object, manifest: dict[str, Any]) -> None:
    """Row i of the songs table must be the song vector i was stored for (``vectors.json`` says which)."""
    if not isinstance(vectors, dict) or vectors.get("index_sha256") != manifest["files"][INDEX_FILE]:
        raise IndexMismatch(f"The index at {folder} has a {VECTORS_FILE} that does not describe its {INDEX_FILE}.")
    stored_texts = vectors.get("text_sha256")
    texts_differ = "text_sha256" in songs and list(songs["text_sha256"]) != stored_texts
    if "song_id" not in songs or song_ids_sha256(songs) != vectors.get("song_ids_sha256") or texts_differ:
        raise IndexMismatch(
            f"The songs in {folder / SONGS_FILE} are not the songs its vectors were stored for, in that order."
        )


def checked_scheme(folder: Path | str, manifest: dict[str, Any]) -> BucketScheme:
    """The manifest's buckets, refused unless well formed and matching the thresholds checksum recorded with them;
    ``folder`` names the index in messages (a folder, or a Milvus collection)."""
    try:
        scheme = scheme_from_manifest(manifest)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise IndexMismatch(f"The index manifest at {folder} has unreadable buckets ({exc!r}).") from exc
    problems = scheme_problems(scheme)
    if scheme.fingerprint() != manifest.get("thresholds_sha256"):
        problems.append("they do not match the thresholds checksum recorded with them")
    if problems:
        raise IndexMismatch(f"The index manifest at {folder} has altered buckets: {'; '.join(problems)}.")
    return scheme


def reusable_vectors(
    folder: Path, made_by: Callable[[Mapping[str, Any]], bool], dimension: int
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Vectors of the index in ``folder`` keyed by description hash, and notes; empty when none can be trusted.

    The row -> description hash map comes from ``vectors.json`` (which survives a damaged manifest or songs table)
    or else from the manifest and ``songs.parquet`` (which survive a damaged ``vectors.json``, and are all a
    format 1 folder has). Either is used only when ``made_by`` accepts the model it names and the checksums it
    records match the files; then only finite vectors of unit length and width ``dimension`` are kept.
    """
    folder = Path(folder)
    index_path = folder / INDEX_FILE
    records = ((name, _json_object(folder / name)) for name in (VECTORS_FILE, MANIFEST_FILE))
    sources = [(name, record) for name, record in records if record is not None and made_by(record)]
    if not sources or not index_path.is_file():
        return {}, []  # nothing embedded by this model: the FAISS file is not even read
    index_sha256 = FileStamps(folder).sha256(INDEX_FILE)
    keys = None
    for name, record in sources:
        keys = _keys_recorded(folder, name, record, index_sha256)
        if keys is not None:
            break
    if keys is None:
        return {}, []
    try:
        faiss_index = read_faiss(index_path, mmap=False)
        if faiss_index.ntotal != len(keys) or faiss_index.d != dimension:
            return {}, []
        vectors = all_vectors(faiss_index)
    except RuntimeError:
        return {}, []
    usable = usable_rows(vectors)
    notes = []
    if not usable.all():
        notes.append(f"{int((~usable).sum())} stored vector(s) not finite or not of unit length are embedded again")
    return {key: vector for key, vector, ok in zip(keys, vectors, usable, strict=True) if ok}, notes


def _json_object(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None when it is missing, unreadable or not an object."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _keys_recorded(folder: Path, name: str, record: dict[str, Any], index_sha256: str) -> list[str] | None:
    """Each row's description hash as ``record`` (the contents of file ``name``) gives it, if it describes this
    FAISS file; a manifest's come from ``songs.parquet``, which must match the checksum it records."""
    if name == VECTORS_FILE:
        keys = record.get("text_sha256")
        valid = record.get("index_sha256") == index_sha256 and isinstance(keys, list)
        return keys if valid and all(isinstance(k, str) for k in keys) else None
    try:
        files = record["files"]
        if files[INDEX_FILE] != index_sha256 or files[SONGS_FILE] != sha256_of_file(folder / SONGS_FILE):
            return None
        keys = pd.read_parquet(folder / SONGS_FILE, columns=["text_sha256"])["text_sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return [str(k) for k in keys]


def scheme_from_manifest(manifest: dict[str, Any]) -> BucketScheme:
    """The bucket edges and words an index was described with."""
    return BucketScheme(
        features={
            name: FeatureBuckets(feature=name, label=b["label"], edges=tuple(b["edges"]), words=tuple(b["words"]))
            for name, b in manifest["buckets"].items()
        }
    )


def plan_from_manifest(manifest: dict[str, Any]) -> IndexPlan:
    """The plan a manifest records (manifests written before plans existed hold the exact flat index)."""
    return IndexPlan(str(manifest.get("index_factory", EXACT_FACTORY)), str(manifest.get("search_params", "")))


def _check_plan(folder: Path, faiss_index: faiss.Index, manifest: dict[str, Any]) -> None:
    """The FAISS file must be what the manifest's plan builds; then its search parameters are set."""
    plan = plan_from_manifest(manifest)
    try:
        expected = plan_shape(plan)
    except RuntimeError as exc:
        raise IndexMismatch(f"The index at {folder} names an unknown FAISS index {plan.factory!r}.") from exc
    found = index_shape(faiss_index)
    if found != expected or found["index_type"] != manifest.get("index_type"):
        raise IndexMismatch(
            f"The index at {folder} holds {_shape_text(found)}, but its manifest says {plan.factory!r} "
            f"({manifest.get('index_type')})."
        )
    try:
        apply_search_params(faiss_index, plan.search_params)
    except RuntimeError as exc:
        raise IndexMismatch(f"The index at {folder} has unusable search parameters {plan.search_params!r}.") from exc


def _shape_text(shape: dict[str, object]) -> str:
    lists = f" with {shape['lists']} lists" if "lists" in shape else ""
    metric = "inner product" if shape["inner_product"] else "another metric"
    return f"a {shape['index_type']}{lists} ({metric})"


def _previous_path(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.previous")


def _swap_into_place(staging: Path, folder: Path) -> None:
    """Replace ``folder`` with ``staging`` by two renames; the old copy is kept until the new one is in place."""
    previous = _previous_path(folder)
    shutil.rmtree(previous, ignore_errors=True)
    if folder.exists():
        os.replace(folder, previous)
    os.replace(staging, folder)
    shutil.rmtree(previous, ignore_errors=True)


def _recover_interrupted_swap(folder: Path) -> None:
    """If a crash fell between the two renames, put the previous index back."""
    previous = _previous_path(folder)
    if not folder.exists() and previous.is_dir():
        try:
            os.replace(previous, folder)
        except OSError as exc:
            raise IndexNotWritable(_not_writable(folder, exc)) from exc


def _library_versions() -> dict[str, str]:
    versions = {"faiss": getattr(faiss, "__version__", "unknown")}
    for package in ("sentence-transformers", "transformers", "torch", "pandas", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions
