"""The fp32 ONNX export's graph without its weights, shipped in ``data/model/`` so a fresh machine need not export.

``python -m index_builder --ship`` takes the fp32 export (index_builder/onnx_export.py), finds each large
initializer among the verified safetensors weights (as it is, or transposed, as torch's constant folding leaves
the linear layers), and writes the graph with those initializers emptied (about 1 MB) and a record of where each
comes from, with the sha256 of the export it was made from. On a machine without an export, ``rebuild_export``
fills the graph from the verified weights and gets the very bytes torch wrote, checked against that sha256, in a
few seconds instead of a quarter of a minute, without importing torch. Other weights, a changed skeleton or an onnx
that serializes differently fail the check, and the model is then exported with torch as before.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from index_builder.atomic import atomic_path, write_json_atomic
from index_builder.errors import ModelError
from index_builder.model_store import WEIGHTS_FILE, ModelLocation

SKELETON_FILE = "onnx-skeleton.onnx"
SKELETON_RECORD = "onnx-skeleton.json"
MIN_TAKEN_BYTES = 4096
"""Initializers at least this large are taken from the weights file; smaller ones (shapes, scalars) stay inline."""


def ship_skeleton(
    export_path: Path, export_sha256: str, exported_with: str, location: ModelLocation, folder: Path
) -> None:
    """Write ``folder``'s skeleton and record from the export at ``export_path`` (made from ``location``'s weights),
    after checking that filling it again gives the export's bytes."""
    import onnx
    from onnx import numpy_helper
    from safetensors.numpy import load_file

    weights = load_file(str(location.path / WEIGHTS_FILE))
    graph = onnx.load(str(export_path))
    sources: dict[str, dict[str, object]] = {}
    for initializer in graph.graph.initializer:
        array = numpy_helper.to_array(initializer)
        source = _source_of(array, weights) if array.nbytes >= MIN_TAKEN_BYTES else None
        if source is not None:
            sources[initializer.name] = source
            initializer.ClearField("raw_data")
    skeleton = graph.SerializeToString()
    record = {
        "source_weights_sha256": location.weights_sha256,
        "export_sha256": export_sha256,
        "exported_with": exported_with,
        "skeleton_sha256": hashlib.sha256(skeleton).hexdigest(),
        "onnx": onnx.__version__,
        "tensors": sources,
    }
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / SKELETON_FILE) as temporary:
        temporary.write_bytes(skeleton)
    write_json_atomic(folder / SKELETON_RECORD, record)
    if hashlib.sha256(_filled(skeleton, record, location)).hexdigest() != export_sha256:
        raise ModelError("The shipped ONNX skeleton does not give the export's bytes back; not shipping it.")


def skeleton_record(folder: Path | None, location: ModelLocation) -> dict[str, object] | None:
    """The record of the skeleton shipped in ``folder``, if there is one for ``location``'s weights."""
    if folder is None:
        return None
    try:
        record = json.loads((Path(folder) / SKELETON_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("source_weights_sha256") != location.weights_sha256:
        return None
    return record


def rebuild_export(folder: Path, record: dict[str, object], location: ModelLocation, target: Path) -> None:
    """Write the export to ``target`` from ``folder``'s skeleton and the verified weights; ModelError unless its
    sha256 is the recorded export's."""
    skeleton_path = Path(folder) / SKELETON_FILE
    try:
        skeleton = skeleton_path.read_bytes()
    except OSError as error:
        raise ModelError(f"Cannot read the shipped ONNX skeleton {skeleton_path}: {error}") from error
    if hashlib.sha256(skeleton).hexdigest() != record.get("skeleton_sha256"):
        raise ModelError(f"The shipped ONNX skeleton {skeleton_path} does not match its record.")
    graph = _filled(skeleton, record, location)
    if hashlib.sha256(graph).hexdigest() != record.get("export_sha256"):
        raise ModelError("The ONNX graph rebuilt from the shipped skeleton is not the recorded export.")
    target.write_bytes(graph)


def _filled(skeleton: bytes, record: dict[str, object], location: ModelLocation) -> bytes:
    """The skeleton's bytes with every recorded initializer filled from the weights file."""
    import onnx
    from safetensors.numpy import load_file

    weights = load_file(str(location.path / WEIGHTS_FILE))
    graph = onnx.load_model_from_string(skeleton)
    sources = dict(record.get("tensors") or {})
    for initializer in graph.graph.initializer:
        source = sources.pop(initializer.name, None)
        if source is None:
            continue
        array = weights.get(str(source["weight"]))
        if array is None:
            raise ModelError(f"The weights have no tensor {source['weight']!r} for the ONNX skeleton.")
        if source.get("transposed"):
            array = array.T
        if tuple(array.shape) != tuple(initializer.dims):
            raise ModelError(f"The weight {source['weight']!r} has shape {array.shape}, not {tuple(initializer.dims)}.")
        initializer.raw_data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    if sources:
        raise ModelError(f"The ONNX skeleton lacks the initializers {sorted(sources)[:3]} its record names.")
    return graph.SerializeToString()


def _source_of(array: np.ndarray, weights: dict[str, np.ndarray]) -> dict[str, object] | None:
    """Which weight ``array`` is, as it is or transposed; None if none is."""
    for name, weight in weights.items():
        if weight.dtype != array.dtype:
            continue
        if weight.shape == array.shape and np.array_equal(weight, array):
            return {"weight": name, "transposed": False}
        if weight.ndim == 2 and weight.shape[::-1] == array.shape and np.array_equal(weight.T, array):
            return {"weight": name, "transposed": True}
    return None
