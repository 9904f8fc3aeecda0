"""Moodring's configuration: one dataclass, overridable by ``MOODRING_*`` environment variables and CLI flags."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CATALOGUE = PROJECT_ROOT / "data" / "top50MusicFrom2010-2019.csv"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "moodring"


@dataclass(frozen=True)
class Settings:
    """Every knob and path Moodring uses; tests point the paths at ``tmp_path``.

    Each field can be set by the environment variable ``MOODRING_<FIELD NAME IN CAPITALS>``.
    """

    catalogue_path: Path = BUNDLED_CATALOGUE
    """The CSV (or .csv.gz) to search. Default: the bundled top-50 catalogue in ``data/``."""

    index_dir: Path | None = None
    """Where the index folder lives. Default: ``<index_root>/<catalogue name>-<hash of its path>``."""

    index_root: Path = PROJECT_ROOT / ".moodring" / "indexes"
    """Parent of the default index folders, one per catalogue."""

    model_path: Path | None = None
    """An explicit local copy of ``all-mpnet-base-v2``. Default: assembled from the PyPI part packages."""

    model_cache_dir: Path = field(default_factory=lambda: _default_cache_dir() / "models")
    """Where the model assembled from the PyPI parts is unpacked, once."""

    prompts_dir: Path = PROJECT_ROOT / "prompts"
    """The song template and the feature-word thresholds."""

    encoder: str = "fast"
    """How texts are embedded: ``fast`` (song descriptions in bfloat16 where the CPU has native bf16, queries
    through an ONNX export of the same model) or ``plain`` (sentence-transformers float32 for both).
    ``python -m bench.encoder`` measures one against the other."""

    batch_size: int = 32
    """Texts per embedding batch while building an index."""

    top_k: int = 10
    """Results returned when a request does not say how many."""

    max_k: int = 50
    """The most results one request may ask for."""

    checkpoint_every: int = 256
    """While building, save finished embeddings every this many songs, so an interrupted build resumes."""

    show_progress: bool = True
    """Show a progress bar while embedding."""

    similar_audio_weight: float = 0.5
    """More like this and taste recommendations: share of the score from the cosine over standardized audio
    features; the rest comes from the cosine between description embeddings. 0-1, default 0.5."""

    approximate_above: int = 200_000
    """Catalogues up to this many songs get an exact ``IndexFlatIP``; larger ones ``IVF<lists>,Flat`` with about
    2*sqrt(songs) lists. Measured by ``python -m bench.scale`` on 2 cores (one thread per search): exact search
    takes 35 ms at 200,000 songs, no slower than the IVF index at a million (37 ms), and 50-58 ms at 300,000,
    close to the 60 ms budget. Exact search also hands the filters every song, so it is kept while it is cheap."""

    ivf_nprobe: int = 256
    """IVF lists searched per query (FAISS ``nprobe``), recorded in the manifest and set again on load. 256 of the
    2,048 lists at a million songs: recall@10 0.981 against exact search, p50 37 ms (128: 0.949, 15 ms; 384:
    0.993, 44 ms); just above the threshold (1,024 lists, a quarter of them searched) 0.965."""

    mmap_index: bool = True
    """Memory-map an approximate (IVF) index's FAISS file when loading (``IO_FLAG_MMAP_IFC``): no copy into private
    memory, near-instant load, pages shared by every process that serves the same index. Exact indexes are read
    into memory: a full scan over mapped pages measured 4-5 times slower at 30,000 songs."""

    faiss_threads: int = 1
    """OpenMP threads for FAISS searches. One query at a time is faster on one thread: with two on this 2-core
    machine a flat search over 10,000 vectors took 16 ms instead of 1.2 ms whenever anything else ran."""

    max_history_turns: int = 10
    """A history sent to ``/chat`` that differs from the session's is replayed from at most this many of its latest
    user messages; each replayed message is a search (30 of 499 characters took 13-19 s on 2 busy cores)."""

    max_history_chars: int = 2000
    """...and from at most this many characters of them, the latest first. The reply says when turns were left out."""

    max_argument_items: int = 50
    """The most names one API argument (``genres``, ``artists``, ...) may list; each is matched against the
    catalogue's names."""

    max_request_bytes: int = 1_048_576
    """Request bodies larger than this (1 MiB) are refused with 413 before they are read; uploads have their own
    limit (50 MB)."""

    export_max_age_s: int = 3600
    """Export files, and whatever else the app left in Gradio's cache, are deleted once this old (seconds); a
    session's exports go sooner, with the session."""

    cache_sweep_s: int = 300
    """How often (seconds) files older than ``export_max_age_s`` are looked for and deleted."""

    login_free_failures: int = 5
    """Failed logins a client address may make before it has to wait."""

    login_lockout_s: float = 2.0
    """The wait after the first failure past the free ones; it doubles with each further failure."""

    login_max_lockout_s: float = 300.0
    """The longest wait a client address is given after failed logins."""

    login_tracked_clients: int = 10_000
    """Client addresses whose failed logins are remembered; the least recently seen are forgotten first."""

    @property
    def resolved_index_dir(self) -> Path:
        """The index folder for this catalogue: the explicit one, else one derived from the catalogue path."""
        if self.index_dir is not None:
            return Path(self.index_dir)
        digest = hashlib.sha256(str(Path(self.catalogue_path).resolve()).encode()).hexdigest()[:8]
        stem = Path(self.catalogue_path).name.split(".")[0]
        return Path(self.index_root) / f"{stem}-{digest}"

    @property
    def template_path(self) -> Path:
        """The song description template."""
        return Path(self.prompts_dir) / "song_description.txt"

    @property
    def feature_words_path(self) -> Path:
        """The bucket thresholds and their words."""
        return Path(self.prompts_dir) / "feature_words.toml"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Defaults, then ``MOODRING_*`` variables, then explicit overrides (None overrides are ignored)."""
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, object] = {}
        for spec in dataclasses.fields(cls):
            raw = environ.get(f"MOODRING_{spec.name.upper()}")
            if raw is not None and raw != "":
                values[spec.name] = _coerce(spec.name, raw)
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]

    def with_changes(self, **changes: object) -> Settings:
        """A copy with some fields replaced (None values are ignored)."""
        return dataclasses.replace(self, **{key: value for key, value in changes.items() if value is not None})


_INT_FIELDS = {
    "batch_size", "top_k", "max_k", "checkpoint_every", "approximate_above", "ivf_nprobe", "faiss_threads",
    "max_history_turns", "max_history_chars", "max_argument_items", "max_request_bytes", "export_max_age_s",
    "cache_sweep_s", "login_free_failures", "login_tracked_clients",
}  # fmt: skip
_BOOL_FIELDS = {"show_progress", "mmap_index"}
_FLOAT_FIELDS = {"similar_audio_weight", "login_lockout_s", "login_max_lockout_s"}
_STR_FIELDS = {"encoder"}


def _coerce(name: str, raw: str) -> object:
    if name in _INT_FIELDS:
        return int(raw)
    if name in _FLOAT_FIELDS:
        return float(raw)
    if name in _STR_FIELDS:
        return raw.strip()
    if name in _BOOL_FIELDS:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    return Path(raw).expanduser()
