"""The issue #8 target benchmarks, at smoke sizes: every figure is measured and printed with its verdict."""

from __future__ import annotations

import re

from bench.latency import CONVERSATION, measure_requests, synthetic_engine
from bench.queries import benchmark_queries
from bench.startup import STARTUP_TARGET_S, measure_startup, startup_line
from bench.timing import verdict
from index_builder.vector_index import all_vectors


def test_synthetic_engine_and_request_timing(tmp_path, bundled_engine):
    anchors = all_vectors(bundled_engine.index.faiss_index)
    engine = synthetic_engine(300, bundled_engine.encoder, anchors, tmp_path, seed=3)
    assert len(engine.songs) == 300 and engine.index.manifest["synthetic_vectors"]
    report = measure_requests(engine, benchmark_queries(6, seed=3))
    assert len(report.total) == len(report.repeated) == 6
    assert all(t > e > 0 for t, e in zip(report.total, report.encoding, strict=True))
    assert report.repeated_model_calls == report.refinement_model_calls == 0
    text = "\n".join(report.lines())
    for label in ("end to end p50", "p95", "everything else p50", f"{len(CONVERSATION) - 1} refinements"):
        assert label in text
    assert len(re.findall(r"\b(?:PASS|FAIL)\b", text)) == 4 and "nan" not in text


def test_verdict_counts_the_target_itself_as_met():
    assert verdict(25.0, 25.0) == "PASS" and verdict(25.01, 25.0) == "FAIL" and verdict(0, 0) == "PASS"


def test_startup_reaches_a_first_answer(bundled_engine):
    result = measure_startup(["--index", str(bundled_engine.index.folder)])
    assert 0 < result.server_up_s < result.connected_s < result.first_answer_s
    assert set(result.app_phases) == {"encoder", "index", "page"} and result.imports_s > 0
    assert "1. **" in result.reply
    line = startup_line(result)
    assert f"target <= {STARTUP_TARGET_S:.0f} s" in line and re.search(r"\b(?:PASS|FAIL)\b", line)
