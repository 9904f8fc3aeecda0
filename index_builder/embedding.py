"""Turn texts into L2-normalized float32 vectors with the verified all-mpnet-base-v2."""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from tqdm.auto import tqdm

from index_builder.model_store import ModelLocation

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


class Encoder:
    """The sentence-transformers model plus a small LRU cache for repeated query texts."""

    def __init__(self, location: ModelLocation, query_cache_size: int = 2048) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub, even by accident
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer  # heavy import, deferred until needed
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # the "Loading weights" bar is noise at every start

        self.location = location
        self.model: SentenceTransformer = SentenceTransformer(str(location.path), device="cpu")
        self.dimension = int(self.model.get_embedding_dimension())
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._query_cache_size = query_cache_size

    @property
    def model_name(self) -> str:
        """The model's public name, as recorded in index manifests."""
        return self.location.name

    @property
    def weights_sha256(self) -> str:
        """The verified hash of the model weights."""
        return self.location.weights_sha256

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
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        with tqdm(total=len(texts), desc=description, unit="song", disable=not show_progress) as bar:
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                vectors[chunk] = self._encode([texts[i] for i in chunk], batch_size)
                if on_batch is not None:
                    on_batch(chunk, vectors[chunk])
                bar.update(len(chunk))
        return vectors

    def encode_query(self, text: str) -> np.ndarray:
        """One normalized query vector; repeated texts come from the cache without a model call."""
        cached = self._query_cache.get(text)
        if cached is not None:
            self._query_cache.move_to_end(text)
            return cached
        vector = self._encode([text], 1)[0]
        vector.setflags(write=False)
        self._query_cache[text] = vector
        if len(self._query_cache) > self._query_cache_size:
            self._query_cache.popitem(last=False)
        return vector

    def clear_query_cache(self) -> None:
        """Forget cached query embeddings."""
        self._query_cache.clear()

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        return np.asarray(
            self.model.encode(
                texts,
                batch_size=batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            ),
            dtype=np.float32,
        )
