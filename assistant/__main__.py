"""``python -m assistant "QUERY"``: answer one request from the command line."""

from __future__ import annotations

import argparse
import json
import sys
import time

from assistant.engine import SearchEngine
from assistant.formatting import response_as_text
from assistant.profile_store import ProfileStore
from assistant.profiles import owner_key, saved_feedback
from index_builder.cli_common import add_settings_arguments, parse_column_map, run_cli, settings_from_args


def main(argv: list[str] | None = None) -> int:
    """Build the index if needed, answer the query, print a list (or JSON with --json)."""
    parser = argparse.ArgumentParser(prog="python -m assistant", description=__doc__)
    parser.add_argument("query", help='what to look for, e.g. "upbeat workout songs, nothing before 2015"')
    parser.add_argument("--k", type=int, default=None, help="how many songs (default 10)")
    parser.add_argument("--json", action="store_true", help="print a JSON list of result objects")
    parser.add_argument("--timing", action="store_true", help="print start-up and query times to stderr")
    parser.add_argument(
        "--profile",
        metavar="NAME",
        help="steer the answer by a saved listener profile: a login NAME (as with app.py --auth), or browser:ID",
    )
    add_settings_arguments(parser)
    args = parser.parse_args(argv)
    settings = settings_from_args(args)
    started = time.perf_counter()
    engine = SearchEngine.from_settings(
        settings, column_map=parse_column_map(args.column), on_progress=None if args.quiet else _say
    )
    ready = time.perf_counter()
    feedback = None
    if args.profile:
        owner = args.profile if args.profile.startswith("browser:") else owner_key(args.profile, None)
        store = ProfileStore(settings.profile_db_path, settings.profile_max_entries)
        feedback = saved_feedback(store.profile(owner), settings.personal_blend_min_likes)
    response = engine.search(args.query, args.k, feedback)
    answered = time.perf_counter()
    if args.timing:
        engine.encoder.clear_query_cache()  # time the query again with the model warm but no cached embedding
        engine.search(args.query, args.k, feedback)
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
