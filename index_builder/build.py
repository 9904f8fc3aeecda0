"""Catalogue to index: describe every song, embed what is new, write the folder (or the Milvus collection); or
reuse a matching one."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from index_builder.buckets import BucketScheme, fit_buckets, load_bucket_spec, scheme_problems
from index_builder.catalogue import Catalogue, CatalogueLimits, load_catalogue, map_columns
from index_builder.catalogue_file import catalogue_header
from index_builder.checkpoint import EmbeddingCheckpoint
from index_builder.embedding import Encoder
from index_builder.errors import CatalogueError, ConfigError, IndexMismatch
from index_builder.index_store import (
    MANIFEST_FILE,
    FaissFolder,
    IndexKey,
    SongIndex,
    checked_scheme,
    ensure_writable,
    keeps_centroids,
    load_index,
    reusable_vectors,
)
from index_builder.schema import SONG_COLUMNS
from index_builder.settings import BUNDLED_CATALOGUE, Settings
from index_builder.templating import SongTemplate, known_variables, template_values
from index_builder.text_checks import TextRepairs
from index_builder.vector_index import plan_for, plan_lists
from index_builder.vector_store import StoreTarget, VectorStore

if TYPE_CHECKING:
    from index_builder.milvus_store import MilvusPlan

log = logging.getLogger("moodring")


@dataclass
class DescribedCatalogue:
    """A catalogue with its resolved buckets and one description per song (``description``, ``text_sha256``)."""

    catalogue: Catalogue
    scheme: BucketScheme
    template: SongTemplate

    @property
    def songs(self) -> pd.DataFrame:
        return self.catalogue.songs


def describe_catalogue(
    settings: Settings, column_map: Mapping[str, str] | None = None, previous: BucketScheme | None = None
) -> DescribedCatalogue:
    """Load the catalogue, fit the buckets (keeping ``previous`` quantile edges that still fit), render descriptions.

    The catalogue is read within the limits ``settings`` set (``max_catalogue_rows`` and the others).
    """
    catalogue = load_catalogue(
        settings.catalogue_path,
        column_map,
        CatalogueLimits.from_settings(settings),
        TextRepairs.from_file(settings.text_repairs_path),
    )
    spec = load_bucket_spec(settings.feature_words_path)
    scheme = fit_buckets(spec, catalogue.songs, previous)
    template = SongTemplate.from_file(settings.template_path, known_variables(set(spec)))
    songs = catalogue.songs
    descriptions = [template.render(template_values(row, scheme)) for row in songs.to_dict("records")]
    songs["description"] = descriptions
    songs["text_sha256"] = [hashlib.sha256(text.encode("utf-8")).hexdigest() for text in descriptions]
    return DescribedCatalogue(catalogue=catalogue, scheme=scheme, template=template)


def current_key(settings: Settings, encoder: Encoder, column_map: Mapping[str, str] | None = None) -> IndexKey:
    """The key an index for these settings must carry; cheap (hashes files, parses nothing, loads no model)."""
    return IndexKey(
        model_name=encoder.model_name,
        model_sha256=encoder.weights_sha256,
        catalogue_sha256=_catalogue_sha256(settings),
        template_sha256=_sha256_file(settings.template_path),
        feature_words_sha256=_sha256_file(settings.feature_words_path),
        column_map_sha256=hashlib.sha256(json.dumps(dict(column_map or {}), sort_keys=True).encode()).hexdigest(),
    )


def build_index(
    settings: Settings,
    encoder: Encoder,
    column_map: Mapping[str, str] | None = None,
    on_progress: Callable[[str], None] | None = None,
    on_embedded: Callable[[int, int], None] | None = None,
) -> VectorStore:
    """Build and write the index for ``settings.catalogue_path`` (the folder, or the Milvus collection when
    ``settings.milvus_uri`` is set); texts already embedded are reused.

    Raises IndexNotWritable before any work when the index folder (with Milvus: where the embedding checkpoints
    go, beside it) cannot be written. Vectors are reused from the checkpoints of an interrupted build, from the
    index now in the folder (even one whose manifest or songs table is damaged) and, with Milvus, from the
    collection now behind the alias, each only once it passes its checks (what was discarded is listed in the
    manifest's ``build_notes``). ``on_embedded(done, total)`` hears of each batch embedded (first with 0).
    """
    started = time.perf_counter()
    folder = settings.resolved_index_dir
    ensure_writable(folder)
    target = store_target(settings, encoder.dimension)
    described = describe_catalogue(settings, column_map, _previous_scheme(target, settings))
    songs = described.songs
    checkpoint = EmbeddingCheckpoint(folder, encoder.vector_identity, encoder.dimension)
    stored, notes = reusable_vectors(folder, encoder.matches_manifest, encoder.dimension)
    if not isinstance(target, FaissFolder):
        kept, kept_notes = target.reusable_vectors(encoder.matches_manifest, encoder.dimension)
        stored, notes = {**stored, **kept}, notes + kept_notes
    reusable = {**checkpoint.load(), **stored}
    notes = checkpoint.notes + notes
    for note in notes:
        log.warning(note)
    vectors = np.zeros((len(songs), encoder.dimension), dtype=np.float32)
    todo = [i for i, digest in enumerate(songs["text_sha256"]) if digest not in reusable]
    for i, digest in enumerate(songs["text_sha256"]):
        if digest in reusable:
            vectors[i] = reusable[digest]
    if on_progress:
        on_progress(f"Embedding {len(todo)} of {len(songs)} song descriptions ({len(songs) - len(todo)} reused).")
    embed_started = time.perf_counter()
    if todo:
        texts = [songs["description"].iat[i] for i in todo]
        hashes = [songs["text_sha256"].iat[i] for i in todo]

        embedded = 0

        def save_batch(positions: list[int], batch: np.ndarray) -> None:
            nonlocal embedded
            checkpoint.add([hashes[p] for p in positions], batch, settings.checkpoint_every)
            embedded += len(positions)
            if on_embedded:
                on_embedded(embedded, len(todo))

        if on_embedded:
            on_embedded(0, len(todo))

        vectors[todo] = encoder.encode_documents(
            texts, settings.batch_size, settings.show_progress, on_batch=save_batch
        )
        checkpoint.flush()
    embed_seconds = time.perf_counter() - embed_started
    key = current_key(settings, encoder, column_map)
    extra = {
        "catalogue_file": Path(settings.catalogue_path).name,
        "column_map": dict(column_map or {}),
        "load_report": described.catalogue.report.notes,
        "build_notes": notes,
        "rows_read": described.catalogue.report.rows_read,
        "embedded": len(todo),
        "document_precision": encoder.document_precision,
        "reused": len(songs) - len(todo),
        "embed_seconds": round(embed_seconds, 3),
    }
    if on_progress and not isinstance(target, FaissFolder):
        on_progress(f"Writing {len(songs)} songs to the {target.describe()}.")
    playlists = described.catalogue.playlists
    index = target.write(songs, vectors, described.scheme, key, extra, started, playlists=playlists)
    checkpoint.discard()
    return index


def open_index(
    settings: Settings,
    encoder: Encoder,
    column_map: Mapping[str, str] | None = None,
    rebuild: bool = True,
    on_progress: Callable[[str], None] | None = None,
) -> VectorStore:
    """Load the index (the folder, or the Milvus collection when ``settings.milvus_uri`` is set) if it matches the
    current model, template and catalogue; otherwise rebuild (or raise)."""
    shipped = _shipped_index(settings, encoder, column_map)
    if shipped is not None:
        return shipped
    try:
        if settings.milvus_uri:
            collection = _open_collection(settings, encoder, column_map)
            _check_song_columns(collection.songs, settings.resolved_milvus_collection, settings, column_map)
            return collection
        folder = settings.resolved_index_dir
        index = load_checked_folder(folder, current_key(settings, encoder, column_map), settings)
        _check_song_columns(index.songs, str(folder), settings, column_map)
        return index
    except IndexMismatch as problem:
        if not rebuild:
            raise
        message = f"{problem} Building it now."
        log.info(message)
        if on_progress:
            on_progress(message)
    return build_index(settings, encoder, column_map, on_progress)


def _check_song_columns(
    songs: pd.DataFrame, where: str, settings: Settings, column_map: Mapping[str, str] | None
) -> None:
    """An index built by an older Moodring lacks fields the loader now reads (``album``, ``explicit``): where the
    catalogue has a column for one, IndexMismatch, so that the index is rebuilt (its vectors are reused). An index
    of a catalogue without such columns (the shipped bundled one) stays as it is."""
    if all(name in songs.columns for name in SONG_COLUMNS):
        return
    try:
        header = catalogue_header(Path(settings.catalogue_path), CatalogueLimits.from_settings(settings))
        mapping = map_columns(header, column_map)
    except (OSError, EOFError, CatalogueError):
        return  # the catalogue's own checks say what is wrong with it when it is next loaded
    missing = [name for name in SONG_COLUMNS if name in mapping and name not in songs.columns]
    if missing:
        raise IndexMismatch(f"The index at {where} has no {', '.join(missing)} for its songs (an older build).")


def load_checked_folder(folder: Path, key: IndexKey, settings: Settings) -> SongIndex:
    """Load the index folder if it matches ``key``, the thresholds file and the plan the settings ask for; else
    IndexMismatch saying what differs."""
    index = load_index(folder, key, mmap=settings.mmap_index)
    _check_scheme(index, str(folder), settings)
    wanted = plan_for(len(index), settings.approximate_above, settings.ivf_nprobe)
    if index.plan != wanted and keeps_centroids(index.manifest, len(index), settings.ivf_retrain_growth):
        wanted = plan_for(len(index), settings.approximate_above, settings.ivf_nprobe, plan_lists(index.plan))
    if index.plan != wanted:
        raise IndexMismatch(
            f"The index at {folder} is a {index.plan.describe()}; the settings now ask for a {wanted.describe()}."
        )
    return index


def shipped_key(settings: Settings, encoder: Encoder, column_map: Mapping[str, str] | None = None) -> IndexKey:
    """The key the shipped index must carry: the current one, with the model's full-precision (fp32) name, as the
    plain encoder that builds it records it."""
    return dataclasses.replace(current_key(settings, encoder, column_map), model_name=encoder.location.name)


def shipped_settings(settings: Settings) -> Settings:
    """The settings that build the shipped index: the bundled catalogue, the plain fp32 encoder, written into
    ``shipped_index_dir`` (``python -m index_builder --ship``)."""
    if settings.shipped_index_dir is None:
        raise ConfigError("No shipped index folder is set (MOODRING_SHIPPED_INDEX_DIR).")
    return dataclasses.replace(
        settings,
        catalogue_path=BUNDLED_CATALOGUE,
        index_dir=Path(settings.shipped_index_dir),
        encoder="plain",
        milvus_uri="",
    )


def searchable_by(encoder: Encoder, manifest: Mapping[str, object]) -> bool:
    """Whether ``encoder``'s queries may search an index: one it built, or full-precision vectors of the same weights
    (the plain encoder's, as in the shipped index), which every encoder's fp32 queries are measured against."""
    made_by = (manifest.get("model_sha256"), manifest.get("model_name"))
    return encoder.matches_manifest(manifest) or made_by == (encoder.weights_sha256, encoder.location.name)


def _shipped_index(settings: Settings, encoder: Encoder, column_map: Mapping[str, str] | None) -> SongIndex | None:
    """The shipped index (``settings.shipped_index_dir``), read-only, when it may serve ``settings`` and passes every
    check; None otherwise (said once in the log), so the usual folder is loaded or built instead."""
    if not settings.uses_shipped_index or column_map:
        return None
    folder = Path(settings.shipped_index_dir)  # type: ignore[arg-type]  # uses_shipped_index checked it is set
    if not (folder / MANIFEST_FILE).is_file():
        return None
    try:
        return load_checked_folder(folder, shipped_key(settings, encoder, column_map), settings)
    except IndexMismatch as problem:
        log.info(f"Not using the shipped index: {problem} Using {settings.resolved_index_dir} instead.")
        return None


def store_target(settings: Settings, dimension: int) -> StoreTarget:
    """Where a build for ``settings`` writes: the Milvus collection when ``milvus_uri`` is set, else the folder."""
    if settings.milvus_uri:
        from index_builder.milvus_store import MilvusCollection

        plan = _milvus_plan(settings, dimension)
        return MilvusCollection(settings.milvus_uri, settings.resolved_milvus_collection, plan)
    return FaissFolder(
        settings.resolved_index_dir,
        settings.approximate_above,
        settings.ivf_nprobe,
        settings.ivf_retrain_growth,
        settings.ivf_retrain_fit,
    )


def _milvus_plan(settings: Settings, dimension: int) -> Callable[[int], MilvusPlan]:
    """The Milvus plan for n songs of ``dimension`` under ``settings`` (``milvus_store.milvus_plan_for``)."""
    from index_builder.milvus_store import milvus_plan_for, segment_rows_for

    def plan(count: int) -> MilvusPlan:
        return milvus_plan_for(
            count,
            settings.approximate_above,
            settings.milvus_quantize_above,
            settings.milvus_nprobe_share,
            segment_rows_for(settings.milvus_uri, dimension),
            settings.milvus_index,
        )

    return plan


def _open_collection(settings: Settings, encoder: Encoder, column_map: Mapping[str, str] | None) -> VectorStore:
    from index_builder.milvus_store import load_collection

    name = settings.resolved_milvus_collection
    key = current_key(settings, encoder, column_map)
    index = load_collection(settings.milvus_uri, name, key, _milvus_plan(settings, encoder.dimension))
    _check_scheme(index, f"Milvus {settings.milvus_uri} collection {name}", settings)
    return index


def _check_scheme(index: VectorStore, where: str, settings: Settings) -> None:
    """IndexMismatch when the index's bucket words are not those the thresholds file has now."""
    problems = scheme_problems(index.scheme, load_bucket_spec(settings.feature_words_path))
    if problems:
        raise IndexMismatch(
            f"The index at {where} describes songs in words its thresholds file does not have: "
            + "; ".join(problems)
            + "."
        )


def _previous_scheme(target: StoreTarget, settings: Settings) -> BucketScheme | None:
    """The bucket edges of the index now at ``target``, if its manifest is readable and its buckets are intact."""
    manifest = target.previous_manifest()
    if manifest is None:
        return None
    try:
        scheme = checked_scheme(target.describe(), manifest)
    except IndexMismatch:
        return None
    return None if scheme_problems(scheme, load_bucket_spec(settings.feature_words_path)) else scheme


def _catalogue_sha256(settings: Settings) -> str:
    """The catalogue file's sha256; with a repairs table, the sha256 of both files' hashes, so editing the table
    rebuilds the index whose titles it changes."""
    catalogue = _sha256_file(Path(settings.catalogue_path))
    repairs = _sha256_file(Path(settings.text_repairs_path))
    if repairs == "missing":
        return catalogue
    return hashlib.sha256(f"{catalogue}\n{repairs}".encode()).hexdigest()


def _sha256_file(path: Path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "missing"
