"""Embedding checkpoints: an interrupted build resumes from the batches it already finished.

While a build embeds, every few batches go to ``.<index>.partial/chunk-NNNNNN.npy`` with the description hashes
and the sha256 of the ``.npy`` file beside them in ``chunk-NNNNNN.json`` (written second, so a chunk counts only
once both exist). The next build of the same folder with the same model reuses a chunk only when its checksum
matches and every vector in it is finite and of unit length; any other chunk is deleted and its songs embedded
again, with a note. A finished build removes the folder.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np

from index_builder.atomic import atomic_path, write_json_atomic
from index_builder.errors import IndexNotWritable
from index_builder.vector_index import usable_rows

_CHUNK_NUMBER = re.compile(r"chunk-(\d+)$")


class EmbeddingCheckpoint:
    """Append-only store of (description hash -> vector) chunks for one index folder and one encoder."""

    def __init__(self, index_folder: Path, encoder_identity: str, dimension: int | None = None) -> None:
        self.folder = Path(index_folder).with_name(f".{Path(index_folder).name}.partial")
        self.encoder_identity = encoder_identity
        self.dimension = dimension
        """The vector width every chunk must have (None: not checked)."""
        self.notes: list[str] = []
        """What ``load`` discarded and why, for the build to report."""
        self._pending_hashes: list[str] = []
        self._pending_vectors: list[np.ndarray] = []

    def load(self) -> dict[str, np.ndarray]:
        """Vectors saved by an earlier, interrupted build with the same encoder (empty if none).

        A chunk that fails its checks is deleted, and ``notes`` says which and why.
        """
        vectors: dict[str, np.ndarray] = {}
        for meta_path in sorted(self.folder.glob("chunk-*.json")):
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                meta = None
            if isinstance(meta, dict) and meta.get("encoder") != self.encoder_identity:
                continue  # another model's chunk: left for that model
            problem, hashes, array = self._check(meta_path, meta)
            if problem:
                self.notes.append(
                    f"discarded embedding checkpoint {meta_path.stem} ({problem}); its songs are embedded again"
                )
                for path in (meta_path, meta_path.with_suffix(".npy")):
                    path.unlink(missing_ok=True)
                continue
            vectors.update(zip(hashes, array, strict=True))
        return vectors

    def _check(self, meta_path: Path, meta: object) -> tuple[str, list[str], np.ndarray]:
        """Why the chunk at ``meta_path`` cannot be reused ("" when it can), its hashes and its vectors."""
        empty = np.zeros((0, 0), dtype=np.float32)
        if not isinstance(meta, dict):
            return "unreadable description file", [], empty
        hashes, digest = meta.get("hashes"), meta.get("sha256")
        if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
            return "no list of description hashes", [], empty
        if not isinstance(digest, str):
            return "no checksum", [], empty
        try:
            data = meta_path.with_suffix(".npy").read_bytes()
        except OSError:
            return "vector file missing", [], empty
        if hashlib.sha256(data).hexdigest() != digest:
            return "checksum does not match", [], empty
        try:
            array = np.load(io.BytesIO(data), allow_pickle=False)
        except ValueError:
            return "vector file unreadable", [], empty
        if array.ndim != 2 or len(array) != len(hashes) or (self.dimension and array.shape[1] != self.dimension):
            return f"{array.shape} vectors for {len(hashes)} songs", [], empty
        bad = int((~usable_rows(array)).sum())
        if bad:
            return f"{bad} vector(s) not finite or not of unit length", [], empty
        return "", hashes, array.astype(np.float32, copy=False)

    def add(self, hashes: list[str], vectors: np.ndarray, flush_every: int = 256) -> None:
        """Queue a finished batch; write a chunk once ``flush_every`` songs are queued."""
        self._pending_hashes.extend(hashes)
        self._pending_vectors.append(np.asarray(vectors, dtype=np.float32))
        if len(self._pending_hashes) >= flush_every:
            self.flush()

    def flush(self) -> None:
        """Write queued vectors as one chunk, with their checksum; IndexNotWritable if the folder takes no files."""
        if not self._pending_hashes:
            return
        buffer = io.BytesIO()
        np.save(buffer, np.concatenate(self._pending_vectors), allow_pickle=False)
        data = buffer.getvalue()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            stem = self.folder / f"chunk-{self._next_number():06d}"
            with atomic_path(stem.with_suffix(".npy")) as tmp:
                tmp.write_bytes(data)
            meta = {
                "encoder": self.encoder_identity,
                "hashes": self._pending_hashes,
                "sha256": hashlib.sha256(data).hexdigest(),
            }
            write_json_atomic(stem.with_suffix(".json"), meta)
        except OSError as exc:
            raise IndexNotWritable(
                f"The embedding checkpoint {self.folder} cannot be written ({exc.strerror or exc})."
            ) from exc
        self._pending_hashes, self._pending_vectors = [], []

    def _next_number(self) -> int:
        """One more than the highest chunk number present (discarded chunks leave gaps)."""
        numbers = [int(m[1]) for p in self.folder.glob("chunk-*.*") if (m := _CHUNK_NUMBER.match(p.stem))]
        return max(numbers, default=0) + 1

    def discard(self) -> None:
        """Remove the checkpoint folder (after a successful build)."""
        shutil.rmtree(self.folder, ignore_errors=True)
