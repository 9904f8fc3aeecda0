"""``python -m bench.targets``: issue #8's encoder, query and start-up targets, each printed with its measured figure.

Encoder: the fast encoder against the plain fp32 pipeline on the bundled catalogue, in the same run (see
bench/encoder.py): build throughput >= 2x (interleaved), precision@10 and nDCG@10 at most 0.01 below plain, top-10
agreement reported beside them, and an incremental rebuild that embeds only the added songs. The scale targets
(index kind, recall, FAISS at a million songs, memory-mapping) have their own command, ``python -m bench.scale``,
which compares against exact search.

Query: end-to-end p50 <= 25 ms and p95 <= 50 ms at 30,000 songs (see bench/latency.py), and no model call for a
repeated or refined request. Start-up: the first answer within 10 s of ``python app.py`` (see bench/startup.py).
The start-up is timed first, while nothing else of this run is loaded.

The first lines say which path ran: the CPU flags found, the precision of documents and queries. ``--avx2`` (or
``ONEDNN_MAX_CPU_ISA=AVX2``) makes the encoder choose as on an AVX2-only CPU and caps oneDNN (torch's plain fp32
pipeline) at AVX2; onnxruntime picks its int8 kernels by its own CPU check, which no setting reaches, so on a
VNNI machine its int8 figures stay VNNI figures (the run says so).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
from pathlib import Path

from bench.encoder import bench_encoders, targets_table
from bench.latency import measure_requests, synthetic_engine
from bench.queries import benchmark_queries
from bench.results_file import RESULTS_PATH, write_section
from bench.run import head_csv
from bench.startup import measure_startup, median_result, prepare, startup_line
from evaluation.rules import load_queries
from evaluation.tables import machine_description
from index_builder.build import open_index
from index_builder.cli_common import run_cli
from index_builder.cpu_features import ISA_VARIABLE
from index_builder.embedding import Encoder
from index_builder.process import configure_process
from index_builder.settings import Settings
from index_builder.vector_index import all_vectors

SEED = 7


def main(argv: list[str] | None = None) -> int:
    """Measure, print every target with PASS or FAIL, and keep the lines in bench/RESULTS.md (section targets, or
    targets-avx2 when the ISA is capped)."""
    parser = argparse.ArgumentParser(prog="python -m bench.targets", description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=30_000, help="synthetic catalogue size (default 30000)")
    parser.add_argument("--queries", type=int, default=200, help="distinct new requests timed (default 200)")
    parser.add_argument("--startup-runs", type=int, default=3, help="cold starts of app.py; the median counts (3)")
    parser.add_argument("--no-startup", action="store_true", help="skip the start-up target")
    parser.add_argument("--no-encoder", action="store_true", help="skip the fast-versus-plain encoder targets")
    parser.add_argument("--smoke", action="store_true", help="300 songs, 8 requests, one cold start; writes nothing")
    parser.add_argument(
        "--avx2", action="store_true", help="choose the AVX2 path on any CPU (sets ONEDNN_MAX_CPU_ISA=AVX2)"
    )
    args = parser.parse_args(argv)
    recorded = {k: v for k, v in os.environ.items() if k.startswith("MOODRING_") or k == ISA_VARIABLE}
    if args.avx2:
        os.environ[ISA_VARIABLE] = "AVX2"  # before any model loads; the app.py start-ups inherit it
    songs, queries, runs = (300, 8, 1) if args.smoke else (args.songs, args.queries, args.startup_runs)
    settings = Settings.from_env(show_progress=False)
    configure_process(settings)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [f"{machine_description()}; load average {load:.1f} at the start"]
    encoder = Encoder.from_settings(settings)
    lines += path_lines(encoder)
    if not args.no_startup:
        _say("Start-up: preparing the index (untimed), then timing cold starts of app.py")
        prepare()
        startup = median_result([measure_startup() for _ in range(runs)])
    if not args.no_encoder:
        _say("Encoder: embedding the bundled catalogue with the plain and the fast encoder")
        lines += _encoder_lines(encoder, settings, args.smoke)
    anchors = all_vectors(open_index(settings, encoder).faiss_index)  # real song embeddings to scatter around
    with tempfile.TemporaryDirectory(prefix="moodring-targets-") as workdir:
        _say(f"Query: indexing {songs} synthetic songs, then timing {queries} requests")
        engine = synthetic_engine(songs, encoder, anchors, Path(workdir), SEED)
        report = measure_requests(engine, benchmark_queries(queries, SEED))
    lines += report.lines()
    if not args.no_startup:
        lines.append(startup_line(startup))
    print("\n".join(lines))
    if not args.smoke:
        overrides = [f"{k}={shlex.quote(v)}" for k, v in sorted(recorded.items())]
        arguments = map(shlex.quote, sys.argv[1:] if argv is None else argv)
        command = " ".join([*overrides, "python -m bench.targets", *arguments])
        body = "\n".join(["# Issue #8 targets", "", f"`{command}` on {lines[0]}.", "", "```", *lines[1:], "```"])
        section = f"targets-{encoder.cpu.cap.lower()}" if encoder.cpu.cap else "targets"
        write_section(RESULTS_PATH, section, body)
        _say(f"Wrote the {section} section of {RESULTS_PATH}")
    return 0


def path_lines(encoder: Encoder) -> list[str]:
    """Which path runs: the encoder, its precisions and the CPU flags behind them, and what a cap does not reach."""
    cpu = encoder.cpu
    lines = [f"Path: {encoder.description}"]
    if cpu.cap and encoder.document_precision == "int8" and cpu.onnxruntime_int8_kernels != cpu.int8_dot_product:
        lines.append(
            f"Note: {ISA_VARIABLE}={cpu.cap} chose the int8 path, but onnxruntime runs its "
            f"{cpu.onnxruntime_int8_kernels} int8 kernels here (it picks them by its own CPU check); the int8 "
            "figures are this CPU's, not an AVX2 CPU's. The plain fp32 pipeline (torch, oneDNN) is capped."
        )
    return lines


def _encoder_lines(fast: Encoder, settings: Settings, smoke: bool) -> list[str]:
    """Build throughput, agreement, precision, query embedding, cache and incremental rebuild, against plain fp32."""
    plain = Encoder(fast.location, "plain", export_dir=settings.model_cache_dir)
    queries = [q for q in load_queries() if q.smoke or not smoke]
    with tempfile.TemporaryDirectory(prefix="moodring-encoder-") as workdir:
        catalogue = Path(settings.catalogue_path)
        if smoke:
            catalogue = head_csv(catalogue, Path(workdir) / "smoke.csv", 80)
        report = bench_encoders(
            plain,
            fast,
            settings.with_changes(catalogue_path=catalogue),
            Path(workdir),
            queries,
            10 if smoke else 100,
            _say,
        )
    heading = f"Encoder ({report.songs} songs of {catalogue.name}; {report.fast_description}):"
    return [heading, targets_table(report.targets())]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    run_cli(main)
