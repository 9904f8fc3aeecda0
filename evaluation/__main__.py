"""``python -m evaluation``: retrieval quality of Moodring and three baselines on the labelled query set."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from evaluation.evaluate import evaluate_catalogue
from evaluation.rules import QUERIES_PATH, load_queries
from evaluation.tables import machine_description
from index_builder.cli_common import add_settings_arguments, parse_column_map, run_cli, settings_from_args
from index_builder.settings import BUNDLED_CATALOGUE, PROJECT_ROOT

RESULTS_PATH = Path(__file__).resolve().parent / "RESULTS.md"


def main(argv: list[str] | None = None) -> int:
    """Evaluate, print the tables, write them to a Markdown file."""
    parser = argparse.ArgumentParser(prog="python -m evaluation", description=__doc__)
    parser.add_argument("--queries", type=Path, default=QUERIES_PATH, help="the labelled query set (TOML)")
    parser.add_argument("--smoke", action="store_true", help="only the few queries marked smoke = true")
    parser.add_argument(
        "--results",
        type=Path,
        help="Markdown file to write (default: evaluation/RESULTS.md for a full run on the bundled catalogue, "
        "else .moodring/evaluation-<catalogue>.md)",
    )
    add_settings_arguments(parser)
    args = parser.parse_args(argv)
    settings = settings_from_args(args)
    queries = [q for q in load_queries(args.queries) if q.smoke or not args.smoke]
    report = evaluate_catalogue(
        settings, queries, column_map=parse_column_map(args.column), on_progress=None if args.quiet else _say
    )
    print(report.to_text())
    bundled = Path(settings.catalogue_path).resolve() == BUNDLED_CATALOGUE.resolve()
    out = args.results or (
        RESULTS_PATH
        if bundled and not args.smoke and args.queries == QUERIES_PATH
        else PROJECT_ROOT / ".moodring" / f"evaluation-{Path(settings.catalogue_path).name.split('.')[0]}.md"
    )
    command = " ".join(["python -m evaluation", *map(shlex.quote, sys.argv[1:] if argv is None else argv)])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report.to_markdown(machine_description(), command), encoding="utf-8")
    _say(f"Wrote {out}")
    return 0


def _say(message: str) -> None:
    print(message, file=sys.stderr)


if __name__ == "__main__":
    run_cli(main)
