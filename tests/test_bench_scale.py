"""The scale benchmark: song-like vectors, a smoke run of every table and target (not timed), results sections."""

from __future__ import annotations

import dataclasses

import numpy as np

from bench.results_file import read_sections, write_section
from bench.scale import ScaleOptions, run_scale
from bench.vectors import song_like_chunks, song_like_vectors
from index_builder.vector_index import normalized


def test_song_like_vectors_stay_near_their_songs_and_are_seeded():
    anchors = normalized(np.random.default_rng(0).normal(size=(50, 64)))
    vectors = song_like_vectors(anchors, 1000, seed=3)
    assert vectors.shape == (1000, 64) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    nearest = (vectors @ anchors.T).max(axis=1)
    assert np.median(nearest) > 0.7  # each vector is mostly one song
    assert len(np.unique(vectors.round(4), axis=0)) == 1000  # and no two coincide
    assert np.array_equal(vectors, song_like_vectors(anchors, 1000, seed=3))
    assert not np.array_equal(vectors, song_like_vectors(anchors, 1000, seed=4))
    chunks = list(song_like_chunks(anchors, 1000, seed=3, chunk=300))
    assert [len(c) for c in chunks] == [300, 300, 300, 100]


def test_smoke_scale_run_fills_every_table(tmp_path):
    rng = np.random.default_rng(1)
    anchors, queries = rng.normal(size=(40, 32)), rng.normal(size=(12, 32))
    options = dataclasses.replace(ScaleOptions.smoke(approximate_above=3000, nprobe=4), vectors=6000)
    report = run_scale(anchors, queries, options, "test machine", workdir=tmp_path)
    assert [size for size, _, _ in report.sweep] == list(options.sweep)
    flat, ivf = report.indexes
    assert flat.plan.exact and ivf.plan.factory.startswith("IVF") and flat.recall == 1.0
    for figures in report.indexes:
        assert figures.build_s > 0 and figures.file_mib > 0 and len(figures.latency) == len(queries)
        assert figures.mmap_load_s >= 0 and figures.load_s > 0
    assert len(report.alternatives) == len(options.nprobe_alternatives)
    assert len(report.targets) == 4 and report.targets[0].passed  # exact up to 3,000, IVF at 3,001
    text = report.to_markdown("python -m bench.scale --smoke")
    assert "PASS" in text and "| IndexFlatIP (exact)" in text
    assert not list(tmp_path.iterdir())  # the FAISS files went with the temporary folder


def test_each_command_replaces_only_its_own_section(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text("# Speed\n\nold tables\n")  # written before sections existed
    write_section(path, "scale", "## Scale\n\nfirst")
    write_section(path, "scale", "## Scale\n\nsecond")
    write_section(path, "targets-avx2", "## Targets on AVX2")  # a hyphenated name survives the next write
    write_section(path, "targets", "## Targets")
    assert read_sections(path.read_text()) == {
        "speed": "# Speed\n\nold tables",
        "targets": "## Targets",
        "scale": "## Scale\n\nsecond",
        "targets-avx2": "## Targets on AVX2",
    }
