"""The speed benchmark: index build rate, end-to-end query latency by stage, peak memory, FAISS at a million.

Every Moodring number is measured next to the plain pipeline it replaces, in the same run on the same texts:
sentence-transformers ``encode`` plus a FAISS ``IndexFlatIP``, with no parsing, filters or explanations.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from assistant.engine import SearchEngine, validate_query
from bench.queries import benchmark_queries
from bench.synthetic import write_synthetic_catalogue
from bench.timing import TimedEncoder, TimedIndex, peak_rss_mb, percentiles_ms
from evaluation.tables import markdown_table
from index_builder.build import build_index
from index_builder.embedding import Encoder
from index_builder.settings import BUNDLED_CATALOGUE, Settings
from index_builder.vector_index import all_vectors, normalized

STAGES = ("parse", "embed", "FAISS search", "filter, rank, explain", "total")
TOP_K = 10
WARM_UP = 3
"""Requests answered before timing starts (the first one embeds the bucket words used in explanations)."""


@dataclass(frozen=True)
class BenchOptions:
    """What to measure; the defaults are the full benchmark, ``smoke()`` a seconds-long check of every path."""

    songs: int = 20_000
    """Songs in the synthetic catalogue."""
    queries: int = 200
    """Distinct requests timed at each catalogue size (after a short warm-up)."""
    million_size: int = 1_000_000
    """Synthetic vectors for the FAISS-only measurement."""
    plain_sample: int = 2_000
    """Texts the plain pipeline embeds to measure its rate (all of them when the catalogue is smaller)."""
    bundled_rows: int | None = None
    """Use only the first rows of the bundled catalogue (smoke runs); None uses all of it."""
    nprobes: tuple[int, ...] = (8, 16, 32, 64)
    """IVF lists searched per query, one result row each."""
    noise: float = 1.0
    """Length of the random offset added to each song vector to make the million (cosine to it about 0.7)."""
    seed: int = 7

    @classmethod
    def smoke(cls) -> BenchOptions:
        """Tiny sizes for CI: every row of every table, in seconds."""
        return cls(songs=40, queries=12, million_size=20_000, plain_sample=40, bundled_rows=40, nprobes=(4, 16))


@dataclass
class BuildResult:
    """Index build times for one catalogue, Moodring's and the plain pipeline's."""

    label: str
    songs: int
    embed_s: float
    total_s: float
    plain_texts: int
    plain_embed_s: float
    plain_total_s: float


@dataclass
class LatencyResult:
    """Per-request seconds for one catalogue: each Moodring stage, and the plain pipeline end to end."""

    label: str
    songs: int
    stages: dict[str, list[float]]
    plain: list[float]


@dataclass
class FaissResult:
    """One FAISS index over the synthetic million: build time, size, single-query latency and recall@10."""

    index: str
    vectors: int
    build_s: float
    size_mb: float
    latency: list[float]
    recall: float


@dataclass
class BenchReport:
    """Everything one benchmark run measured, and its tables."""

    machine: str
    options: BenchOptions
    model_load_s: float | None = None
    builds: list[BuildResult] = field(default_factory=list)
    latencies: list[LatencyResult] = field(default_factory=list)
    faiss: list[FaissResult] = field(default_factory=list)
    peak_rss: list[tuple[str, float]] = field(default_factory=list)

    def build_table(self) -> str:
        """Songs per second for the embedding step and the whole build, against the plain pipeline."""
        rows = []
        for b in self.builds:
            embed, total = b.songs / b.embed_s, b.songs / b.total_s
            plain_embed, plain_total = b.plain_texts / b.plain_embed_s, b.plain_texts / b.plain_total_s
            rows.append(
                [
                    b.label,
                    b.songs,
                    f"{embed:.1f}",
                    f"{total:.1f}",
                    b.plain_texts,
                    f"{plain_embed:.1f}",
                    f"{plain_total:.1f}",
                    f"{embed / plain_embed:.2f}",
                    f"{total / plain_total:.2f}",
                ]
            )
        headers = ["catalogue", "songs", "embed songs/s", "build songs/s", "plain texts", "plain embed songs/s",
                   "plain build songs/s", "embed ratio", "build ratio"]  # fmt: skip
        return markdown_table(headers, rows)

    def latency_table(self) -> str:
        """End-to-end p50/p95 per request against the plain pipeline (ratio above 1: Moodring is slower)."""
        rows = []
        for lat in self.latencies:
            p50, p95 = percentiles_ms(lat.stages["total"])
            plain50, plain95 = percentiles_ms(lat.plain)
            rows.append(
                [
                    lat.label,
                    lat.songs,
                    len(lat.plain),
                    f"{p50:.1f}",
                    f"{p95:.1f}",
                    f"{plain50:.1f}",
                    f"{plain95:.1f}",
                    f"{p50 / plain50:.2f}",
                    f"{p95 / plain95:.2f}",
                ]
            )
        headers = ["catalogue", "songs", "requests", "p50 ms", "p95 ms", "plain p50 ms", "plain p95 ms",
                   "p50 ratio", "p95 ratio"]  # fmt: skip
        return markdown_table(headers, rows)

    def stage_table(self) -> str:
        """p50 / p95 milliseconds of each stage of a request."""
        rows = []
        for lat in self.latencies:
            cells = []
            for stage in STAGES:
                p50, p95 = percentiles_ms(lat.stages[stage])
                cells.append(f"{p50:.2f} / {p95:.2f}")
            rows.append([lat.label, *cells])
        return markdown_table(["catalogue", *[f"{s} (p50 / p95 ms)" for s in STAGES]], rows)

    def faiss_table(self) -> str:
        """FAISS alone over the synthetic million, one query at a time, against the exact flat index."""
        flat50 = percentiles_ms(self.faiss[0].latency)[0] if self.faiss else float("nan")
        rows = []
        for f in self.faiss:
            p50, p95 = percentiles_ms(f.latency)
            rows.append(
                [
                    f.index,
                    f.vectors,
                    f"{f.build_s:.1f}",
                    f"{f.size_mb:.0f}",
                    f"{p50:.2f}",
                    f"{p95:.2f}",
                    f"{f.recall:.3f}",
                    f"{p50 / flat50:.3f}",
                ]
            )
        headers = ["index", "vectors", "build s", "size MiB", "p50 ms", "p95 ms", "recall@10 vs exact",
                   "p50 ratio to flat"]  # fmt: skip
        return markdown_table(headers, rows)

    def memory_table(self) -> str:
        """The process's peak resident memory after each phase."""
        return markdown_table(["after", "peak RSS MiB"], [[phase, f"{mb:.0f}"] for phase, mb in self.peak_rss])

    def sections(self) -> list[tuple[str, str]]:
        """(title, table) pairs in reading order."""
        return [
            ("Index build (songs per second; ratio above 1: Moodring is faster)", self.build_table()),
            ("Request latency, end to end", self.latency_table()),
            ("Request latency by stage", self.stage_table()),
            (f"FAISS alone at {self.options.million_size:,} vectors, one query at a time", self.faiss_table()),
            ("Peak memory", self.memory_table()),
        ]

    def to_dict(self) -> dict[str, object]:
        """Every measurement, JSON-ready (kept beside the Markdown so tables can be redrawn without a rerun)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchReport:
        """The report ``to_dict`` wrote."""
        return cls(
            machine=data["machine"],
            options=BenchOptions(**{**data["options"], "nprobes": tuple(data["options"]["nprobes"])}),
            model_load_s=data.get("model_load_s"),
            builds=[BuildResult(**b) for b in data["builds"]],
            latencies=[LatencyResult(**lat) for lat in data["latencies"]],
            faiss=[FaissResult(**f) for f in data["faiss"]],
            peak_rss=[(phase, mb) for phase, mb in data["peak_rss"]],
        )

    def to_text(self) -> str:
        """Every table, for the terminal."""
        lines = [self.machine]
        if self.model_load_s is not None:
            lines.append(f"model load {self.model_load_s:.1f} s")
        for title, table in self.sections():
            lines += ["", title + ":", "", table]
        return "\n".join(lines)

    def to_markdown(self, command: str) -> str:
        """The RESULTS.md file."""
        lines = ["# Speed", "", f"`{command}` on {self.machine}.", ""]
        if self.model_load_s is not None:
            lines += [f"Model load: {self.model_load_s:.1f} s.", ""]
        for title, table in self.sections():
            lines += [f"## {title}", "", table, ""]
        return "\n".join(lines)


def run_bench(
    encoder: Encoder,
    options: BenchOptions,
    workdir: Path,
    machine: str,
    on_progress: Callable[[str], None] | None = None,
    show_progress: bool = False,
) -> BenchReport:
    """Measure both catalogue sizes and the FAISS million; index folders and CSVs go under ``workdir``."""
    say = on_progress or (lambda message: None)
    workdir = Path(workdir)
    report = BenchReport(machine=machine, options=options)
    queries = benchmark_queries(options.queries, options.seed)
    _plain_encode(encoder, queries[:WARM_UP] * 4, 4)  # the first model calls of a process are slow: not counted

    bundled = BUNDLED_CATALOGUE
    label = "bundled"
    if options.bundled_rows is not None:
        bundled = head_csv(BUNDLED_CATALOGUE, workdir / "bundled-head.csv", options.bundled_rows)
        label = f"bundled, first {options.bundled_rows} rows"
    say(f"Bench: {label} catalogue")
    build, latency, _, _ = bench_catalogue(
        label, bundled, encoder, queries, options, workdir / "bundled", say, show_progress
    )
    report.builds.append(build)
    report.latencies.append(latency)
    report.peak_rss.append((f"{label} ({build.songs} songs)", peak_rss_mb()))

    say(f"Bench: synthetic catalogue of {options.songs} songs")
    synthetic = write_synthetic_catalogue(workdir / f"synthetic-{options.songs}.csv", options.songs, options.seed)
    build, latency, vectors, query_vectors = bench_catalogue(
        "synthetic", synthetic, encoder, queries, options, workdir / "synthetic", say, show_progress
    )
    report.builds.append(build)
    report.latencies.append(latency)
    report.peak_rss.append((f"synthetic ({build.songs} songs)", peak_rss_mb()))

    say(f"Bench: FAISS alone at {options.million_size} vectors")
    report.faiss = bench_faiss(vectors, query_vectors, options, say)
    report.peak_rss.append((f"FAISS at {options.million_size} vectors", peak_rss_mb()))
    return report


def bench_catalogue(
    label: str,
    catalogue: Path,
    encoder: Encoder,
    queries: list[str],
    options: BenchOptions,
    workdir: Path,
    say: Callable[[str], None],
    show_progress: bool = False,
) -> tuple[BuildResult, LatencyResult, np.ndarray, np.ndarray]:
    """Build a fresh index through the real pipeline, then time requests; also returns song and query vectors."""
    settings = Settings(catalogue_path=catalogue, index_root=workdir / "indexes", show_progress=show_progress)
    started = time.perf_counter()
    index = build_index(settings, encoder)
    total_s = time.perf_counter() - started
    embed_s = float(index.manifest["embed_seconds"])
    say(f"  built {len(index)} songs in {total_s:.1f} s ({embed_s:.1f} s embedding); plain pipeline next")

    texts = index.songs["description"].tolist()
    if len(texts) > options.plain_sample:
        picks = np.random.default_rng(options.seed).choice(len(texts), options.plain_sample, replace=False)
        texts = [texts[i] for i in picks]
    started = time.perf_counter()
    plain_vectors = _plain_encode(encoder, texts, settings.batch_size)
    plain_embed_s = time.perf_counter() - started
    faiss.IndexFlatIP(plain_vectors.shape[1]).add(plain_vectors)
    plain_total_s = time.perf_counter() - started
    build = BuildResult(label, len(index), embed_s, total_s, len(texts), plain_embed_s, plain_total_s)

    song_vectors = all_vectors(index.faiss_index)
    plain_index = faiss.IndexFlatIP(song_vectors.shape[1])
    plain_index.add(song_vectors)
    timed_encoder, timed_index = TimedEncoder(encoder), TimedIndex(index.faiss_index)
    engine = SearchEngine(dataclasses.replace(index, faiss_index=timed_index), timed_encoder, settings)  # type: ignore[arg-type]
    for text in queries[:WARM_UP]:
        engine.search(text, TOP_K)
    stages: dict[str, list[float]] = {stage: [] for stage in STAGES}
    plain: list[float] = []
    query_vectors = []
    say(f"  timing {len(queries)} requests")
    for text in queries:
        encoder.clear_query_cache()
        timed_encoder.seconds = timed_index.seconds = 0.0
        started = time.perf_counter()
        intent = engine.understand(validate_query(text))
        parsed = time.perf_counter()
        engine.search_intent(intent, TOP_K)
        done = time.perf_counter()
        stages["parse"].append(parsed - started)
        stages["embed"].append(timed_encoder.seconds)
        stages["FAISS search"].append(timed_index.seconds)
        stages["filter, rank, explain"].append(done - parsed - timed_encoder.seconds - timed_index.seconds)
        stages["total"].append(done - started)

        started = time.perf_counter()
        vector = _plain_encode(encoder, [text], 1)
        plain_index.search(vector, TOP_K)
        plain.append(time.perf_counter() - started)
        query_vectors.append(vector[0])
    encoder.clear_query_cache()
    return build, LatencyResult(label, len(index), stages, plain), song_vectors, np.stack(query_vectors)


def bench_faiss(
    anchors: np.ndarray, queries: np.ndarray, options: BenchOptions, say: Callable[[str], None]
) -> list[FaissResult]:
    """Exact ``IndexFlatIP`` against ``IndexIVFFlat`` on ``million_size`` vectors scattered around song vectors.

    The vectors are real song embeddings plus random offsets, so they keep the model's geometry (pure random
    vectors would have no neighbourhoods for an IVF index to find); the queries are real request embeddings.
    """
    total, dimension = options.million_size, anchors.shape[1]
    chunk = 50_000
    queries = normalized(queries)

    def block(start: int, stop: int) -> np.ndarray:
        rng = np.random.default_rng([options.seed, start])
        picks = rng.integers(len(anchors), size=stop - start)
        offsets = rng.standard_normal((stop - start, dimension), dtype=np.float32)
        return normalized(anchors[picks] + offsets * np.float32(options.noise / math.sqrt(dimension)))

    blocks = [(start, min(start + chunk, total)) for start in range(0, total, chunk)]
    flat = faiss.IndexFlatIP(dimension)
    build_s = 0.0
    for start, stop in blocks:
        vectors = block(start, stop)
        started = time.perf_counter()
        flat.add(vectors)
        build_s += time.perf_counter() - started
    say("  exact search")
    latency = _single_query_latency(flat, queries)
    truth = flat.search(queries, TOP_K)[1]
    results = [FaissResult("IndexFlatIP (exact)", total, build_s, total * dimension * 4 / 2**20, latency, 1.0)]
    del flat

    lists = _ivf_lists(total)
    quantizer = faiss.IndexFlatIP(dimension)
    ivf = faiss.IndexIVFFlat(quantizer, dimension, lists, faiss.METRIC_INNER_PRODUCT)
    say(f"  training IVF with {lists} lists")
    training = block(0, min(total, 40 * lists))
    started = time.perf_counter()
    ivf.train(training)
    build_s = time.perf_counter() - started
    del training
    for start, stop in blocks:
        vectors = block(start, stop)
        started = time.perf_counter()
        ivf.add(vectors)
        build_s += time.perf_counter() - started
    size_mb = (total * (dimension * 4 + 8) + lists * dimension * 4) / 2**20
    for nprobe in options.nprobes:
        say(f"  IVF search, nprobe {nprobe}")
        ivf.nprobe = nprobe
        latency = _single_query_latency(ivf, queries)
        found = ivf.search(queries, TOP_K)[1]
        recall = float(np.mean([len(set(f) & set(t)) / TOP_K for f, t in zip(found, truth, strict=True)]))
        results.append(
            FaissResult(f"IndexIVFFlat, {lists} lists, nprobe {nprobe}", total, build_s, size_mb, latency, recall)
        )
    return results


def _single_query_latency(index: faiss.Index, queries: np.ndarray) -> list[float]:
    seconds = []
    for row in range(len(queries)):
        started = time.perf_counter()
        index.search(queries[row : row + 1], TOP_K)
        seconds.append(time.perf_counter() - started)
    return seconds


def _ivf_lists(total: int) -> int:
    """About sqrt(n) lists, a power of two (1,024 at a million)."""
    return max(16, 2 ** round(math.log2(math.sqrt(total))))


def _plain_encode(encoder: Encoder, texts: list[str], batch_size: int) -> np.ndarray:
    """The plain pipeline's embedding: one sentence-transformers call, normalized, no caching or sorting."""
    return encoder.plain.embed(texts, batch_size)


def head_csv(source: Path, target: Path, rows: int) -> Path:
    """The first ``rows`` rows of a catalogue CSV, same columns, as a new file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    lines = Path(source).read_bytes().splitlines(keepends=True)  # bytes as they are: the loader does the repairs
    target.write_bytes(b"".join(lines[: rows + 1]))
    return target
