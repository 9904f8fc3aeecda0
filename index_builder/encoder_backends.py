"""Two ways to run all-mpnet-base-v2, both returning L2-normalized float32 rows.

``TorchBackend`` is sentence-transformers itself, in float32 (the plain pipeline) or bfloat16 (document batches,
about twice as fast where the CPU computes bf16 natively; cosine to fp32 above 0.998). ``OnnxBackend`` runs a
graph from ``index_builder/onnx_export.py`` with onnxruntime: the fp32 one gives the same numbers as
sentence-transformers without most of its per-call overhead (what a single short query pays for); the int8 one
is the fast path on CPUs without native bf16 (cosine to fp32 about 0.99).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from index_builder.vector_index import normalized

if TYPE_CHECKING:
    from tokenizers import Tokenizer

SENTENCE_CONFIG = "sentence_bert_config.json"
"""Where a sentence-transformers folder keeps ``max_seq_length``: longer texts are truncated to it."""
TOKENIZER_FILE = "tokenizer.json"
SPECIAL_TOKENS_FILE = "special_tokens_map.json"


class EmbeddingBackend(Protocol):
    """Texts in, normalized float32 rows out."""

    name: str

    def embed(self, texts: list[str], batch_size: int) -> np.ndarray:
        """One normalized row per text, in order."""
        ...


class TorchBackend:
    """sentence-transformers on the CPU, in float32 or bfloat16."""

    def __init__(self, model_path: Path, precision: str = "fp32") -> None:
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # the "Loading weights" bar is noise at every load

        if precision not in {"fp32", "bf16"}:
            raise ValueError(f"precision must be 'fp32' or 'bf16', not {precision!r}")
        dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        self.precision = precision
        self.name = f"sentence-transformers {precision}"
        self.model = SentenceTransformer(str(model_path), device="cpu", model_kwargs={"dtype": dtype})

    @property
    def dimension(self) -> int:
        """Length of each embedding."""
        return int(self.model.get_embedding_dimension())

    def token_counts(self, texts: list[str]) -> list[int]:
        """Tokens each text becomes (capped at the model's max_seq_length), from its own fast tokenizer."""
        encoded = self.model.tokenizer(texts, truncation=True, max_length=self.model.max_seq_length)["input_ids"]
        return [len(ids) for ids in encoded]

    def embed(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Embed with sentence-transformers; bf16 output is widened to fp32 and normalized again."""
        tensor = self.model.encode(
            texts, batch_size=batch_size, convert_to_tensor=True, normalize_embeddings=True, show_progress_bar=False
        )
        return normalized(tensor.float().numpy())


class OnnxBackend:
    """An exported graph (fp32 or int8) in onnxruntime, with the model folder's own tokenizer (``tokenizer.json``
    in the ``tokenizers`` library, which transformers' fast tokenizer wraps: importing transformers would import
    torch, 2.4 s of a start)."""

    def __init__(self, onnx_path: Path, model_path: Path, threads: int | None = None, precision: str = "fp32") -> None:
        import onnxruntime

        self.precision = precision
        self.name = f"onnxruntime {precision}"
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle threads sleep instead of spinning: spinning doubled query latency whenever another process (or a
        # second request) wanted the same two cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.dimension = int(self.session.get_outputs()[0].shape[-1])
        self.tokenizer, self.pad_id = model_tokenizer(Path(model_path))
        self.max_tokens = self.tokenizer.truncation["max_length"]

    def token_counts(self, texts: list[str]) -> list[int]:
        """Tokens each text becomes (capped at the model's max_seq_length)."""
        return [len(encoding.ids) for encoding in self.tokenizer.encode_batch(texts)]

    def embed(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Tokenize each batch (padded to its longest text) and run the graph."""
        rows = []
        for start in range(0, len(texts), max(1, batch_size)):
            encodings = self.tokenizer.encode_batch(texts[start : start + batch_size])
            input_ids = np.full((len(encodings), max(len(e.ids) for e in encodings)), self.pad_id, dtype=np.int64)
            attention_mask = np.zeros_like(input_ids)
            for row, encoding in enumerate(encodings):
                input_ids[row, : len(encoding.ids)] = encoding.ids
                attention_mask[row, : len(encoding.ids)] = 1
            rows.append(self.session.run(None, {"input_ids": input_ids, "attention_mask": attention_mask})[0])
        return normalized(np.concatenate(rows)) if rows else np.zeros((0, self.dimension), dtype=np.float32)


def model_tokenizer(model_path: Path) -> tuple[Tokenizer, int]:
    """The model folder's fast tokenizer, truncating at its ``max_seq_length`` and padding nothing (each batch is
    padded to its longest text by the caller), and the id of its padding token."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_path / TOKENIZER_FILE))
    config = json.loads((model_path / SENTENCE_CONFIG).read_text(encoding="utf-8"))
    special = json.loads((model_path / SPECIAL_TOKENS_FILE).read_text(encoding="utf-8"))
    pad_id = tokenizer.token_to_id(str(special["pad_token"]))
    if pad_id is None:
        raise ValueError(f"The tokenizer in {model_path} has no padding token {special['pad_token']!r}.")
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=int(config["max_seq_length"]))
    return tokenizer, pad_id
