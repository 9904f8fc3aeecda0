"""``python -m bench``: index build rate, request latency by stage, peak memory and FAISS at a million vectors."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path

import faiss
import torch

from bench.results_file import RESULTS_PATH, write_section
from bench.run import BenchOptions, run_bench
from evaluation.tables import machine_description
from index_builder.cli_common import run_cli
from index_builder.embedding import Encoder
from index_builder.process import configure_process
from index_builder.settings import PROJECT_ROOT, Settings


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print its tables, write them to a Markdown file."""
    defaults = BenchOptions()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--songs", type=int, default=defaults.songs, help="synthetic catalogue size (default 20000)")
    parser.add_argument("--queries", type=int, default=defaults.queries, help="requests timed per size (default 200)")
    parser.add_argument(
        "--million-size", type=int, default=defaults.million_size, help="vectors for FAISS alone (default 1000000)"
    )
    parser.add_argument(
        "--plain-sample",
        type=int,
        default=defaults.plain_sample,
        help="texts the plain pipeline embeds to measure its rate (default 2000)",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks every path in seconds, times nothing")
    parser.add_argument("--results", type=Path, help="Markdown file (default: bench/RESULTS.md; smoke: .moodring/)")
    parser.add_argument("--model-path", type=Path, help="local all-mpnet-base-v2 folder (default: the PyPI parts)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    if args.smoke:
        options = BenchOptions.smoke()
    else:
        options = BenchOptions(
            songs=args.songs, queries=args.queries, million_size=args.million_size, plain_sample=args.plain_sample
        )
    say = (lambda message: None) if args.quiet else _say
    settings = Settings.from_env(model_path=args.model_path)
    configure_process(settings)
    started = time.perf_counter()
    encoder = Encoder.from_settings(settings)
    model_load_s = time.perf_counter() - started
    machine = (
        f"{machine_description()}; torch {torch.__version__} with {torch.get_num_threads()} threads, "
        f"faiss {faiss.__version__} with {faiss.omp_get_max_threads()} threads"
    )
    with tempfile.TemporaryDirectory(prefix="moodring-bench-") as workdir:
        report = run_bench(encoder, options, Path(workdir), machine, say, show_progress=not args.quiet)
    report.model_load_s = model_load_s
    print(report.to_text())
    out = args.results or (PROJECT_ROOT / ".moodring" / "bench-smoke.md" if args.smoke else RESULTS_PATH)
    command = " ".join(["python -m bench", *map(shlex.quote, sys.argv[1:] if argv is None else argv)])
    write_section(out, "speed", report.to_markdown(command))
    raw = PROJECT_ROOT / ".moodring" / f"bench-{out.stem}.json"  # every timing, to redraw the tables without a rerun
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps({"command": command, **report.to_dict()}), encoding="utf-8")
    say(f"Wrote {out} (raw timings: {raw})")
    return 0


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    run_cli(main)
