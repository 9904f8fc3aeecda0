"""Export the verified all-mpnet-base-v2 once to ONNX, for fast single-query embedding, and cache it beside the model.

The graph takes ``input_ids`` and ``attention_mask`` and returns the finished sentence embedding (transformer,
mean pooling and L2 normalization all inside), so nothing is re-implemented at run time. The export happens
offline from the local, hash-checked weights; the result is checked against the PyTorch model on probe
sentences, hashed, and recorded in ``export.json``. A later start trusts the file only if its size and
modification time still match that record, or if its sha256 does.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index_builder.atomic import write_json_atomic
from index_builder.errors import ModelError
from index_builder.model_store import MODEL_FOLDER, ModelLocation, sha256_of_file

ONNX_FILE = "model.onnx"
EXPORT_RECORD = "export.json"
OPSET = 17
PROBE_SENTENCES = ("sad acoustic songs for a rainy day", "Hey, Soul Sister by Train. Genre: neo mellow.")
MIN_PROBE_COSINE = 0.9999
"""The exported graph must reproduce the PyTorch embeddings of the probes to this cosine, or it is refused."""


@dataclass(frozen=True)
class OnnxModel:
    """An exported graph whose hash and source weights are known."""

    path: Path
    sha256: str
    source_weights_sha256: str


def onnx_export_folder(cache_dir: Path) -> Path:
    """Where the export of the model lives."""
    return Path(cache_dir) / f"{MODEL_FOLDER}-onnx"


def ensure_onnx_model(location: ModelLocation, cache_dir: Path) -> OnnxModel:
    """The cached export of ``location``'s model, exported now (about 15 s) if missing, stale or damaged."""
    folder = onnx_export_folder(cache_dir)
    cached = _verified_export(folder, location.weights_sha256)
    if cached is not None:
        return cached
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.exporting-"))
    try:
        export_onnx(location, staging / ONNX_FILE)
        record = _record_for(staging / ONNX_FILE, location.weights_sha256)
        write_json_atomic(staging / EXPORT_RECORD, record)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return OnnxModel(folder / ONNX_FILE, record["sha256"], location.weights_sha256)


def export_onnx(location: ModelLocation, target: Path) -> None:
    """Trace the sentence-transformers model (fp32) into ``target`` and check it on the probe sentences."""
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(location.path), device="cpu")
    graph = _sentence_embedding_module(model).train(False)  # inference mode: no dropout in the trace
    sample = model.tokenizer(list(PROBE_SENTENCES), padding=True, return_tensors="pt")
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # tracer chatter about shape checks that are constant by design
        torch.onnx.export(
            graph,
            (sample["input_ids"], sample["attention_mask"]),
            str(target),
            input_names=["input_ids", "attention_mask"],
            output_names=["sentence_embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "sentence_embedding": {0: "batch"},
            },
            opset_version=OPSET,
            dynamo=False,
        )
    expected = model.encode(list(PROBE_SENTENCES), normalize_embeddings=True, convert_to_numpy=True)
    from index_builder.encoder_backends import OnnxBackend

    produced = OnnxBackend(target, location.path).embed(list(PROBE_SENTENCES), batch_size=len(PROBE_SENTENCES))
    cosine = float(np.min(np.sum(expected * produced, axis=1)))
    if cosine < MIN_PROBE_COSINE:
        raise ModelError(f"The ONNX export disagrees with the PyTorch model (cosine {cosine:.5f}); not using it.")


def _verified_export(folder: Path, weights_sha256: str) -> OnnxModel | None:
    path, record_path = folder / ONNX_FILE, folder / EXPORT_RECORD
    if not path.is_file() or not record_path.is_file():
        return None
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if record.get("source_weights_sha256") != weights_sha256:
        return None
    stat = path.stat()
    if record.get("key") != {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}:
        if sha256_of_file(path) != record.get("sha256"):
            return None  # damaged or replaced: export again
        with contextlib.suppress(OSError):
            write_json_atomic(record_path, _record_for(path, weights_sha256, record["sha256"]))
    return OnnxModel(path, str(record["sha256"]), weights_sha256)


def _record_for(path: Path, weights_sha256: str, sha256: str | None = None) -> dict[str, object]:
    import torch

    stat = path.stat()
    return {
        "sha256": sha256 or sha256_of_file(path),
        "key": {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns},
        "source_weights_sha256": weights_sha256,
        "opset": OPSET,
        "exported_with": f"torch {torch.__version__}",
    }


def _sentence_embedding_module(model: Any) -> Any:
    """Wrap ``model`` as a module of two tensors, the shape ``torch.onnx.export`` traces."""
    import torch

    class SentenceEmbedding(torch.nn.Module):
        """input_ids, attention_mask -> the model's normalized sentence embedding."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.inner({"input_ids": input_ids, "attention_mask": attention_mask})["sentence_embedding"]

    return SentenceEmbedding(model)
