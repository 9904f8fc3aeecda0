"""Export the verified all-mpnet-base-v2 once to ONNX (fp32, and an int8 version of it), cached beside the model.

The graph takes ``input_ids`` and ``attention_mask`` and returns the finished sentence embedding (transformer,
mean pooling and L2 normalization all inside), so nothing is re-implemented at run time. The export happens
offline from the local, hash-checked weights; the result is checked against the PyTorch model on probe
sentences, hashed, and recorded in ``export.json``. A later start trusts the file only if its size and
modification time still match that record, or if its sha256 does.

The int8 graph is made from the fp32 one by onnxruntime's own dynamic quantization (``quantize_dynamic``: int8
weights per output channel, activations quantized per batch at run time), with the feed-forward output projections
of the upper six layers left in fp32: those of layers 6-8 are the sensitive ones (quantizing the first nine dropped
the mean cosine to fp32 on the bundled descriptions from 0.990 to 0.883), while quantizing the lower six costs 0.0035
of it and makes documents about 1.25x faster (docs/speed.md). Weights use 7 bits (``reduce_range``), so AVX2's
16-bit intermediate sums cannot saturate: the numbers are then the same on AVX2 and on VNNI CPUs. Its record names
the fp32 graph and the recipe it came from.

A missing fp32 export is first rebuilt from the skeleton shipped in ``data/model/`` when there is one for these
weights (index_builder/onnx_skeleton.py: the same bytes, without torch); only otherwise is it exported with torch.

The query graph keeps fp32 activations' accuracy with a quarter of the weight traffic: onnxruntime's
``MatMulNBitsQuantizer`` stores every MatMul weight in 8 bits, in blocks of 32 with their own scale, and
``accuracy_level`` 4 runs them with int8 dot products (kernels for AVX2, AVX-VNNI and AVX-512). A short request
is bound by reading the weights, so this embeds one in about 60% of the fp32 graph's time, at cosine 0.9997 to it
(dynamic int8: 0.989).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index_builder.atomic import exclusive, held_elsewhere, write_json_atomic
from index_builder.errors import ModelError
from index_builder.model_store import MODEL_FOLDER, ModelLocation, sha256_of_file
from index_builder.onnx_skeleton import rebuild_export, skeleton_record

log = logging.getLogger("moodring")

ONNX_FILE = "model.onnx"
PREPROCESSED_FILE = "preprocessed.onnx"
EXPORT_RECORD = "export.json"
EXPORT_LOCK = f".{MODEL_FOLDER}-onnx.lock"
WEIGHT8_LOCK = f".{MODEL_FOLDER}-onnx-w8.lock"
OPSET = 17
PROBE_SENTENCES = ("sad acoustic songs for a rainy day", "Hey, Soul Sister by Train. Genre: neo mellow.")
MIN_PROBE_COSINE = 0.9999
"""The exported graph must reproduce the PyTorch embeddings of the probes to this cosine, or it is refused."""
MIN_INT8_PROBE_COSINE = 0.97
"""The int8 graph must stay this close to the fp32 one on the probes (it measures 0.98-0.99 on song descriptions)."""
INT8_RECIPE: dict[str, object] = {
    "tool": "onnxruntime.quantization.quantize_dynamic",
    "op_types": ["MatMul"],
    "weight_type": "QInt8",
    "per_channel": True,
    "reduce_range": True,
    "fp32_nodes": "feed-forward output projections (*/output/dense/MatMul outside attention) of the upper half of the "
    "layers (6-11 of 12)",
}
"""How the int8 graph is made; a cached one made another way is made again."""
WEIGHT8_RECIPE: dict[str, object] = {
    "tool": "onnxruntime.quantization.matmul_nbits_quantizer.MatMulNBitsQuantizer",
    "bits": 8,
    "block_size": 32,
    "is_symmetric": True,
    "accuracy_level": 4,
}
"""How the 8-bit-weight query graph is made; a cached one made another way is made again."""
MIN_WEIGHT8_PROBE_COSINE = 0.999
"""The 8-bit-weight graph must stay this close to the fp32 one on the probes (it measures 0.9997 on requests)."""


@dataclass(frozen=True)
class OnnxModel:
    """An exported graph whose hash and source weights are known."""

    path: Path
    sha256: str
    source_weights_sha256: str


def onnx_export_folder(cache_dir: Path) -> Path:
    """Where the export of the model lives."""
    return Path(cache_dir) / f"{MODEL_FOLDER}-onnx"


def int8_export_folder(cache_dir: Path) -> Path:
    """Where the int8 version of the export lives."""
    return Path(cache_dir) / f"{MODEL_FOLDER}-onnx-int8"


def weight8_export_folder(cache_dir: Path) -> Path:
    """Where the 8-bit-weight version of the export lives."""
    return Path(cache_dir) / f"{MODEL_FOLDER}-onnx-w8"


def ensure_onnx_model(location: ModelLocation, cache_dir: Path, shipped_dir: Path | None = None) -> OnnxModel:
    """The cached export of ``location``'s model; if missing, stale or damaged, rebuilt from the skeleton shipped in
    ``shipped_dir`` (a few seconds, the same bytes) when it is for these weights, else exported now (about 15 s)."""
    with exclusive(Path(cache_dir) / EXPORT_LOCK):  # one export at a time (prepare_ahead's and the encoder's own)
        return _ensure_onnx_model(location, cache_dir, shipped_dir)


def _ensure_onnx_model(location: ModelLocation, cache_dir: Path, shipped_dir: Path | None) -> OnnxModel:
    folder = onnx_export_folder(cache_dir)
    cached = _verified_export(folder, location.weights_sha256)
    if cached is not None:
        return cached
    skeleton = skeleton_record(shipped_dir, location)
    if skeleton is not None:
        try:
            record = _publish(
                folder,
                lambda staging: rebuild_export(shipped_dir, skeleton, location, staging / ONNX_FILE),  # type: ignore[arg-type]
                {"rebuilt_from": "shipped skeleton"},
                location,
                str(skeleton["export_sha256"]),
                str(skeleton["exported_with"]),
            )
            return OnnxModel(folder / ONNX_FILE, str(record["sha256"]), location.weights_sha256)
        except ModelError as problem:
            log.info(f"Exporting the model with torch: {problem}")
    record = _publish(folder, lambda staging: export_onnx(location, staging / ONNX_FILE), {}, location)
    return OnnxModel(folder / ONNX_FILE, str(record["sha256"]), location.weights_sha256)


def ensure_int8_model(location: ModelLocation, cache_dir: Path, shipped_dir: Path | None = None) -> OnnxModel:
    """The cached int8 version of the fp32 export, quantized now (about a minute) if missing, stale or damaged."""
    source = ensure_onnx_model(location, cache_dir, shipped_dir)
    return _ensure_quantized(location, source, int8_export_folder(cache_dir), INT8_RECIPE, quantize_int8)


def ensure_weight8_model(
    location: ModelLocation, cache_dir: Path, shipped_dir: Path | None = None, lock_held: bool = False
) -> OnnxModel:
    """The cached 8-bit-weight version of the fp32 export, quantized now (a few seconds) if missing or stale.

    Its lock (``weight8_lock``; ``lock_held``: the caller holds it) is taken before the fp32 export's, always in
    that order, so while another process makes this graph from the start, ``weight8_being_made`` says so and the
    app can answer with the fp32 export meanwhile."""
    with contextlib.nullcontext() if lock_held else weight8_lock(cache_dir):
        source = ensure_onnx_model(location, cache_dir, shipped_dir)
        return _ensure_quantized(location, source, weight8_export_folder(cache_dir), WEIGHT8_RECIPE, quantize_weight8)


def weight8_lock(cache_dir: Path) -> contextlib.AbstractContextManager[None]:
    """The lock held while the 8-bit-weight graph is made: one quantization at a time, across processes."""
    return exclusive(Path(cache_dir) / WEIGHT8_LOCK)


def weight8_being_made(location: ModelLocation, cache_dir: Path) -> bool:
    """Whether the 8-bit-weight graph is not ready yet and another process is making it now (a fresh machine's
    ``python -m index_builder.prepare``)."""
    source = _verified_export(onnx_export_folder(cache_dir), location.weights_sha256)
    if source is not None:
        expected = {"source_onnx_sha256": source.sha256, "recipe": WEIGHT8_RECIPE}
        if _verified_export(weight8_export_folder(cache_dir), location.weights_sha256, expected) is not None:
            return False
    return held_elsewhere(Path(cache_dir) / WEIGHT8_LOCK)


def _ensure_quantized(
    location: ModelLocation,
    source: OnnxModel,
    folder: Path,
    recipe: dict[str, object],
    quantize: Callable[[Path, Path, ModelLocation], None],
) -> OnnxModel:
    """The graph in ``folder`` made from ``source`` by ``recipe``, made now by ``quantize`` if missing or stale."""
    expected = {"source_onnx_sha256": source.sha256, "recipe": recipe}
    cached = _verified_export(folder, location.weights_sha256, expected)
    if cached is not None:
        return cached
    import onnxruntime

    made_with = {"quantized_with": f"onnxruntime {onnxruntime.__version__}"}
    record = _publish(
        folder, lambda staging: quantize(source.path, staging, location), {**expected, **made_with}, location
    )
    return OnnxModel(folder / ONNX_FILE, str(record["sha256"]), location.weights_sha256)


def quantize_weight8(source: Path, folder: Path, location: ModelLocation) -> None:
    """Write ``folder/model.onnx``: ``source`` with 8-bit MatMul weights by ``WEIGHT8_RECIPE``, checked on the
    probes."""
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    quiet = logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # it logs every node it skips at INFO
    try:
        recipe = {key: value for key, value in WEIGHT8_RECIPE.items() if key != "tool"}
        quantizer = MatMulNBitsQuantizer(onnx.load(str(source)), **recipe)  # type: ignore[arg-type]
        quantizer.process()
        quantizer.model.save_model_to_file(str(folder / ONNX_FILE), use_external_data_format=False)
    finally:
        quiet.setLevel(level)
    _check_probes(source, folder / ONNX_FILE, location, MIN_WEIGHT8_PROBE_COSINE, "8-bit-weight")


def quantize_int8(source: Path, folder: Path, location: ModelLocation) -> None:
    """Write ``folder/model.onnx``: ``source`` quantized by ``INT8_RECIPE``, checked against it on the probes."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = folder / PREPROCESSED_FILE
    quant_pre_process(str(source), str(prepared))  # shape inference and graph clean-up, as the tool recommends
    names = [node.name for node in onnx.load(str(prepared)).graph.node if node.op_type == "MatMul"]
    feed_forward_outputs = [name for name in names if "/output/dense/" in name and "attention" not in name]
    layers = sorted({_layer_of(name) for name in feed_forward_outputs})
    upper = set(layers[len(layers) // 2 :])
    kept_fp32 = [name for name in feed_forward_outputs if _layer_of(name) in upper]
    quantize_dynamic(
        str(prepared),
        str(folder / ONNX_FILE),
        op_types_to_quantize=["MatMul"],
        per_channel=True,
        reduce_range=True,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=kept_fp32,
    )
    prepared.unlink()
    _check_probes(source, folder / ONNX_FILE, location, MIN_INT8_PROBE_COSINE, "int8")


def _check_probes(source: Path, produced_path: Path, location: ModelLocation, minimum: float, name: str) -> None:
    """Refuse a quantized graph whose probe embeddings stray from the fp32 graph's below ``minimum`` cosine."""
    from index_builder.encoder_backends import OnnxBackend

    probes = list(PROBE_SENTENCES)
    expected = OnnxBackend(source, location.path).embed(probes, len(probes))
    produced = OnnxBackend(produced_path, location.path).embed(probes, len(probes))
    cosine = float(np.min(np.sum(expected * produced, axis=1)))
    if cosine < minimum:
        raise ModelError(f"The {name} graph strays from the fp32 one (cosine {cosine:.4f}); not using it.")


def _layer_of(node_name: str) -> int:
    """The encoder layer a node belongs to (``.../layer.7/output/dense/MatMul`` -> 7)."""
    match = re.search(r"layer\.(\d+)/", node_name)
    if match is None:
        raise ModelError(f"Cannot tell the layer of the ONNX node {node_name!r}; not quantizing.")
    return int(match.group(1))


def _publish(
    folder: Path,
    make: Callable[[Path], None],
    extra: dict[str, object],
    location: ModelLocation,
    sha256: str | None = None,
    exported_with: str | None = None,
) -> dict[str, object]:
    """Make the graph in a staging folder beside ``folder``, record it (with its ``sha256`` when ``make`` checked
    it already), and move it into place whole."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.exporting-"))
    try:
        make(staging)
        record = {**_record_for(staging / ONNX_FILE, location.weights_sha256, sha256, exported_with), **extra}
        write_json_atomic(staging / EXPORT_RECORD, record)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return record


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


def _verified_export(folder: Path, weights_sha256: str, expected: dict[str, object] | None = None) -> OnnxModel | None:
    """The graph in ``folder`` if its record names these weights (and ``expected``'s fields) and it is intact."""
    path, record_path = folder / ONNX_FILE, folder / EXPORT_RECORD
    if not path.is_file() or not record_path.is_file():
        return None
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if record.get("source_weights_sha256") != weights_sha256:
        return None
    if any(record.get(field) != value for field, value in (expected or {}).items()):
        return None
    stat = path.stat()
    if record.get("key") != {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}:
        if sha256_of_file(path) != record.get("sha256"):
            return None  # damaged or replaced: export again
        with contextlib.suppress(OSError):
            renewed = _record_for(path, weights_sha256, record["sha256"], record.get("exported_with"))
            write_json_atomic(record_path, {**record, **renewed})
    return OnnxModel(path, str(record["sha256"]), weights_sha256)


def _record_for(
    path: Path, weights_sha256: str, sha256: str | None = None, exported_with: str | None = None
) -> dict[str, object]:
    stat = path.stat()
    return {
        "sha256": sha256 or sha256_of_file(path),
        "key": {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns},
        "source_weights_sha256": weights_sha256,
        "opset": OPSET,
        "exported_with": exported_with or _torch_version(),
    }


def _torch_version() -> str:
    import torch

    return f"torch {torch.__version__}"


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
