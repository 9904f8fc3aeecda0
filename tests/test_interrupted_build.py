"""A build killed midway leaves the previous index intact, and the next build resumes from its checkpoints."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np

from index_builder.build import build_index
from index_builder.index_store import load_index
from index_builder.settings import PROJECT_ROOT
from tests.helpers import SPOTIFY_HEADER, spotify_catalogue, test_settings, write_csv


def _synthetic_rows(count: int) -> list[list[str]]:
    rng = np.random.default_rng(3)
    rows = []
    for i in range(count):
        unit = rng.uniform(0, 1, size=7).round(3)
        rows.append(
            [f"t{i}", f"Synthetic Song {i}", f"Artist {i % 37}", str(rng.integers(0, 100)), str(2000 + i % 20),
             "pop", *map(str, unit[:2]), str(round(rng.normal(-7, 2), 1)), *map(str, unit[2:]),
             str(round(rng.normal(118, 20), 1)), str(rng.integers(120_000, 300_000))]
        )  # fmt: skip
    return rows


def test_killed_build_keeps_old_index_and_resumes(tmp_path, encoder):
    catalogue = spotify_catalogue(tmp_path, "songs.csv")
    settings = test_settings(tmp_path, catalogue, checkpoint_every=16, batch_size=8)
    old = build_index(settings, encoder)
    folder = settings.resolved_index_dir

    write_csv(catalogue, SPOTIFY_HEADER, _synthetic_rows(120))
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "MOODRING_CHECKPOINT_EVERY": "16", "MOODRING_BATCH_SIZE": "8"}
    command = [sys.executable, "-m", "index_builder", "--catalogue", str(catalogue), "--out", str(folder), "--quiet"]
    process = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    partial = folder.with_name(f".{folder.name}.partial")
    deadline = time.monotonic() + 300
    while not (partial / "chunk-000002.json").exists():
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "the build never wrote two checkpoint chunks"
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()

    survivor = load_index(folder, expected=None)  # the previous index is intact and passes its checksums
    assert len(survivor) == len(old) == 4
    saved = sum(len(json.loads(p.read_text())["hashes"]) for p in partial.glob("chunk-*.json"))
    assert saved >= 32

    resumed = build_index(settings, encoder)
    assert len(resumed) == 120
    assert resumed.manifest["reused"] >= saved and resumed.manifest["embedded"] == 120 - resumed.manifest["reused"]
    assert not partial.exists()
