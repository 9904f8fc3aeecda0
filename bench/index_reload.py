"""``python -m bench.index_reload``: what loading, discovering over and growing a large IVF index folder costs.

On song-like vectors around the shipped index's real song embeddings (bench/vectors.py; no model is loaded):

- load: ``load_index`` verifying every file in full (no stamp: the sha256 of the FAISS file and a scan of every
  vector), then again with the stamp ``index_builder/file_stamps.py`` records once a load passed;
- discovery: the cosine of one vector to every song as before (``all_vectors`` copies the IVF lists, then a matrix
  product) and in place (``cosine_to_all`` over the lists' own storage), with the private memory each adds;
- growth: a rebuild with ``--grow`` more songs, keeping the trained centroids (only the new songs assigned), against
  training them again, each with recall@10 against exact search.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.timing import private_mib
from bench.vectors import song_like_vectors
from index_builder.buckets import BucketScheme, FeatureBuckets
from index_builder.file_stamps import STAMP_FILE
from index_builder.index_store import FaissFolder, IndexKey, SongIndex, load_index
from index_builder.settings import SHIPPED_INDEX_DIR, Settings
from index_builder.vector_index import IndexPlan, all_vectors, build_cosine_index, cosine_to_all, search_index

KEY = IndexKey(*(["bench"] + [hashlib.sha256(str(i).encode()).hexdigest() for i in range(5)]))
SCHEME = BucketScheme({"energy": FeatureBuckets("energy", "energy", (0.5,), ("low energy", "high energy"))})


def main(argv: list[str] | None = None) -> int:
    """Write a large IVF folder, time its loads, discovery and a rebuild with more songs; print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.index_reload", description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=200_000, help="songs in the first build (default 200000)")
    parser.add_argument("--grow", type=float, default=0.1, help="share of songs the rebuild adds (default 0.1)")
    parser.add_argument("--queries", type=int, default=100, help="queries for recall@10 (default 100)")
    parser.add_argument("--folder", type=Path, help="work folder (default: a temporary one)")
    args = parser.parse_args(argv)
    settings = Settings()
    shipped = load_index(SHIPPED_INDEX_DIR, None)
    anchors = np.array(shipped.all_vectors())  # a copy: the view lives only as long as ``shipped``
    added = int(args.songs * args.grow)
    vectors = song_like_vectors(anchors, args.songs + added + args.queries, seed=7)
    queries, vectors = vectors[: args.queries], vectors[args.queries :]
    with tempfile.TemporaryDirectory(dir=args.folder) as work:
        folder = Path(work) / "index"
        target = FaissFolder(folder, 0, settings.ivf_nprobe, settings.ivf_retrain_growth, settings.ivf_retrain_fit)
        first = _timed("first build (trains the centroids)", lambda: target.write(*_inputs(vectors[: args.songs])))
        size = (folder / "index.faiss").stat().st_size / 2**30
        print(f"  {args.songs:,} songs, {first.plan.describe()}, index.faiss {size:.2f} GiB")
        (folder / STAMP_FILE).unlink(missing_ok=True)
        _timed("load, verified in full (sha256 of every file, every vector scanned)", lambda: load_index(folder, KEY))
        _timed("load again, FAISS file unchanged since (stamp)", lambda: load_index(folder, KEY))
        loaded = load_index(folder, KEY)
        _discovery(loaded, queries[0])
        print(f"rebuild with {added:,} more songs ({args.grow:.0%}):")
        grown = _timed("  keeping the trained centroids", lambda: target.write(*_inputs(vectors)))
        kept_recall = _recall(grown, vectors, queries)
        retrain = FaissFolder(Path(work) / "retrained", 0, settings.ivf_nprobe, 1.0, settings.ivf_retrain_fit)
        fresh = _timed("  training them again", lambda: retrain.write(*_inputs(vectors)))
        print(
            f"  centroids {grown.manifest['ivf_centroids']}: index {grown.manifest['index_seconds']:.1f} s, "
            f"recall@10 {kept_recall:.3f}; trained again: index {fresh.manifest['index_seconds']:.1f} s, "
            f"recall@10 {_recall(fresh, vectors, queries):.3f} (nprobe {settings.ivf_nprobe})"
        )
    print(f"load average {os.getloadavg()[0]:.1f} at the end; {os.cpu_count()} CPUs")
    return 0


def _inputs(vectors: np.ndarray) -> tuple:
    hashes = [hashlib.sha256(row.tobytes()).hexdigest() for row in vectors]
    songs = pd.DataFrame({"song_id": [f"s{i}" for i in range(len(vectors))], "text_sha256": hashes})
    return songs, vectors, SCHEME, KEY, {}


def _timed(label: str, work):
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    print(f"{label}: {time.perf_counter() - started:.2f} s wall, {time.process_time() - cpu:.2f} s CPU")
    return result


def _discovery(index: SongIndex, vector: np.ndarray) -> None:
    """One 'more like this' scoring pass, as before (a copy of every vector) and in place."""
    before = private_mib()
    started = time.perf_counter()
    every = np.asarray(all_vectors(index.faiss_index), dtype=np.float32)
    copy_mib = private_mib() - before
    copied = every @ vector
    copy_s = time.perf_counter() - started
    del every
    before = private_mib()
    started = time.perf_counter()
    in_place = cosine_to_all(index.faiss_index, vector)
    place_s, place_mib = time.perf_counter() - started, private_mib() - before
    assert np.allclose(copied, in_place, atol=1e-5)
    print(
        f"discovery, one vector against every song: copy then multiply {copy_s:.2f} s (+{copy_mib:.0f} MiB held for "
        f"it); in place {place_s:.2f} s (+{max(place_mib, 0):.0f} MiB)"
    )


def _recall(index: SongIndex, vectors: np.ndarray, queries: np.ndarray) -> float:
    truth = search_index(build_cosine_index(vectors, IndexPlan()), queries, 10)[1]
    found = search_index(index.faiss_index, queries, 10)[1]
    return float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)]))


if __name__ == "__main__":
    raise SystemExit(main())
