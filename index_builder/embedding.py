"""Turn texts into L2-normalized float32 vectors with the verified all-mpnet-base-v2.

Two encoders, chosen by ``Settings.encoder``:

- ``"fast"`` (default): the path follows the CPU (index_builder/cpu_features.py, no torch import). Where it computes
  bf16 natively (AVX512-BF16 or AMX), song descriptions are embedded by sentence-transformers in bfloat16;
  elsewhere (AVX2, ARM) by the int8 ONNX graph. Queries go through the ONNX export with 8-bit weights in
  onnxruntime on both (``int8w``: cosine 0.9997 to fp32 at about 60% of its time); ``Settings.encoder_query_precision``
  may ask for ``fp32`` (exact) or ``int8``, the dynamic int8 graph (as fast, just outside the gate).
  ``Settings.encoder_precision`` (``MOODRING_ENCODER_PRECISION``) forces ``bf16``, ``int8`` or ``fp32``;
  ``ONEDNN_MAX_CPU_ISA=AVX2`` makes a bigger CPU choose as an AVX2 one would. ``python -m bench.encoder`` measures
  it against the plain one; docs/speed.md has the quality gate.
- ``"plain"``: sentence-transformers in float32 for both.

Vectors come in two families: exact fp32 (plain, or fast forced to fp32) and reduced (bf16 or int8, cosine about
0.99 to fp32). An index is searched by any encoder of its family, so an index embedded in bf16 on one machine
is used as it is by the int8 path on another; the plain encoder, the reference, rebuilds a reduced one.

Each part loads on first use, so a start with a built index never loads the PyTorch model at all.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from index_builder.cpu_features import CpuFeatures, detect_cpu
from index_builder.encoder_backends import EmbeddingBackend, OnnxBackend, TorchBackend
from index_builder.errors import ConfigError
from index_builder.model_store import ModelLocation, resolve_model
from index_builder.onnx_export import ensure_int8_model, ensure_onnx_model, ensure_weight8_model, weight8_being_made
from index_builder.settings import Settings

ENCODER_KINDS = ("fast", "plain")
PRECISIONS = ("auto", "bf16", "int8", "fp32")
"""``Settings.encoder_precision``: what the fast encoder embeds song descriptions in (``auto``: by the CPU)."""
QUERY_PRECISIONS = ("auto", "int8w", "fp32", "int8")
"""``Settings.encoder_query_precision``: how the fast encoder embeds requests (``auto``: ``int8w``, 8-bit weights)."""
REDUCED_FAMILY = "bf16/int8"
"""The vector family of bf16 and int8 documents, named in the manifest's model name and in checkpoints."""


def choose_document_precision(kind: str, requested: str, cpu: CpuFeatures) -> str:
    """The precision song descriptions are embedded in: fp32 for plain, else ``requested`` unless it is ``auto``,
    which means bf16 on a CPU with native bf16 and int8 on any other."""
    if kind == "plain":
        return "fp32"
    if requested != "auto":
        return requested
    return "bf16" if cpu.native_bf16 else "int8"


def choose_query_precision(kind: str, requested: str) -> str:
    """The precision requests are embedded in: fp32 for plain, else ``requested`` unless it is ``auto``, which means
    ``int8w`` (8-bit weights)."""
    if kind != "fast":
        return "fp32"
    return "int8w" if requested == "auto" else requested


class Encoder:
    """Document and query embedding for one verified model, plus an LRU cache of query vectors."""

    def __init__(
        self,
        location: ModelLocation,
        kind: str = "fast",
        export_dir: Path | None = None,
        query_cache_size: int = 2048,
        precision: str = "auto",
        cpu: CpuFeatures | None = None,
        query_precision: str = "auto",
        shipped_dir: Path | None = None,
    ) -> None:
        if kind not in ENCODER_KINDS:
            raise ConfigError(f"Unknown encoder {kind!r}: choose one of {', '.join(ENCODER_KINDS)}.")
        if precision not in PRECISIONS:
            raise ConfigError(f"Unknown encoder precision {precision!r}: choose one of {', '.join(PRECISIONS)}.")
        self.location = location
        self.kind = kind
        self.cpu = detect_cpu() if cpu is None else cpu
        self.document_precision = choose_document_precision(kind, precision, self.cpu)
        if query_precision not in QUERY_PRECISIONS:
            raise ConfigError(
                f"Unknown query precision {query_precision!r}: choose one of {', '.join(QUERY_PRECISIONS)}."
            )
        # auto is int8w on every path; dynamic int8 queries missed the quality gate by 0.002 on one set (docs/speed.md)
        self._query_precision = choose_query_precision(kind, query_precision)
        self._query_auto = kind == "fast" and query_precision == "auto"
        self.dimension = _hidden_size(location.path)
        self._export_dir = Path(export_dir) if export_dir is not None else Settings().model_cache_dir
        self.shipped_dir = shipped_dir
        """``Settings.shipped_model_dir``: the shipped ONNX skeleton and concept vectors, or None."""
        self._documents: TorchBackend | OnnxBackend | None = None
        self._queries: OnnxBackend | None = None
        self._int8: OnnxBackend | None = None
        self._plain: TorchBackend | None = None
        self._loading = threading.Lock()
        self._cache_lock = threading.Lock()  # two requests may search at once (the app's queue runs two)
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._query_cache_size = query_cache_size
        self.model_calls = 0
        """How many times a model ran (document batches and uncached queries); tests read it."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Encoder:
        """The encoder ``settings`` ask for, on the verified model they point at."""
        location = resolve_model(settings.model_path, settings.model_cache_dir)
        return cls(
            location,
            settings.encoder,
            export_dir=settings.model_cache_dir,
            precision=settings.encoder_precision,
            query_precision=settings.encoder_query_precision,
            shipped_dir=settings.shipped_model_dir,
        )

    @property
    def query_precision(self) -> str:
        """How requests are embedded: ``int8w``, ``fp32``, ``int8``. Asked for ``auto``, a process that finds the
        8-bit-weight graph being made by another one (a fresh machine's first start, which makes it ahead) answers
        with the fp32 export instead, for its whole life, rather than wait for it; the two are interchangeable
        (``query_family``). Decided on first use."""
        with self._loading:
            if self._query_auto and self._query_precision == "int8w" and self._queries is None:
                if weight8_being_made(self.location, self._export_dir):
                    self._query_precision = "fp32"
                self._query_auto = False
            return self._query_precision

    @property
    def query_family(self) -> str:
        """``fp32`` for fp32 and 8-bit-weight queries (cosine 0.9997 apart, which the graph's probe check holds above
        0.999), ``int8`` for the dynamic int8 graph: vectors of one family are interchangeable in caches."""
        return "int8" if self.query_precision == "int8" else "fp32"

    @property
    def export_dir(self) -> Path:
        """Where the ONNX export of the model is cached."""
        return self._export_dir

    @property
    def vector_family(self) -> str:
        """``fp32`` (exact) or ``bf16/int8`` (reduced): vectors of one family are interchangeable in an index."""
        return "fp32" if self.document_precision == "fp32" else REDUCED_FAMILY

    @property
    def model_name(self) -> str:
        """The model as recorded in index manifests, with its vector family: a bf16 index is searched as it is by
        the int8 path (and the reverse), while the plain fp32 encoder rebuilds it."""
        suffix = "" if self.vector_family == "fp32" else f" ({self.vector_family} documents)"
        return f"{self.location.name}{suffix}"

    @property
    def weights_sha256(self) -> str:
        """The verified hash of the model weights."""
        return self.location.weights_sha256

    @property
    def vector_identity(self) -> str:
        """What a stored document vector depends on: the weights and the vector family that embedded it (checkpoints
        of an interrupted build are reused by any encoder of the family, like a finished index)."""
        return f"{self.weights_sha256}:{self.vector_family}"

    @property
    def query_identity(self) -> str:
        """What a query or phrase vector depends on: the weights, the encoder and the query family."""
        return f"{self.weights_sha256}:{self.kind}:{self.query_family}"

    def matches_manifest(self, manifest: Mapping[str, object]) -> bool:
        """Whether an index manifest says its vectors were made by these weights in this encoder's vector family."""
        return (manifest.get("model_sha256"), manifest.get("model_name")) == (self.weights_sha256, self.model_name)

    @property
    def description(self) -> str:
        """One line for people: which backends embed documents and queries, and why."""
        if self.kind == "plain":
            return "plain encoder: documents and queries sentence-transformers fp32"
        documents = _runtime(self.document_precision)
        return (
            f"fast encoder: documents {documents}, queries onnxruntime {self.query_precision} "
            f"(CPU flags: {self.cpu.describe()})"
        )

    def encode_documents(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        show_progress: bool = True,
        description: str = "Embedding",
        on_batch: Callable[[list[int], np.ndarray], None] | None = None,
    ) -> np.ndarray:
        """Embed ``texts`` in batches (longest first, to keep padding low) with a progress bar in songs.

        ``on_batch(positions, vectors)`` is called after each batch, for checkpointing.
        """
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        backend = self._document_backend()
        order = self._longest_first(texts, backend)
        with tqdm(total=len(texts), desc=description, unit="song", disable=not show_progress) as bar:
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                vectors[chunk] = backend.embed([texts[i] for i in chunk], batch_size)
                self.model_calls += 1
                if on_batch is not None:
                    on_batch(chunk, vectors[chunk])
                bar.update(len(chunk))
        return vectors

    def _longest_first(self, texts: Sequence[str], backend: TorchBackend | OnnxBackend) -> list[int]:
        """Positions of ``texts``, longest first, so each batch pads little.

        The fast encoder sorts by token count (10% faster than by characters on the bundled catalogue); the plain
        one keeps sorting by characters, as it always did, so it stays the baseline it is measured as.
        """
        by_tokens = self.kind == "fast" and len(texts) > 0
        lengths = backend.token_counts(list(texts)) if by_tokens else [len(text) for text in texts]
        return sorted(range(len(texts)), key=lambda i: lengths[i], reverse=True)

    def encode_query(self, text: str) -> np.ndarray:
        """One normalized query vector (read-only); repeated texts come from the cache without a model call."""
        return self._vectors_of([text])[text]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Normalized query vectors, one row per text: cached texts run no model, the rest run in one batch (one
        model call) and join the cache."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._vectors_of(texts)
        return np.stack([vectors[text] for text in texts])

    def _vectors_of(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Each text's cached vector, embedding the missing ones in one batch."""
        vectors: dict[str, np.ndarray] = {}
        with self._cache_lock:
            for text in texts:
                cached = self._query_cache.get(text)
                if cached is not None:
                    self._query_cache.move_to_end(text)
                    vectors[text] = cached
        missing = list(dict.fromkeys(t for t in texts if t not in vectors))
        if missing:
            embedded = self._query_backend().embed(missing, len(missing))
            with self._cache_lock:
                self.model_calls += 1
                for text, row in zip(missing, embedded, strict=True):
                    vector = np.array(row, dtype=np.float32)  # its own buffer, read-only
                    vector.setflags(write=False)
                    vectors[text] = self._query_cache[text] = vector
                while len(self._query_cache) > self._query_cache_size:
                    self._query_cache.popitem(last=False)
        return vectors

    def encode_phrases(self, phrases: Sequence[str]) -> np.ndarray:
        """Short texts compared with queries (the feature words), embedded the way queries are."""
        if not phrases:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.model_calls += 1
        return self._query_backend().embed(list(phrases), 64)

    @property
    def plain(self) -> TorchBackend:
        """sentence-transformers in float32: the reference the fast encoder is measured against."""
        documents = self._document_backend()
        if isinstance(documents, TorchBackend) and documents.precision == "fp32":
            return documents
        with self._loading:
            if self._plain is None:
                self._plain = TorchBackend(self.location.path, "fp32")
            return self._plain

    def clear_query_cache(self) -> None:
        """Forget cached query embeddings."""
        with self._cache_lock:
            self._query_cache.clear()

    def _document_backend(self) -> TorchBackend | OnnxBackend:
        if self.document_precision == "int8":
            return self._int8_backend()
        with self._loading:
            if self._documents is None:
                self._documents = TorchBackend(self.location.path, self.document_precision)
            return self._documents

    def _int8_backend(self) -> OnnxBackend:
        """The int8 graph, shared by documents and queries (one onnxruntime session)."""
        with self._loading:
            if self._int8 is None:
                exported = ensure_int8_model(self.location, self._export_dir, self.shipped_dir)
                self._int8 = OnnxBackend(exported.path, self.location.path, os.cpu_count(), "int8")
            return self._int8

    def _query_backend(self) -> EmbeddingBackend:
        if self.kind == "plain":
            return self._document_backend()
        precision = self.query_precision
        if precision == "int8":
            return self._int8_backend()
        with self._loading:
            if self._queries is None:
                if precision == "int8w":
                    exported = ensure_weight8_model(self.location, self._export_dir, self.shipped_dir)
                else:
                    exported = ensure_onnx_model(self.location, self._export_dir, self.shipped_dir)
                self._queries = OnnxBackend(exported.path, self.location.path, precision=precision)
            return self._queries


def _runtime(precision: str) -> str:
    """Which runtime embeds song descriptions at ``precision``."""
    return f"onnxruntime {precision}" if precision == "int8" else f"sentence-transformers {precision}"


def _hidden_size(model_path: Path) -> int:
    """The embedding width from the model's config.json, without loading the model."""
    try:
        return int(json.loads((Path(model_path) / "config.json").read_text(encoding="utf-8"))["hidden_size"])
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"Cannot read the embedding width from {model_path}/config.json: {exc}") from exc
