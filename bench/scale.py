"""FAISS at catalogue scale: the exact flat index (baseline) against the index Moodring builds above
``Settings.approximate_above``, on song-like vectors made from real song embeddings (see bench/vectors.py).

Measures, in one run: exact search latency by catalogue size (where the threshold comes from), then at the full
size for both indexes: build time, recall@10 against exact search, one-query search latency (top 10, and the
engine's deep fetch), file size, and load time and memory with and without memory-mapping.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

from bench.queries import benchmark_queries
from bench.results_file import RESULTS_PATH, write_section
from bench.synthetic import write_synthetic_catalogue
from bench.timing import percentiles_ms, private_mib
from bench.vectors import song_like_chunks, song_like_vectors
from evaluation.tables import machine_description, markdown_table
from index_builder.build import open_index
from index_builder.cli_common import run_cli
from index_builder.embedding import Encoder
from index_builder.model_store import sha256_of_file
from index_builder.settings import PROJECT_ROOT, Settings
from index_builder.vector_index import (
    IndexPlan,
    all_vectors,
    apply_search_params,
    build_cosine_index,
    normalized,
    plan_for,
    read_faiss,
    search_index,
    write_faiss,
)

TOP_K = 10
RECALL_TARGET = 0.95
LATENCY_TARGET_MS = 60.0
TARGET_SIZE = 1_000_000
ANCHOR_SEED = 11


@dataclass(frozen=True)
class ScaleOptions:
    """What to measure; the defaults are the full run, ``smoke()`` a seconds-long check of every path."""

    vectors: int = TARGET_SIZE
    """Song-like vectors in the full-size comparison."""
    anchors: int = 4_000
    """Songs of a synthetic catalogue embedded by the real model, which the song-like vectors blend."""
    queries: int = 200
    """Real request embeddings timed one at a time (and the recall sample)."""
    sweep: tuple[int, ...] = (50_000, 100_000, 150_000, 200_000, 300_000)
    """Catalogue sizes at which exact search is timed, to place the threshold."""
    deep_queries: int = 30
    """Queries timed with the engine's deep fetch (top 5% of the catalogue), the slow path."""
    approximate_above: int = Settings.approximate_above
    """Moodring's threshold (Settings.approximate_above), shown next to the sweep."""
    nprobe: int = Settings.ivf_nprobe
    """The lists the approximate index searches (Settings.ivf_nprobe)."""
    nprobe_alternatives: tuple[float, ...] = (0.5, 0.75, 1.5)
    """Other nprobe values timed for context, as multiples of ``nprobe``."""
    search_threads: int = 1
    """FAISS threads while searches are timed. One: a request per core, as a server answering several at once
    runs; two threads speed the exact index up on an idle machine and slow it down on a busy one (the IVF
    search of one query runs on one thread either way)."""
    seed: int = 7

    @classmethod
    def smoke(cls, approximate_above: int, nprobe: int) -> ScaleOptions:
        """Tiny sizes for CI: every row of every table, in seconds; the figures mean nothing."""
        return cls(vectors=20_000, anchors=40, queries=20, sweep=(5_000, 10_000), deep_queries=3,
                   approximate_above=approximate_above, nprobe=nprobe)  # fmt: skip


@dataclass
class IndexFigures:
    """One index over the full-size vectors."""

    label: str
    plan: IndexPlan
    build_s: float
    file_mib: float
    recall: float
    latency: list[float]
    deep_latency: list[float]
    load_s: float = float("nan")
    load_rss_mib: float = float("nan")
    mmap_load_s: float = float("nan")
    mmap_rss_mib: float = float("nan")
    mmap_rss_after_search_mib: float = float("nan")
    checksum_s: float = float("nan")


@dataclass
class Target:
    """One target of issue #8 with the measured figure and the exact baseline."""

    name: str
    measured: str
    baseline: str
    passed: bool


@dataclass
class ScaleReport:
    """Everything one scale run measured, and its tables."""

    machine: str
    options: ScaleOptions
    sweep: list[tuple[int, str, list[float]]] = field(default_factory=list)
    indexes: list[IndexFigures] = field(default_factory=list)
    alternatives: list[tuple[str, float, list[float]]] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)

    def sections(self) -> list[tuple[str, str]]:
        """(title, Markdown table) for each table."""
        size = f"{self.options.vectors:,}"
        return [
            ("Targets", self.target_table()),
            ("Exact search by catalogue size (where the threshold comes from)", self.sweep_table()),
            (f"Exact and approximate at {size} vectors", self.index_table()),
            (f"Loading the index at {size} vectors", self.load_table()),
            (f"Other nprobe values at {size} vectors", self.alternatives_table()),
        ]

    def target_table(self) -> str:
        rows = [[t.name, t.measured, t.baseline, "PASS" if t.passed else "FAIL"] for t in self.targets]
        return markdown_table(["target", "measured", "exact flat (baseline)", "result"], rows)

    def sweep_table(self) -> str:
        rows = []
        for songs, kind, seconds in self.sweep:
            p50, p95 = percentiles_ms(seconds)
            rows.append([songs, kind, f"{p50:.2f}", f"{p95:.2f}"])
        return markdown_table(["songs", "Moodring builds", "exact p50 ms", "exact p95 ms"], rows)

    def index_table(self) -> str:
        rows = []
        for f in self.indexes:
            p50, p95 = percentiles_ms(f.latency)
            deep50, _ = percentiles_ms(f.deep_latency)
            rows.append([f.label, f"{f.build_s:.1f}", f"{f.file_mib:.0f}", f"{f.recall:.3f}", f"{p50:.2f}",
                         f"{p95:.2f}", f"{deep50:.1f}"])  # fmt: skip
        deep = f"deep fetch p50 ms (top {_deep_k(self.options.vectors):,})"
        headers = ["index", "build s", "file MiB", "recall@10 vs exact", "p50 ms", "p95 ms", deep]
        return markdown_table(headers, rows)

    def load_table(self) -> str:
        rows = [
            [f.label, f"{f.load_s * 1000:.0f}", f"{f.load_rss_mib:.0f}", f"{f.mmap_load_s * 1000:.1f}",
             f"{f.mmap_rss_mib:.0f}", f"{f.mmap_rss_after_search_mib:.0f}", f"{f.checksum_s:.1f}"]
            for f in self.indexes
        ]  # fmt: skip
        headers = ["index", "read ms", "private MiB after read", "mmap read ms", "private MiB after mmap read",
                   "private MiB after 10 searches (mmap)", "checksum s (load_index checks it)"]  # fmt: skip
        return markdown_table(headers, rows)

    def alternatives_table(self) -> str:
        rows = []
        for params, recall, seconds in self.alternatives:
            p50, p95 = percentiles_ms(seconds)
            rows.append([params, f"{recall:.3f}", f"{p50:.2f}", f"{p95:.2f}"])
        return markdown_table(["search parameters", "recall@10 vs exact", "p50 ms", "p95 ms"], rows)

    def to_text(self) -> str:
        """The tables as plain text for the terminal."""
        return "\n".join(f"{title}\n{table}\n" for title, table in self.sections())

    def to_markdown(self, command: str) -> str:
        """The tables as a Markdown section."""
        lines = ["## Scale", "", f"`{command}` on {self.machine}.", "", _VECTORS_NOTE, ""]
        for title, table in self.sections():
            lines += [f"### {title}", "", table, ""]
        return "\n".join(lines)


_VECTORS_NOTE = (
    "Vectors: blends of two real song embeddings (4,000 songs of a synthetic catalogue, embedded by the model) "
    "plus a random offset, normalized; bench/vectors.py says how that was calibrated against real embeddings. "
    "Queries: real request embeddings. Latency: one query at a time, top 10; the deep fetch is what the engine "
    "asks for before filtering (top 5% of the catalogue). Private MiB: anonymous resident memory (RssAnon) the "
    "load adds; a memory-mapped index lives in the page cache instead, shared by every process that maps it. "
    "load_index also checks the file's sha256, which reads it once (checksum column)."
)


def run_scale(
    anchors: np.ndarray,
    queries: np.ndarray,
    options: ScaleOptions,
    machine: str,
    workdir: Path | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> ScaleReport:
    """Measure everything with song-like vectors around ``anchors`` and the request embeddings ``queries``."""
    say = on_progress or (lambda message: None)
    report = ScaleReport(machine=machine, options=options)
    queries = normalized(queries)
    with tempfile.TemporaryDirectory(prefix="moodring-scale-", dir=workdir) as folder:
        say("Scale: exact search by catalogue size")
        for songs in options.sweep:
            index = faiss.IndexFlatIP(anchors.shape[1])
            for chunk in song_like_chunks(anchors, songs, options.seed):
                index.add(chunk)
            kind = plan_for(songs, options.approximate_above, options.nprobe)
            latency = _latency(index, queries, options.search_threads)
            report.sweep.append((songs, "exact" if kind.exact else kind.factory, latency))
            del index
        say(f"Scale: {options.vectors:,} song-like vectors")
        vectors = song_like_vectors(anchors, options.vectors, options.seed)
        approximate = plan_for(options.vectors, 0, options.nprobe)
        flat, truth = _measure(IndexPlan(), "IndexFlatIP (exact)", vectors, queries, None, options, Path(folder), say)
        ivf, _ = _measure(approximate, approximate.factory, vectors, queries, truth, options, Path(folder), say)
        del vectors
        gc.collect()
        report.indexes = [flat, ivf]
        ivf_file = Path(folder) / "approximate.faiss"
        index = read_faiss(ivf_file)
        for factor in options.nprobe_alternatives:
            params = f"nprobe={max(1, round(options.nprobe * factor))}"
            say(f"  {params}")
            apply_search_params(index, params)
            found = search_index(index, queries, TOP_K)[1]
            report.alternatives.append(
                (params, _recall(found, truth), _latency(index, queries, options.search_threads))
            )
        del index
        for figures, name in ((flat, "exact.faiss"), (ivf, "approximate.faiss")):
            say(f"  loading {figures.label}")
            _measure_load(figures, Path(folder) / name, queries)
    report.targets = _targets(report)
    return report


def _measure(
    plan: IndexPlan,
    label: str,
    vectors: np.ndarray,
    queries: np.ndarray,
    truth: np.ndarray | None,
    options: ScaleOptions,
    folder: Path,
    say: Callable[[str], None],
) -> tuple[IndexFigures, np.ndarray]:
    say(f"  building {label}")
    started = time.perf_counter()
    index = build_cosine_index(vectors, plan)
    build_s = time.perf_counter() - started
    found = search_index(index, queries, TOP_K)[1]
    truth = found if truth is None else truth
    say(f"  timing {label}")
    latency = _latency(index, queries, options.search_threads)
    deep = _latency(index, queries[: options.deep_queries], options.search_threads, _deep_k(index.ntotal))
    path = folder / ("exact.faiss" if plan.exact else "approximate.faiss")
    write_faiss(index, path)
    del index
    gc.collect()
    figures = IndexFigures(
        label=f"{label} {plan.search_params}".strip(),
        plan=plan,
        build_s=build_s,
        file_mib=path.stat().st_size / 2**20,
        recall=_recall(found, truth),
        latency=latency,
        deep_latency=deep,
    )
    return figures, truth


def _measure_load(figures: IndexFigures, path: Path, queries: np.ndarray) -> None:
    """Read ``path`` copied and memory-mapped; time each and note the private memory it adds."""
    started = time.perf_counter()
    sha256_of_file(path)
    figures.checksum_s = time.perf_counter() - started
    for mmap in (False, True):
        gc.collect()
        before = private_mib()
        started = time.perf_counter()
        index = read_faiss(path, mmap=mmap)
        seconds = time.perf_counter() - started
        apply_search_params(index, figures.plan.search_params)
        grown = private_mib() - before
        if mmap:
            figures.mmap_load_s, figures.mmap_rss_mib = seconds, grown
            for row in range(min(10, len(queries))):
                index.search(queries[row : row + 1], TOP_K)
            figures.mmap_rss_after_search_mib = private_mib() - before
        else:
            figures.load_s, figures.load_rss_mib = seconds, grown
        del index


def _targets(report: ScaleReport) -> list[Target]:
    options = report.options
    flat, ivf = report.indexes
    flat50, _ = percentiles_ms(flat.latency)
    ivf50, _ = percentiles_ms(ivf.latency)
    size = f"{options.vectors:,}"
    at = "" if options.vectors == TARGET_SIZE else f" (measured at {size}, not {TARGET_SIZE:,})"
    threshold = options.approximate_above
    at_threshold = plan_for(threshold, threshold, options.nprobe)
    above = plan_for(threshold + 1, threshold, options.nprobe)
    here = plan_for(options.vectors, threshold, options.nprobe)
    mapped_share = ivf.mmap_rss_mib / max(ivf.file_mib, 1e-9)
    return [
        Target(
            f"index kind follows size: exact up to {threshold:,} songs (Settings.approximate_above), IVF above",
            f"{threshold:,}: {at_threshold.describe()}; {threshold + 1:,}: {above.factory}; {size}: {here.describe()}",
            "exact flat at every size",
            at_threshold.exact and not above.exact,
        ),
        Target(
            f"recall@10 >= {RECALL_TARGET} against exact search{at}",
            f"{ivf.recall:.3f} ({ivf.label})",
            "1.000",
            ivf.recall >= RECALL_TARGET,
        ),
        Target(
            f"FAISS search p50 <= {LATENCY_TARGET_MS:.0f} ms at {TARGET_SIZE:,} songs{at}",
            f"{ivf50:.1f} ms",
            f"{flat50:.1f} ms",
            ivf50 <= LATENCY_TARGET_MS,
        ),
        Target(
            "index memory-mapped where FAISS allows it",
            f"mmap read {ivf.mmap_load_s * 1000:.1f} ms, +{ivf.mmap_rss_mib:.0f} MiB private "
            f"(copied: {ivf.load_s * 1000:.0f} ms, +{ivf.load_rss_mib:.0f} MiB)",
            f"mmap read {flat.mmap_load_s * 1000:.1f} ms, +{flat.mmap_rss_mib:.0f} MiB "
            f"(copied: {flat.load_s * 1000:.0f} ms, +{flat.load_rss_mib:.0f} MiB)",
            mapped_share < 0.1,
        ),
    ]


def _deep_k(total: int) -> int:
    """How many candidates the engine fetches for one request (assistant/engine.py, ``_candidates``)."""
    return total if total <= Settings().exact_search_limit else max(2000, total // 20)


def _latency(index: faiss.Index, queries: np.ndarray, threads: int, k: int = TOP_K) -> list[float]:
    """Seconds per query, one query at a time, on ``threads`` FAISS threads."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(threads)
    try:
        seconds = []
        for row in range(len(queries)):
            started = time.perf_counter()
            search_index(index, queries[row : row + 1], k)
            seconds.append(time.perf_counter() - started)
        return seconds
    finally:
        faiss.omp_set_num_threads(before)


def _recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / TOP_K for f, t in zip(found, truth, strict=True)]))


def main(argv: list[str] | None = None) -> int:
    """Run the scale benchmark, print its tables and targets, write them into bench/RESULTS.md."""
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=int, default=TARGET_SIZE, help="full-size vectors (default 1000000)")
    parser.add_argument("--queries", type=int, default=200, help="request embeddings timed (default 200)")
    parser.add_argument("--anchors", type=int, default=4000, help="real song embeddings blended (default 4000)")
    parser.add_argument("--threads", type=int, default=1, help="FAISS threads while timing searches (default 1)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks every path in seconds, times nothing")
    parser.add_argument("--results", type=Path, help="Markdown file (default: bench/RESULTS.md; smoke: .moodring/)")
    parser.add_argument("--model-path", type=Path, help="local all-mpnet-base-v2 folder (default: the PyPI parts)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    settings = Settings.from_env(model_path=args.model_path)
    if args.smoke:
        options = ScaleOptions.smoke(settings.approximate_above, settings.ivf_nprobe)
    else:
        options = ScaleOptions(vectors=args.vectors, anchors=args.anchors, queries=args.queries,
                               search_threads=args.threads, approximate_above=settings.approximate_above,
                               nprobe=settings.ivf_nprobe)  # fmt: skip
    say = (lambda message: None) if args.quiet else _say
    encoder = Encoder.from_settings(settings)
    anchors = anchor_vectors(settings, encoder, options.anchors, say)
    queries = np.stack([encoder.encode_query(text) for text in benchmark_queries(options.queries, options.seed)])
    machine = (
        f"{machine_description()}; faiss {faiss.__version__}, builds on {faiss.omp_get_max_threads()} threads, "
        f"searches timed on {options.search_threads}; load average {os.getloadavg()[0]:.1f} at the start; "
        f"anchors and queries by the {encoder.description}"
    )
    report = run_scale(anchors, queries, options, machine, on_progress=say)
    print(report.to_text())
    out = args.results or (PROJECT_ROOT / ".moodring" / "bench-scale-smoke.md" if args.smoke else RESULTS_PATH)
    command = " ".join(["python -m bench.scale", *map(shlex.quote, sys.argv[1:] if argv is None else argv)])
    write_section(out, "scale", report.to_markdown(command))
    say(f"Wrote {out}")
    return 0 if all(target.passed for target in report.targets) or args.smoke else 1


def anchor_vectors(settings: Settings, encoder: Encoder, songs: int, say: Callable[[str], None]) -> np.ndarray:
    """Real embeddings of a synthetic catalogue of ``songs`` songs, made by the real pipeline.

    The catalogue and its index stay in ``.moodring/scale/``, so only the first run embeds them.
    """
    folder = PROJECT_ROOT / ".moodring" / "scale"
    catalogue = folder / f"synthetic-{songs}.csv"
    if not catalogue.exists():
        write_synthetic_catalogue(catalogue, songs, seed=ANCHOR_SEED)
    anchored = dataclasses.replace(settings, catalogue_path=catalogue, index_dir=folder / f"index-{songs}")
    return all_vectors(open_index(anchored, encoder, on_progress=say).faiss_index)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    run_cli(main)
