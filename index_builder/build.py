"""Catalogue to index: describe every song, embed what is new, write the folder; or reuse a matching one."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from index_builder.buckets import BucketScheme, fit_buckets, load_bucket_spec, scheme_problems
from index_builder.catalogue import Catalogue, CatalogueLimits, load_catalogue
from index_builder.checkpoint import EmbeddingCheckpoint
from index_builder.embedding import Encoder
from index_builder.errors import IndexMismatch
from index_builder.index_store import (
    IndexKey,
    SongIndex,
    checked_scheme,
    ensure_writable,
    load_index,
    read_manifest,
    reusable_vectors,
    write_index,
)
from index_builder.settings import Settings
from index_builder.templating import SongTemplate, known_variables, template_values
from index_builder.vector_index import build_cosine_index, plan_for

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
    catalogue = load_catalogue(settings.catalogue_path, column_map, CatalogueLimits.from_settings(settings))
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
        catalogue_sha256=_sha256_file(Path(settings.catalogue_path)),
        template_sha256=_sha256_file(settings.template_path),
        feature_words_sha256=_sha256_file(settings.feature_words_path),
        column_map_sha256=hashlib.sha256(json.dumps(dict(column_map or {}), sort_keys=True).encode()).hexdigest(),
    )


def build_index(
    settings: Settings,
    encoder: Encoder,
    column_map: Mapping[str, str] | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> SongIndex:
    """Build and write the index for ``settings.catalogue_path``; texts already embedded are reused.

    Raises IndexNotWritable before any work when the index folder cannot be written. Vectors are reused from the
    checkpoints of an interrupted build and from the index now in the folder (even one whose manifest or songs
    table is damaged), each only once it passes its checks (what was discarded is listed in the manifest's
    ``build_notes``).
    """
    started = time.perf_counter()
    folder = settings.resolved_index_dir
    ensure_writable(folder)
    described = describe_catalogue(settings, column_map, _previous_scheme(folder, settings))
    songs = described.songs
    checkpoint = EmbeddingCheckpoint(folder, encoder.vector_identity, encoder.dimension)
    stored, notes = reusable_vectors(folder, encoder.matches_manifest, encoder.dimension)
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

        def save_batch(positions: list[int], batch: np.ndarray) -> None:
            checkpoint.add([hashes[p] for p in positions], batch, settings.checkpoint_every)

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
        "reused": len(songs) - len(todo),
        "embed_seconds": round(embed_seconds, 3),
    }
    plan = plan_for(len(songs), settings.approximate_above, settings.ivf_nprobe)
    index_started = time.perf_counter()
    faiss_index = build_cosine_index(vectors, plan)
    extra["index_seconds"] = round(time.perf_counter() - index_started, 3)
    extra["build_seconds"] = round(time.perf_counter() - started, 3)
    index = write_index(folder, faiss_index, songs, described.scheme, key, extra, plan)
    checkpoint.discard()
    return index


def open_index(
    settings: Settings,
    encoder: Encoder,
    column_map: Mapping[str, str] | None = None,
    rebuild: bool = True,
    on_progress: Callable[[str], None] | None = None,
) -> SongIndex:
    """Load the index if it matches the current model, template and catalogue; otherwise rebuild (or raise)."""
    folder = settings.resolved_index_dir
    try:
        index = load_index(folder, current_key(settings, encoder, column_map), mmap=settings.mmap_index)
        problems = scheme_problems(index.scheme, load_bucket_spec(settings.feature_words_path))
        if problems:
            raise IndexMismatch(
                f"The index at {folder} describes songs in words its thresholds file does not have: "
                + "; ".join(problems)
                + "."
            )
        wanted = plan_for(len(index), settings.approximate_above, settings.ivf_nprobe)
        if index.plan != wanted:
            raise IndexMismatch(
                f"The index at {folder} is a {index.plan.describe()}; the settings now ask for a {wanted.describe()}."
            )
        return index
    except IndexMismatch as problem:
        if not rebuild:
            raise
        message = f"{problem} Building it now."
        log.info(message)
        if on_progress:
            on_progress(message)
    return build_index(settings, encoder, column_map, on_progress)


def _previous_scheme(folder: Path, settings: Settings) -> BucketScheme | None:
    """The bucket edges of the index now in ``folder``, if its manifest is readable and its buckets are intact."""
    try:
        scheme = checked_scheme(folder, read_manifest(folder, any_format=True))
    except IndexMismatch:
        return None
    return None if scheme_problems(scheme, load_bucket_spec(settings.feature_words_path)) else scheme


def _sha256_file(path: Path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "missing"
