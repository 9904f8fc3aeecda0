"""Milvus at catalogue scale: Milvus Lite (in this process) against the FAISS IVF index Moodring builds, on the same
song-like vectors (bench/vectors.py) and real request embeddings, in one run.

For each Milvus index (the plan ``Settings`` picks at this size, and the others named): insert and index time,
memory and disk it adds, recall@10 against exact search and one-query latency (p50/p95) without a filter and with
two of Moodring's filters pushed down (a broad one and a narrow one), and the engine's deep fetch. FAISS IVF is
timed the way the engine uses it: top 10 unfiltered, and a filtered request as the engine answers it today (the
top 5% of the catalogue, then the filter's mask). The last table projects these figures to 10M and 100M songs on
a Milvus cluster (docs/scale-milvus.md explains the model).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np
import pandas as pd
import pyarrow as pa

from bench.queries import benchmark_queries
from bench.results_file import RESULTS_PATH, write_section
from bench.scale import anchor_vectors
from bench.timing import percentiles_ms, private_mib
from bench.vectors import song_like_chunks, song_like_vectors
from evaluation.tables import machine_description, markdown_table
from index_builder.build import describe_catalogue
from index_builder.cli_common import run_cli
from index_builder.embedding import Encoder
from index_builder.milvus_store import (
    INSERT_BATCH,
    MAX_FETCH,
    MilvusPlan,
    collection_schema,
    connect,
    filter_expression,
    index_params,
    milvus_plan_for,
    segment_rows_for,
    wait_for_index,
)
from index_builder.schema import NUMERIC_FEATURES
from index_builder.settings import PROJECT_ROOT, Settings
from index_builder.song_fields import credited_artists
from index_builder.vector_index import build_cosine_index, normalized, plan_for, search_index
from index_builder.vector_store import AllOf, FeatureIn, GenreIn, Not, Where, YearBetween

TOP_K = 10
TARGET_SIZE = 1_000_000
GENRES = 120
"""Synthetic genres, Zipf-distributed (the first is the most common), as a real catalogue's are."""
COLLECTION = "bench"
PROJECTED_SIZES = (10_000_000, 100_000_000)
NODE_MEMORY_GIB = 64
"""Query-node size the projection fills (a common cloud instance)."""
NODE_USABLE_SHARE = 0.7
"""Share of a query node's memory given to loaded segments (the rest: the process, queries, growth)."""


@dataclass(frozen=True)
class MilvusScaleOptions:
    """What to measure; the defaults are the full run, ``smoke()`` a seconds-long check of every path."""

    vectors: int = TARGET_SIZE
    anchors: int = 4_000
    """Songs of a synthetic catalogue embedded by the real model, which the song-like vectors blend."""
    queries: int = 200
    """Real request embeddings timed one at a time (and the recall sample)."""
    deep_queries: int = 10
    """Queries timed with the engine's deep fetch (the slow path)."""
    index_types: tuple[str, ...] = ("auto", "IVF_FLAT", "IVF_SQ8")
    """Milvus indexes measured in turn on the same collection (``auto``: the one ``Settings`` picks here)."""
    nprobe_share: float = Settings.milvus_nprobe_share
    faiss_nprobe: int = Settings.ivf_nprobe
    seed: int = 7

    @classmethod
    def smoke(cls) -> MilvusScaleOptions:
        """Tiny sizes for CI: every row of every table, in seconds; the figures mean nothing."""
        return cls(vectors=6_000, anchors=40, queries=12, deep_queries=2, index_types=("auto", "IVF_SQ8", "HNSW"))


@dataclass(frozen=True)
class Scalars:
    """The filtered fields of every synthetic song: year (0 = unknown), genre number, energy."""

    year: np.ndarray
    genre: np.ndarray
    energy: np.ndarray

    @classmethod
    def make(cls, count: int, seed: int) -> Scalars:
        rng = np.random.default_rng([seed, 99])
        year = rng.integers(1960, 2024, size=count).astype(np.int32)
        year[rng.random(count) < 0.02] = 0  # a few songs without a year
        weights = 1.0 / np.arange(1, GENRES + 1)
        genre = rng.choice(GENRES, size=count, p=weights / weights.sum()).astype(np.int16)
        return cls(year=year, genre=genre, energy=rng.random(count).astype(np.float32))


@dataclass(frozen=True)
class BenchFilter:
    """A filter as Moodring pushes it down, and the same filter as a mask for exact search and FAISS."""

    label: str
    where: Where | None
    mask: Callable[[Scalars, slice], np.ndarray]


FILTERS = (
    BenchFilter("none", None, lambda s, rows: np.ones(len(s.year[rows]), dtype=bool)),
    BenchFilter("2015 or later", YearBetween(2015, None), lambda s, rows: s.year[rows] >= 2015),
    BenchFilter(
        "genre 0 or 1, 2010-2014, not very high energy",
        AllOf((YearBetween(2010, 2014), GenreIn(("genre 0", "genre 1")), Not(FeatureIn("energy", ((0.8, None),))))),
        lambda s, rows: (s.year[rows] >= 2010) & (s.year[rows] <= 2014) & (s.genre[rows] <= 1) & (s.energy[rows] < 0.8),
    ),
)


@dataclass
class Searched:
    """One store and index answering one filter."""

    store: str
    filter: str
    share: float
    recall: float
    latency: list[float]
    short: float
    """Share of queries answered with fewer than 10 songs."""


@dataclass
class Built:
    """One index over the full-size vectors."""

    label: str
    describe: str
    insert_s: float
    index_s: float
    load_s: float
    memory_mib: float
    disk_mib: float
    deep_k: int = 0
    deep_latency: list[float] = field(default_factory=list)


@dataclass
class MilvusScaleReport:
    """Everything one run measured, and its tables."""

    machine: str
    options: MilvusScaleOptions
    scalar_bytes: float = 0.0
    """Loaded scalar fields per song (``song_field_bytes`` on the bundled catalogue)."""
    record_bytes: float = 0.0
    """The JSON record per song, memory-mapped rather than loaded on a server."""
    built: list[Built] = field(default_factory=list)
    searched: list[Searched] = field(default_factory=list)

    def sections(self) -> list[tuple[str, str]]:
        size = f"{self.options.vectors:,}"
        return [
            (f"Building at {size} vectors", self.build_table()),
            (f"Searching {size} vectors: top 10, one query at a time", self.search_table()),
            (f"The engine's deep fetch at {size} vectors", self.deep_table()),
            ("Projected to a Milvus cluster (computed from this run)", self.projection_table()),
        ]

    def build_table(self) -> str:
        rows = [[b.label, b.describe, f"{b.insert_s:.1f}", f"{b.index_s:.1f}", f"{b.load_s:.1f}",
                 f"{b.memory_mib:.0f}", f"{b.disk_mib:.0f}"] for b in self.built]  # fmt: skip
        headers = ["index", "plan", "insert + flush s", "index s", "load s", "memory added MiB", "disk MiB"]
        return markdown_table(headers, rows)

    def search_table(self) -> str:
        rows = []
        for s in self.searched:
            p50, p95 = percentiles_ms(s.latency)
            rows.append([s.store, s.filter, f"{s.share:.1%}", f"{s.recall:.3f}", f"{p50:.1f}", f"{p95:.1f}",
                         f"{s.short:.0%}"])  # fmt: skip
        headers = ["index", "filter", "songs passing", "recall@10 vs exact", "p50 ms", "p95 ms", "under 10 found"]
        return markdown_table(headers, rows)

    def deep_table(self) -> str:
        rows = []
        for b in self.built:
            if b.deep_latency:
                p50, p95 = percentiles_ms(b.deep_latency)
                rows.append([b.label, f"{b.deep_k:,}", f"{p50:.0f}", f"{p95:.0f}"])
        return markdown_table(["index", "songs fetched (filter 2015 or later)", "p50 ms", "p95 ms"], rows)

    def projection_table(self) -> str:
        rows = []
        per_vector = {
            b.label: b.disk_mib * 2**20 / self.options.vectors
            for b in self.built
            if b.disk_mib > 0 and "FLAT (exact)" not in b.describe  # a cluster of millions is never searched exactly
        }
        build_rate = {b.label: self.options.vectors / max(b.index_s, 1e-9) for b in self.built}
        for label, bytes_per_vector in per_vector.items():
            for songs in PROJECTED_SIZES:
                plan = cluster_plan(songs, bytes_per_vector, self.scalar_bytes, build_rate[label])
                rows.append([label, f"{songs:,}", f"{bytes_per_vector:,.0f}", f"{plan['replica_gib']:.0f}",
                             plan["nodes"], plan["shards"], f"{plan['build_h']:.1f}"])  # fmt: skip
        headers = ["index", "songs", "index bytes/vector (measured)", "GiB per replica", "64 GiB query nodes per "
                   "replica", "shards", "index build h on one core (measured rate)"]  # fmt: skip
        return markdown_table(headers, rows)

    def to_text(self) -> str:
        return "\n".join(f"{title}\n{table}\n" for title, table in self.sections())

    def to_markdown(self, command: str) -> str:
        fields = (
            f"Scalar fields a server loads: {self.scalar_bytes:.0f} bytes per song; the JSON record, kept "
            f"memory-mapped: {self.record_bytes:.0f} bytes (both averaged over the bundled catalogue)."
        )
        lines = ["## Milvus scale", "", f"`{command}` on {self.machine}.", "", _NOTE, "", fields, ""]
        for title, table in self.sections():
            lines += [f"### {title}", "", table, ""]
        return "\n".join(lines)


_NOTE = (
    "Vectors and queries as in the scale section (bench/vectors.py). Milvus Lite runs in the benchmark's process "
    "(pure Python over faiss-cpu), so its latency includes the gRPC round trip and Python result handling; a "
    "Milvus server answers from C++. Milvus Lite seals a segment at 128 MiB of inserts (about 43,000 songs) and "
    "indexes each on its own. Filters are pushed down as the engine sends them; FAISS answers a filtered request "
    "the way the engine does with the folder (top 5% of the catalogue, then the mask). Memory added: anonymous "
    "resident memory after the index loads, less before it was built (FAISS: the index alone). Disk: what the "
    "index adds to the Milvus Lite folder, the figure the projection takes per vector."
)


def cluster_plan(
    songs: int, index_bytes_per_vector: float, scalar_bytes: float, build_vectors_per_s: float
) -> dict[str, float | int]:
    """Memory, nodes, shards and build time for ``songs`` on a Milvus cluster, from measured per-song figures.

    Per replica: the index (``index_bytes_per_vector``) plus ``scalar_bytes`` of loaded scalar fields per song;
    query nodes of ``NODE_MEMORY_GIB`` with ``NODE_USABLE_SHARE`` for segments. Shards (DML channels): one per
    25 million songs, at least two, at most 16 (Milvus's limit), so that ingest runs in parallel. Build hours: at
    the measured single-core rate; index nodes divide it by their cores.
    """
    replica = songs * (index_bytes_per_vector + scalar_bytes) / 2**30
    nodes = math.ceil(replica / (NODE_MEMORY_GIB * NODE_USABLE_SHARE))
    shards = min(16, max(2, math.ceil(songs / 25_000_000)))
    return {"replica_gib": replica, "nodes": nodes, "shards": shards, "build_h": songs / build_vectors_per_s / 3600}


def run_milvus_scale(
    anchors: np.ndarray,
    queries: np.ndarray,
    options: MilvusScaleOptions,
    machine: str,
    workdir: Path | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> MilvusScaleReport:
    """Measure everything with song-like vectors around ``anchors`` and the request embeddings ``queries``."""
    say = on_progress or (lambda message: None)
    report = MilvusScaleReport(machine=machine, options=options)
    report.scalar_bytes, report.record_bytes = song_field_bytes(Settings())
    queries = normalized(queries)
    count = options.vectors
    scalars = Scalars.make(count, options.seed)
    say(f"Milvus scale: exact top 10 for {len(queries)} queries over {count:,} vectors")
    truth = _exact_truth(anchors, queries, scalars, options)
    deep_k = min(MAX_FETCH, count if count <= Settings.exact_search_limit else max(2000, count // 20))
    say("  FAISS IVF")
    _faiss(anchors, queries, scalars, truth, options, report, deep_k)
    gc.collect()
    with tempfile.TemporaryDirectory(prefix="moodring-milvus-scale-", dir=workdir) as folder:
        uri = str(Path(folder) / "bench.db")
        client = connect(uri)
        try:
            insert_s = _insert(client, uri, anchors, scalars, options, say)
            measured: set[MilvusPlan] = set()
            segment = segment_rows_for(uri, anchors.shape[1])
            for index_type in options.index_types:
                plan = milvus_plan_for(count, Settings.approximate_above, Settings.milvus_quantize_above,
                                       options.nprobe_share, segment, index_type)  # fmt: skip
                if plan in measured:
                    continue  # "auto" picked it already
                measured.add(plan)
                label = f"Milvus {plan.index_type}" + (" (Settings picks)" if index_type == "auto" else "")
                say(f"  {label}: {plan.describe()}")
                built = _index(client, uri, plan, label, insert_s)
                report.built.append(built)
                for bench_filter in FILTERS:
                    report.searched.append(_milvus_search(client, plan, label, bench_filter, queries, truth, scalars))
                built.deep_k = deep_k
                built.deep_latency = _milvus_deep(client, plan, queries[: options.deep_queries], deep_k, count)
                client.release_collection(COLLECTION)
                client.drop_index(COLLECTION, "vector")
                gc.collect()
        finally:
            client.close()
    return report


def _exact_truth(
    anchors: np.ndarray, queries: np.ndarray, scalars: Scalars, options: MilvusScaleOptions
) -> dict[str, np.ndarray]:
    """The exact top 10 rows per query for each filter (-1 where fewer pass), streaming over the vectors."""
    best = {f.label: (np.full((len(queries), TOP_K), -np.inf), np.full((len(queries), TOP_K), -1)) for f in FILTERS}
    start = 0
    for chunk in song_like_chunks(anchors, options.vectors, options.seed):
        rows = slice(start, start + len(chunk))
        scores = queries @ chunk.T
        for bench_filter in FILTERS:
            masked = np.where(bench_filter.mask(scalars, rows)[None, :], scores, -np.inf)
            old_scores, old_ids = best[bench_filter.label]
            merged = np.concatenate([old_scores, masked], axis=1)
            ids = np.concatenate([old_ids, np.broadcast_to(np.arange(rows.start, rows.stop), masked.shape)], axis=1)
            top = np.argsort(-merged, axis=1, kind="stable")[:, :TOP_K]
            best[bench_filter.label] = (np.take_along_axis(merged, top, 1), np.take_along_axis(ids, top, 1))
        start = rows.stop
    return {label: np.where(np.isfinite(s), i, -1) for label, (s, i) in best.items()}


def _faiss(
    anchors: np.ndarray,
    queries: np.ndarray,
    scalars: Scalars,
    truth: dict[str, np.ndarray],
    options: MilvusScaleOptions,
    report: MilvusScaleReport,
    deep_k: int,
) -> None:
    """FAISS IVF as Moodring builds it above ``approximate_above``, built and searched in this process."""
    gc.collect()
    before = private_mib()
    vectors = song_like_vectors(anchors, options.vectors, options.seed)
    plan = plan_for(options.vectors, 0, options.faiss_nprobe)
    started = time.perf_counter()
    index = build_cosine_index(vectors, plan)
    index_s = time.perf_counter() - started
    del vectors
    gc.collect()  # what is left is the index
    label = f"FAISS {plan.factory} ({plan.search_params})"
    report.built.append(Built(label, "folder plan, one file", 0.0, index_s, 0.0, private_mib() - before, 0.0))
    everything = slice(0, options.vectors)
    for bench_filter in FILTERS:
        mask = bench_filter.mask(scalars, everything)
        latency, found = [], []
        for row in range(len(queries)):
            started = time.perf_counter()
            if bench_filter.where is None:
                ids = search_index(index, queries[row : row + 1], TOP_K)[1][0]
            else:  # the engine's way with the folder: a deep fetch, then the mask
                ids = search_index(index, queries[row : row + 1], deep_k)[1][0]
                ids = ids[(ids >= 0) & mask[np.maximum(ids, 0)]][:TOP_K]
            latency.append(time.perf_counter() - started)
            found.append(ids)
        report.searched.append(_figures(label, bench_filter, mask, found, truth, latency))
    del index
    gc.collect()


def _insert(
    client: object, uri: str, anchors: np.ndarray, scalars: Scalars, options: MilvusScaleOptions, say: Callable
) -> float:
    """Write every song-like vector with its filtered fields into the collection, in Moodring's schema; seconds."""
    say(f"  inserting {options.vectors:,} vectors into Milvus Lite")
    client.create_collection(COLLECTION, schema=collection_schema(anchors.shape[1], ("energy",), [[]]))
    started = time.perf_counter()
    start = 0
    for chunk in song_like_chunks(anchors, options.vectors, options.seed):
        for offset in range(0, len(chunk), INSERT_BATCH):
            rows = range(start + offset, start + min(len(chunk), offset + INSERT_BATCH))
            client.insert(COLLECTION, [_row(r, chunk[r - start], scalars) for r in rows])
        start += len(chunk)
    client.flush(COLLECTION)
    return time.perf_counter() - started


def _row(row: int, vector: np.ndarray, scalars: Scalars) -> dict[str, object]:
    year = int(scalars.year[row])
    return {"row": row, "vector": vector.tolist(), "text_sha256": "", "year": year or None,
            "genre": f"genre {int(scalars.genre[row])}", "credited": [], "energy": float(scalars.energy[row]),
            "song": {}}  # fmt: skip


def _index(client: object, uri: str, plan: MilvusPlan, label: str, insert_s: float) -> Built:
    """Build and load the vector index ``plan`` names; time it and note the memory and disk it adds."""
    gc.collect()
    disk_before = _disk_bytes(uri)
    memory_before = private_mib()
    started = time.perf_counter()
    client.create_index(COLLECTION, index_params(client, plan), sync=False)
    count = int(client.get_collection_stats(COLLECTION)["row_count"])
    wait_for_index(lambda method, *a, **k: getattr(client, method)(*a, **k), COLLECTION, count)
    index_s = time.perf_counter() - started
    started = time.perf_counter()
    client.load_collection(COLLECTION)
    load_s = time.perf_counter() - started
    gc.collect()
    memory = private_mib() - memory_before
    disk = (_disk_bytes(uri) - disk_before) / 2**20
    return Built(label, plan.describe(), insert_s, index_s, load_s, memory, disk)


def _milvus_search(
    client: object,
    plan: MilvusPlan,
    label: str,
    bench_filter: BenchFilter,
    queries: np.ndarray,
    truth: dict[str, np.ndarray],
    scalars: Scalars,
) -> Searched:
    count = len(scalars.year)
    expression = filter_expression(bench_filter.where, {"energy"})
    latency, found = [], []
    for query in queries:
        started = time.perf_counter()
        hits = client.search(COLLECTION, data=[query.tolist()], limit=TOP_K, filter=expression,
                             output_fields=["row"], search_params=plan.search_params_for(TOP_K, count))  # fmt: skip
        latency.append(time.perf_counter() - started)
        found.append(np.array([int(hit["row"]) for hit in hits[0]], dtype=np.int64))
    mask = bench_filter.mask(scalars, slice(0, count))
    return _figures(label, bench_filter, mask, found, truth, latency)


def _milvus_deep(client: object, plan: MilvusPlan, queries: np.ndarray, k: int, count: int) -> list[float]:
    """Seconds per engine-style candidate fetch: ``k`` songs passing the broad filter."""
    expression = filter_expression(FILTERS[1].where, {"energy"})
    seconds = []
    for query in queries:
        started = time.perf_counter()
        client.search(COLLECTION, data=[query.tolist()], limit=k, filter=expression, output_fields=["row"],
                      search_params=plan.search_params_for(k, count))  # fmt: skip
        seconds.append(time.perf_counter() - started)
    return seconds


def _figures(
    label: str,
    bench_filter: BenchFilter,
    mask: np.ndarray,
    found: list[np.ndarray],
    truth: dict[str, np.ndarray],
    latency: list[float],
) -> Searched:
    exact = truth[bench_filter.label]
    recalls = []
    for got, want in zip(found, exact, strict=True):
        wanted = set(want[want >= 0].tolist())
        recalls.append(len(wanted & set(got.tolist())) / max(len(wanted), 1))
    short = float(np.mean([len(got) < min(TOP_K, int(mask.sum())) for got in found]))
    return Searched(label, bench_filter.label, float(mask.mean()), float(np.mean(recalls)), latency, short)


def song_field_bytes(settings: Settings) -> tuple[float, float]:
    """Bytes per song of the scalar fields a server loads (row, year, genre, credited names, feature values,
    description hash, with their offsets) and of the JSON record, averaged over ``settings``' catalogue."""
    songs = describe_catalogue(settings).songs
    features = [name for name in NUMERIC_FEATURES if name in songs]
    credited = [credited_artists(a, t) for a, t in zip(songs["artist"], songs["title"], strict=True)]
    genre = songs["genre"].astype(str).map(lambda g: len(g.encode()) + 8)
    names = pd.Series([sum(len(n.encode()) + 8 for n in c) + 8 for c in credited])
    scalars = 8 + 8 + genre.mean() + names.mean() + 8 * len(features) + 64 + 8
    records = pa.Table.from_pandas(songs, preserve_index=False).to_pylist()
    record = float(np.mean([len(json.dumps(r, default=str).encode()) for r in records]))
    return float(scalars), record


def _disk_bytes(path: str) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def main(argv: list[str] | None = None) -> int:
    """Run the Milvus scale benchmark, print its tables, write them into bench/RESULTS.md."""
    parser = argparse.ArgumentParser(prog="python -m bench.milvus_scale", description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=int, default=TARGET_SIZE, help="vectors (default 1000000)")
    parser.add_argument("--queries", type=int, default=200, help="request embeddings timed (default 200)")
    parser.add_argument("--anchors", type=int, default=4000, help="real song embeddings blended (default 4000)")
    parser.add_argument("--hnsw", action="store_true", help="also build and measure an HNSW index (slow to build)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks every path in seconds, times nothing")
    parser.add_argument("--results", type=Path, help="Markdown file (default: bench/RESULTS.md; smoke: .moodring/)")
    parser.add_argument("--model-path", type=Path, help="local all-mpnet-base-v2 folder (default: the PyPI parts)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    settings = Settings.from_env(model_path=args.model_path)
    if args.smoke:
        options = MilvusScaleOptions.smoke()
    else:
        types = ("auto", "IVF_FLAT", "IVF_SQ8", "HNSW") if args.hnsw else ("auto", "IVF_FLAT", "IVF_SQ8")
        options = MilvusScaleOptions(vectors=args.vectors, anchors=args.anchors, queries=args.queries,
                                     index_types=types, nprobe_share=settings.milvus_nprobe_share,
                                     faiss_nprobe=settings.ivf_nprobe)  # fmt: skip
    say = (lambda message: None) if args.quiet else _say
    faiss.omp_set_num_threads(max(1, settings.faiss_threads))
    encoder = Encoder.from_settings(settings)
    anchors = anchor_vectors(settings, encoder, options.anchors, say)
    queries = np.stack([encoder.encode_query(text) for text in benchmark_queries(options.queries, options.seed)])
    versions = f"pymilvus {_version('pymilvus')}, milvus-lite {_version('milvus-lite')}, faiss {faiss.__version__}"
    machine = (
        f"{machine_description()}; {versions}, on {faiss.omp_get_max_threads()} FAISS thread(s); load average "
        f"{os.getloadavg()[0]:.1f} at the start; anchors and queries by the {encoder.description}"
    )
    scratch = PROJECT_ROOT / ".moodring"
    scratch.mkdir(exist_ok=True)
    free = shutil.disk_usage(scratch).free / 2**30
    say(f"Milvus scale at {options.vectors:,} vectors ({free:.0f} GiB free for the Milvus Lite folder)")
    report = run_milvus_scale(anchors, queries, options, machine, workdir=scratch, on_progress=say)
    print(report.to_text())
    out = args.results or (scratch / "bench-milvus-smoke.md" if args.smoke else RESULTS_PATH)
    command = " ".join(["python -m bench.milvus_scale", *map(shlex.quote, sys.argv[1:] if argv is None else argv)])
    write_section(out, "milvus", report.to_markdown(command))
    say(f"Wrote {out}")
    return 0


def _version(package: str) -> str:
    from importlib import metadata

    return metadata.version(package)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    run_cli(main)
