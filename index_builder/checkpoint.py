"""Embedding checkpoints: an interrupted build resumes from the batches it already finished.

While a build embeds, every few batches go to ``.<index>.partial/chunk-NNNNNN.npy`` with the description hashes
beside them in ``chunk-NNNNNN.json`` (written second, so a chunk counts only once both exist). The next build
of the same folder with the same model reuses them; a finished build removes the folder.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from index_builder.atomic import atomic_path, write_json_atomic


class EmbeddingCheckpoint:
    """Append-only store of (description hash -> vector) chunks for one index folder and one encoder."""

    def __init__(self, index_folder: Path, encoder_identity: str) -> None:
        self.folder = Path(index_folder).with_name(f".{Path(index_folder).name}.partial")
        self.encoder_identity = encoder_identity
        self._pending_hashes: list[str] = []
        self._pending_vectors: list[np.ndarray] = []

    def load(self) -> dict[str, np.ndarray]:
        """Vectors saved by an earlier, interrupted build with the same encoder (empty if none)."""
        vectors: dict[str, np.ndarray] = {}
        for meta_path in sorted(self.folder.glob("chunk-*.json")):
            try:
                meta = json.loads(meta_path.read_text())
                if meta.get("encoder") != self.encoder_identity:
                    continue
                array = np.load(meta_path.with_suffix(".npy"), allow_pickle=False)
            except (OSError, ValueError):
                continue  # a damaged chunk is simply embedded again
            if array.ndim == 2 and len(array) == len(meta.get("hashes", [])):
                vectors.update(zip(meta["hashes"], array, strict=True))
        return vectors

    def add(self, hashes: list[str], vectors: np.ndarray, flush_every: int = 256) -> None:
        """Queue a finished batch; write a chunk once ``flush_every`` songs are queued."""
        self._pending_hashes.extend(hashes)
        self._pending_vectors.append(np.asarray(vectors, dtype=np.float32))
        if len(self._pending_hashes) >= flush_every:
            self.flush()

    def flush(self) -> None:
        """Write queued vectors as one chunk."""
        if not self._pending_hashes:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        number = len(list(self.folder.glob("chunk-*.json"))) + 1
        stem = self.folder / f"chunk-{number:06d}"
        with atomic_path(stem.with_suffix(".npy")) as tmp, open(tmp, "wb") as handle:
            np.save(handle, np.concatenate(self._pending_vectors), allow_pickle=False)
        write_json_atomic(stem.with_suffix(".json"), {"encoder": self.encoder_identity, "hashes": self._pending_hashes})
        self._pending_hashes, self._pending_vectors = [], []

    def discard(self) -> None:
        """Remove the checkpoint folder (after a successful build)."""
        shutil.rmtree(self.folder, ignore_errors=True)
