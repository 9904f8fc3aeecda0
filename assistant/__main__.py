"""``python -m assistant "QUERY"``: answer one request from the command line."""

from __future__ import annotations

import argparse
import json
import sys
import time

from assistant.engine import SearchEngine
from assistant.formatting import response_as_text
from index_builder.cli_common import add_settings_arguments, parse_column_map, run_cli, settings_from_args


def main(argv: list[str] | None = None) -> int:
    """Build the index if needed, answer the query, print a list (or JSON with --json)."""
    parser = argparse.ArgumentParser(prog="python -m assistant", description=__doc__)
    parser.add_argument("query", help='what to look for, e.g. "upbeat workout songs, nothing before 2015"')
    parser.add_argument("--k", type=int, default=None, help="how many songs (default 10)")
    parser.add_argument("--json", action="store_true", help="print a JSON list of result objects")
    parser.add_argument("--timing", action="store_true", help="print start-up and query times to stderr")
    add_settings_arguments(parser)
    args = parser.parse_args(argv)
    settings = settings_from_args(args)
    started = time.perf_counter()
    engine = SearchEngine.from_settings(
        settings, column_map=parse_column_map(args.column), on_progress=None if args.quiet else _say
    )
    ready = time.perf_counter()
    response = engine.search(args.query, args.k)
    answered = time.perf_counter()
    if args.timing:
        engine.encoder.clear_query_cache()  # time the query again with the model warm but no cached embedding
        engine.search(args.query, args.k)
        warm = time.perf_counter() - answered
        startup = f"start-up (model + index) {ready - started:.2f} s"
        _say(f"{startup}; first query {answered - ready:.3f} s; warm query {warm:.3f} s")
    if args.json:
        print(json.dumps([result.to_dict() for result in response.results], indent=2, ensure_ascii=False))
    else:
        print(response_as_text(response))
    return 0


def _say(message: str) -> None:
    print(message, file=sys.stderr)


if __name__ == "__main__":
    run_cli(main)
