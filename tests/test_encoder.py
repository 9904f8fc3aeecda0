"""The fast encoder against the plain one, the cached ONNX exports (fp32 and int8), and which index each may open."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from index_builder.build import describe_catalogue
from index_builder.cpu_features import detect_cpu
from index_builder.embedding import Encoder
from index_builder.errors import ConfigError, IndexMismatch
from index_builder.model_store import ModelLocation
from index_builder.onnx_export import (
    EXPORT_RECORD,
    INT8_RECIPE,
    ONNX_FILE,
    WEIGHT8_RECIPE,
    _record_for,
    _verified_export,
    int8_export_folder,
    onnx_export_folder,
    weight8_export_folder,
    weight8_lock,
)
from index_builder.settings import Settings
from tests.helpers import spotify_catalogue, test_settings

QUERIES = ["sad acoustic songs for a rainy day", "upbeat workout songs, nothing before 2015", "calm 🎧 lo-fi"]
DESCRIPTIONS = [
    "Hey, Soul Sister by Train. Genre: neo mellow. Released in 2010, the 2010s. Very happy mood. Intense energy.",
    "Someone Like You by Adele. Genre: british soul. Released in 2011, the 2010s. Very sad mood. Low energy.",
]


MIN_COSINE = {"fp32": 0.9999, "bf16": 0.997, "int8w": 0.999, "int8": 0.97}
"""How close each precision's vectors stay to plain fp32 (int8 measures 0.98-0.99 on song descriptions, int8w
0.9997 on requests)."""
MIN_INT8_QUERY_COSINE = 0.95
"""Short requests through the int8 graph (``encoder_query_precision=int8``, opt-in, outside the quality gate): 0.962
at worst on QUERIES since the lower six feed-forward outputs are int8 too (0.97 before)."""


@pytest.fixture(scope="module")
def int8_encoder(model_location):
    """The fast encoder's int8 path whatever the CPU, queries in int8 too (the graph is quantized once into the
    shared model cache)."""
    return Encoder(model_location, "fast", precision="int8", query_precision="int8")


def test_fast_queries_match_the_plain_model(encoder):
    assert (encoder.kind, encoder.query_precision) == ("fast", "int8w")
    plain = encoder.plain.embed(QUERIES, 8)
    fast = np.stack([encoder.encode_query(text) for text in QUERIES])
    assert fast.dtype == np.float32 and np.allclose(np.linalg.norm(fast, axis=1), 1, atol=1e-5)
    assert np.min(np.sum(plain * fast, axis=1)) > MIN_COSINE[encoder.query_precision]
    record = json.loads((weight8_export_folder(encoder.export_dir) / EXPORT_RECORD).read_text())
    fp32 = json.loads((onnx_export_folder(encoder.export_dir) / EXPORT_RECORD).read_text())
    assert record["recipe"] == WEIGHT8_RECIPE and record["source_onnx_sha256"] == fp32["sha256"]


def test_fast_documents_stay_close_to_the_plain_model(encoder):
    assert encoder.document_precision == ("bf16" if detect_cpu().native_bf16 else "int8")
    fast = encoder.encode_documents(DESCRIPTIONS, show_progress=False)
    plain = encoder.plain.embed(DESCRIPTIONS, 8)
    assert np.min(np.sum(plain * fast, axis=1)) > MIN_COSINE[encoder.document_precision]
    # and they still tell the two songs apart the way the plain vectors do
    happy = encoder.encode_query("happy upbeat songs")
    assert (fast @ happy).argmax() == (plain @ happy).argmax() == 0


def test_a_repeated_query_costs_no_model_call(encoder):
    encoder.encode_query("songs for a long night drive")
    calls = encoder.model_calls
    again = encoder.encode_query("songs for a long night drive")
    assert encoder.model_calls == calls
    assert not again.flags.writeable  # callers cannot corrupt the cached vector


def test_int8_vectors_stay_close_to_fp32_on_catalogue_descriptions(int8_encoder):
    texts = list(describe_catalogue(Settings()).songs["description"])[::40]  # 15 real song descriptions
    int8 = int8_encoder.encode_documents(texts, show_progress=False)
    plain = int8_encoder.plain.embed(texts, 16)
    cosines = np.sum(int8 * plain, axis=1)
    assert cosines.min() > MIN_COSINE["int8"] and cosines.mean() > 0.98
    assert np.allclose(np.linalg.norm(int8, axis=1), 1, atol=1e-5)
    queries = int8_encoder.encode_queries(QUERIES)  # opt-in int8 queries go through the same graph
    assert np.min(np.sum(queries * int8_encoder.plain.embed(QUERIES, 8), axis=1)) > MIN_INT8_QUERY_COSINE
    record = json.loads((int8_export_folder(int8_encoder.export_dir) / EXPORT_RECORD).read_text())
    fp32 = json.loads((onnx_export_folder(int8_encoder.export_dir) / EXPORT_RECORD).read_text())
    assert record["recipe"] == INT8_RECIPE and record["source_onnx_sha256"] == fp32["sha256"]


def test_encoder_names_its_vector_family_for_the_manifest(model_location):
    plain = Encoder(model_location, "plain")
    assert plain.model_name == model_location.name and plain.vector_identity.endswith(":fp32")
    bf16 = Encoder(model_location, "fast", precision="bf16")
    int8 = Encoder(model_location, "fast", precision="int8", query_precision="int8")
    fast_fp32 = Encoder(model_location, "fast", precision="fp32")
    assert bf16.model_name == int8.model_name == f"{model_location.name} (bf16/int8 documents)"
    assert bf16.vector_identity == int8.vector_identity != plain.vector_identity
    assert (fast_fp32.model_name, fast_fp32.vector_identity) == (plain.model_name, plain.vector_identity)
    assert len({e.query_identity for e in (plain, bf16, int8)}) == 3  # cached phrase vectors never cross paths
    manifest = {"model_sha256": model_location.weights_sha256, "model_name": bf16.model_name}
    assert int8.matches_manifest(manifest) and not plain.matches_manifest(manifest)


def test_unknown_encoder_is_a_clear_error(model_location):
    with pytest.raises(ConfigError, match="Unknown encoder 'turbo'"):
        Encoder(model_location, "turbo")
    assert Settings.from_env({"MOODRING_ENCODER": "plain"}).encoder == "plain"
    assert Settings.from_env({"MOODRING_ENCODER_PRECISION": "int8"}).encoder_precision == "int8"


def test_an_index_is_searched_by_any_path_of_its_family(tmp_path, int8_encoder, model_location):
    from assistant.engine import SearchEngine
    from index_builder.build import open_index

    settings = test_settings(tmp_path, spotify_catalogue(tmp_path))
    index = open_index(settings, int8_encoder)
    assert index.manifest["document_precision"] == "int8"
    bf16 = Encoder(model_location, "fast", precision="bf16")  # as on a CPU with native bf16: no rebuild
    same = open_index(settings, bf16, rebuild=False)
    assert same.manifest["embedded"] == index.manifest["embedded"]
    assert SearchEngine(same, bf16, settings).search("happy songs", 3).results
    plain = Encoder(model_location, "plain")
    with pytest.raises(IndexMismatch, match="bf16/int8 documents"):
        SearchEngine(index, plain, settings)
    rebuilt = open_index(settings, plain)  # plain, the fp32 reference, rebuilds and reuses nothing
    assert rebuilt.manifest["model_name"] == plain.model_name and rebuilt.manifest["reused"] == 0


def test_onnx_export_is_trusted_only_while_it_matches_its_record(tmp_path):
    location = ModelLocation(path=tmp_path / "model", name="m", weights_sha256="a" * 64)
    folder = onnx_export_folder(tmp_path)
    folder.mkdir()
    graph = folder / ONNX_FILE
    graph.write_bytes(b"graph bytes " * 100)
    (folder / EXPORT_RECORD).write_text(json.dumps(_record_for(graph, location.weights_sha256)))
    assert _verified_export(folder, location.weights_sha256).path == graph
    assert _verified_export(folder, "b" * 64) is None  # exported from other weights

    stat = graph.stat()
    os.utime(graph, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # touched, same bytes: hashed and kept
    assert _verified_export(folder, location.weights_sha256) is not None
    graph.write_bytes(b"graph bytes " * 99 + b"GRAPH BYTES ")  # damaged
    assert _verified_export(folder, location.weights_sha256) is None
    graph.unlink()
    assert _verified_export(folder, location.weights_sha256) is None


def test_the_cached_export_is_the_one_in_use(encoder, model_location):
    encoder.encode_query("warm up the query path")
    record = json.loads((onnx_export_folder(encoder.export_dir) / EXPORT_RECORD).read_text())
    assert record["source_weights_sha256"] == model_location.weights_sha256
    assert len(record["sha256"]) == 64


def test_encoder_bench_judges_every_target(tmp_path, encoder, model_location):
    from bench.encoder import bench_encoders
    from bench.run import head_csv
    from evaluation.rules import load_queries
    from index_builder.settings import BUNDLED_CATALOGUE

    settings = test_settings(tmp_path, head_csv(BUNDLED_CATALOGUE, tmp_path / "head.csv", 40))
    queries = [q for q in load_queries() if q.smoke][:3]
    plain = Encoder(model_location, "plain")
    report = bench_encoders(plain, encoder, settings, tmp_path / "work", queries, 4, say=lambda _: None)
    assert report.songs > 30 and report.rates["plain"] > 0 and report.rates["fast"] > 0
    assert 0.0 <= report.agreement <= 1.0 and report.repeat_model_calls == 0
    assert report.added > 0 and report.added <= report.re_embedded < report.songs  # only new or changed texts
    assert report.targets()[0].name == "index build throughput"


def test_a_start_that_finds_the_8bit_graph_being_made_answers_with_fp32(model_location, tmp_path):
    """A fresh machine's app finds ``python -m index_builder.prepare`` making the 8-bit-weight graph: it embeds with
    the fp32 export rather than wait, and the next start, finding the lock free, uses (or makes) the 8-bit graph."""
    cache, shipped = tmp_path / "models", Settings().shipped_model_dir
    with weight8_lock(cache):  # another holder, as the prepare child is
        first = Encoder(model_location, "fast", export_dir=cache, shipped_dir=shipped)
        assert (first.query_precision, first.query_family) == ("fp32", "fp32")
        calm = first.encode_query("calm songs for a rainy day")
    later = Encoder(model_location, "fast", export_dir=cache, shipped_dir=shipped)
    assert later.query_precision == "int8w" and later.query_identity == first.query_identity
    assert float(later.encode_query("calm songs for a rainy day") @ calm) > MIN_COSINE["int8w"]
