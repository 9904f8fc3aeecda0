"""The Milvus scale benchmark: a smoke run fills every table on real Milvus Lite (the figures mean nothing), exact
search and the pushed-down filters agree, and the cluster projection adds up."""

from __future__ import annotations

import dataclasses

import numpy as np

from bench.milvus_scale import FILTERS, MilvusScaleOptions, Scalars, cluster_plan, run_milvus_scale, song_field_bytes
from index_builder.settings import Settings


def test_smoke_run_fills_every_table(tmp_path):
    rng = np.random.default_rng(1)
    anchors, queries = rng.normal(size=(40, 32)), rng.normal(size=(8, 32))
    options = dataclasses.replace(MilvusScaleOptions.smoke(), vectors=5_000, queries=8)
    report = run_milvus_scale(anchors, queries, options, "test machine", workdir=tmp_path)
    labels = [b.label for b in report.built]
    assert labels[0].startswith("FAISS IVF") and labels[1] == "Milvus FLAT (Settings picks)"
    assert labels[2:] == ["Milvus IVF_SQ8", "Milvus HNSW"]
    assert len(report.searched) == len(report.built) * len(FILTERS)
    for searched in report.searched:
        assert len(searched.latency) == 8 and 0 <= searched.recall <= 1
        if searched.store.startswith("Milvus FLAT"):  # exact search with the filter pushed down = exact truth
            assert searched.recall == 1.0 and searched.short == 0.0, searched.filter
    shares = [s.share for s in report.searched[: len(FILTERS)]]
    assert shares[0] == 1.0 and shares[0] > shares[1] > shares[2] > 0
    for built in report.built[1:]:
        assert built.index_s > 0 and built.disk_mib > 0 and len(built.deep_latency) == 2
    text = report.to_markdown("python -m bench.milvus_scale --smoke")
    assert "Projected to a Milvus cluster" in text and "| Milvus IVF_SQ8 | 100,000,000 |" in text
    assert "| Milvus FLAT (Settings picks) | 10,000,000 |" not in text
    assert not list(tmp_path.iterdir())  # the Milvus Lite folder went with the temporary folder


def test_synthetic_fields_and_projection():
    scalars = Scalars.make(10_000, seed=3)
    assert (scalars.year == 0).mean() < 0.05 and scalars.genre.max() < 120
    assert np.bincount(scalars.genre)[0] > np.bincount(scalars.genre)[50]  # Zipf: genre 0 is the most common
    plan = cluster_plan(100_000_000, 800.0, 300.0, 50_000.0)
    assert round(plan["replica_gib"]) == 102 and plan["nodes"] == 3 and plan["shards"] == 4
    assert round(plan["build_h"], 1) == 0.6
    scalar, record = song_field_bytes(Settings())
    assert 100 < scalar < 1_000 and scalar < record
