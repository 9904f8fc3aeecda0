"""The speed benchmark: synthetic catalogues, the stopwatch proxies, and a smoke run of every table (not timed)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.queries import benchmark_queries
from bench.run import STAGES, BenchOptions, run_bench
from bench.synthetic import COPULA_FEATURES, synthetic_songs, write_synthetic_catalogue
from bench.timing import TimedEncoder, TimedIndex, peak_rss_mb, percentiles_ms
from index_builder.catalogue import load_catalogue
from index_builder.settings import BUNDLED_CATALOGUE
from index_builder.vector_index import build_flat_index


def test_synthetic_catalogue_loads_as_a_spotify_export(tmp_path):
    path = write_synthetic_catalogue(tmp_path / "synthetic.csv", 500, seed=3)
    catalogue = load_catalogue(path)
    assert len(catalogue) == 500  # no row merged away as a repeat
    songs = catalogue.songs
    assert songs["year"].between(1960, 2024).all()
    assert songs["instrumentalness"].notna().all() and songs["genre"].str.len().gt(0).all()


def test_synthetic_features_follow_the_bundled_catalogue(tmp_path):
    bundled = load_catalogue(BUNDLED_CATALOGUE).songs
    synthetic = load_catalogue(write_synthetic_catalogue(tmp_path / "s.csv", 4000, seed=1)).songs
    for feature in COPULA_FEATURES:
        assert abs(synthetic[feature].mean() - bundled[feature].mean()) < 0.1 * bundled[feature].std(), feature
        assert synthetic[feature].std() == pytest.approx(bundled[feature].std(), rel=0.15), feature
    real = bundled[["energy", "loudness"]].corr(method="spearman").iloc[0, 1]
    made = synthetic[["energy", "loudness"]].corr(method="spearman").iloc[0, 1]
    assert made == pytest.approx(real, abs=0.1)


def test_synthetic_catalogues_are_seeded():
    assert synthetic_songs(50, seed=5).equals(synthetic_songs(50, seed=5))
    assert not synthetic_songs(50, seed=5).equals(synthetic_songs(50, seed=6))


def test_benchmark_queries_are_distinct():
    queries = benchmark_queries(300)
    assert len(set(queries)) == 300
    with pytest.raises(ValueError):
        benchmark_queries(10**6)


def test_stopwatch_proxies_pass_everything_through():
    vectors = np.eye(4, dtype=np.float32)
    timed = TimedIndex(build_flat_index(vectors))
    _, ids = timed.search(vectors[:1], 2)
    assert ids[0][0] == 0 and timed.ntotal == 4 and timed.seconds > 0

    class Fake:
        weights_sha256 = "abc"

        def encode_query(self, text):
            return np.ones(2)

    encoder = TimedEncoder(Fake())
    assert encoder.encode_query("x").tolist() == [1, 1] and encoder.weights_sha256 == "abc" and encoder.seconds > 0


def test_percentiles_and_memory():
    assert percentiles_ms([0.001] * 19 + [0.1]) == pytest.approx((1.0, 5.95))
    assert peak_rss_mb() > 10


def test_smoke_bench_fills_every_table(tmp_path, encoder):
    options = BenchOptions.smoke()
    report = run_bench(encoder, options, tmp_path, "test machine")
    assert [b.label for b in report.builds] == [f"bundled, first {options.bundled_rows} rows", "synthetic"]
    for build in report.builds:
        assert build.songs > 0 and build.embed_s > 0 and build.total_s >= build.embed_s and build.plain_embed_s > 0
    for latency in report.latencies:
        assert len(latency.plain) == options.queries and min(latency.plain) > 0
        assert set(latency.stages) == set(STAGES)
        for stage in ("parse", "embed", "FAISS search", "total"):
            assert min(latency.stages[stage]) > 0, stage
        assert np.allclose(
            np.sum([latency.stages[s] for s in STAGES[:-1]], axis=0), latency.stages["total"], rtol=1e-6, atol=1e-9
        )
    assert len(report.faiss) == 1 + len(options.nprobes)
    assert report.faiss[0].recall == 1.0 and all(0 < f.recall <= 1 for f in report.faiss)
    assert all(f.vectors == options.million_size and f.latency for f in report.faiss)
    assert [mb > 0 for _, mb in report.peak_rss] == [True, True, True]
    markdown = report.to_markdown("python -m bench --smoke")
    for title, _ in report.sections():
        assert f"## {title}" in markdown
    assert "nan" not in markdown and "test machine" in markdown


def test_hostile_bench_history_and_disk_count(tmp_path):
    from bench.hostile import disk_usage, long_history

    history = long_history(salt="t")
    turns = [m["content"] for m in history if m["role"] == "user"]
    assert len(turns) == 30 and {len(t) for t in turns} == {499} and len(set(turns)) == 30
    folder = tmp_path / "moodring-export-x"
    folder.mkdir()
    (folder / "a.csv").write_text("12345", encoding="utf-8")
    (tmp_path / "other.csv").write_text("1", encoding="utf-8")
    assert disk_usage([tmp_path], "moodring-export-*") == (1, 5)
    assert disk_usage([tmp_path]) == (2, 6)
