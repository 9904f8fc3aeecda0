"""What ships in data/model/ so a fresh machine answers fast: the ONNX skeleton and the concept vectors.

When the concept-vector test fails after editing prompts/, rewrite them with ``python -m index_builder --ship`` and
commit data/model/.
"""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pytest

from assistant.open_reading import (
    CACHE_PREFIX,
    ConceptReader,
    _read_cache,
    concept_key,
    concept_texts,
    prompt_concepts,
)
from assistant.vocabulary import Vocabulary
from index_builder.build import describe_catalogue
from index_builder.embedding import Encoder
from index_builder.encoder_backends import model_tokenizer
from index_builder.errors import ModelError
from index_builder.model_store import ModelLocation
from index_builder.onnx_export import EXPORT_RECORD, ensure_onnx_model
from index_builder.onnx_skeleton import SKELETON_FILE, SKELETON_RECORD, rebuild_export, skeleton_record
from index_builder.settings import SHIPPED_MODEL_DIR, Settings

RESHIP = "The concept vectors in data/model/ are stale: rewrite them with `python -m index_builder --ship`"


def test_the_skeleton_rebuilds_the_torch_export_byte_for_byte(model_location, tmp_path):
    record = skeleton_record(SHIPPED_MODEL_DIR, model_location)
    assert record is not None, "data/model/ has no ONNX skeleton for these weights"
    exported = ensure_onnx_model(model_location, tmp_path, SHIPPED_MODEL_DIR)
    assert hashlib.sha256(exported.path.read_bytes()).hexdigest() == record["export_sha256"] == exported.sha256
    written = json.loads((exported.path.parent / EXPORT_RECORD).read_text(encoding="utf-8"))
    assert written["rebuilt_from"] == "shipped skeleton" and written["exported_with"] == record["exported_with"]
    assert ensure_onnx_model(model_location, tmp_path, SHIPPED_MODEL_DIR).sha256 == exported.sha256  # cached now


def test_a_changed_skeleton_or_other_weights_are_refused(model_location, tmp_path):
    folder = shutil.copytree(SHIPPED_MODEL_DIR, tmp_path / "model")
    record = skeleton_record(folder, model_location)
    assert record is not None
    skeleton = bytearray((folder / SKELETON_FILE).read_bytes())
    skeleton[len(skeleton) // 2] ^= 1
    (folder / SKELETON_FILE).write_bytes(bytes(skeleton))
    with pytest.raises(ModelError, match="does not match its record"):
        rebuild_export(folder, record, model_location, tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()
    other = ModelLocation(model_location.path, model_location.name, "0" * 64)
    assert skeleton_record(folder, other) is None  # another model's weights: exported with torch instead
    (folder / SKELETON_RECORD).write_text("{not json", encoding="utf-8")
    assert skeleton_record(folder, model_location) is None


def test_the_shipped_concept_vectors_match_the_prompts(encoder, tmp_path):
    texts, _ = concept_texts(prompt_concepts(Settings()))
    key = concept_key(encoder, texts)  # the default fast encoder's queries, as the app runs them
    shipped = _read_cache(SHIPPED_MODEL_DIR, key, len(texts), encoder.dimension)
    if shipped is None:
        pytest.fail(f"{RESHIP} (none for the texts of prompts/query_concepts.toml)")
    assert len(list(SHIPPED_MODEL_DIR.glob(f"{CACHE_PREFIX}*.npy"))) == 1  # stale ones are removed on shipping
    sample = np.random.default_rng(0).choice(len(texts), 24, replace=False)
    fresh = encoder.encode_phrases([texts[i] for i in sample])
    assert np.allclose(fresh, shipped[sample], atol=1e-4), RESHIP


def test_an_empty_model_cache_reads_the_shipped_concept_vectors(model_location, tmp_path):
    shipped = Encoder(model_location, "fast", export_dir=tmp_path / "exports", shipped_dir=SHIPPED_MODEL_DIR)
    vocabulary = Vocabulary.build(prompt_concepts(Settings()))
    reader = ConceptReader.build(vocabulary, shipped, tmp_path / "cache", threshold=0.5)
    assert shipped.model_calls == 0 and not (tmp_path / "exports").exists()
    assert reader.vectors.shape == (len(concept_texts(vocabulary.concepts.values())[0]), shipped.dimension)
    plain = Encoder(model_location, "plain", shipped_dir=SHIPPED_MODEL_DIR)
    assert concept_key(plain, ["x"]) != concept_key(shipped, ["x"])  # other query vectors: not read from data/model


def test_the_tokenizer_gives_transformers_ids(model_location):
    from transformers import AutoTokenizer

    reference = AutoTokenizer.from_pretrained(str(model_location.path))
    tokenizer, pad_id = model_tokenizer(model_location.path)
    texts = [*describe_catalogue(Settings()).songs["description"], *concept_texts(prompt_concepts(Settings()))[0]]
    texts += ["Beyoncé, café naïve 😀 <mask>", "x " * 600, "", "Ｆｕｌｌｗｉｄｔｈ", "中文歌曲", "I'm sad, cheer me up"]
    expected = reference(texts, truncation=True, max_length=384)["input_ids"]
    assert [encoding.ids for encoding in tokenizer.encode_batch(texts)] == expected
    assert pad_id == reference.pad_token_id
