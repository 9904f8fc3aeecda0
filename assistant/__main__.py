"""``python -m assistant "QUERY"``: answer one request from the command line; or, with ``--history FILE``, songs
for a listening history, or with ``--continue-playlist``, the songs that continue a playlist."""

from __future__ import annotations

import argparse
import json
import sys
import time

from assistant.discovery.continuation import continue_playlist
from assistant.engine import SearchEngine
from assistant.formatting import response_as_text
from assistant.listening.for_you import MODES, for_you, import_history
from assistant.profile_store import ProfileStore
from assistant.profiles import owner_key, saved_feedback
from assistant.results import SearchResponse
from index_builder.cli_common import add_settings_arguments, parse_column_map, run_cli, settings_from_args


def main(argv: list[str] | None = None) -> int:
    """Build the index if needed, answer the query, print a list (or JSON with --json)."""
    parser = argparse.ArgumentParser(prog="python -m assistant", description=__doc__)
    parser.add_argument(
        "query", nargs="?", default="", help='what to look for, e.g. "upbeat workout songs, nothing before 2015"'
    )
    parser.add_argument(
        "--history",
        action="append",
        default=[],
        metavar="FILE",
        help="a listening-history file (Spotify StreamingHistory_music_*.json or Streaming_History_Audio_*.json, a "
        "Last.fm scrobble CSV, or a CSV of title, artist[, plays]); repeatable: what matched, then songs for you",
    )
    parser.add_argument(
        "--mode", choices=MODES, default="discover", help="with --history: discover (default) or familiar"
    )
    parser.add_argument(
        "--continue-playlist",
        metavar="SONGS",
        help='songs that continue a playlist: its titles or track ids separated by ";" (or a catalogue playlist\'s '
        "name)",
    )
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
    if args.history or args.continue_playlist:
        response = _listener_answer(engine, args)
        if response is None:
            return 0
        print(json.dumps([r.to_dict() for r in response.results], indent=2, ensure_ascii=False) if args.json
              else response_as_text(response))  # fmt: skip
        return 0
    if not args.query.strip():
        parser.error("give a QUERY, --history FILE or --continue-playlist SONGS")
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


def _listener_answer(engine: SearchEngine, args: argparse.Namespace) -> SearchResponse | None:
    """Songs for ``--history`` (what matched goes to stderr) or for ``--continue-playlist``."""
    if args.continue_playlist:
        names = [name.strip() for name in args.continue_playlist.split(";") if name.strip()]
        return continue_playlist(engine, names, k=args.k)
    taste = import_history(engine, args.history)
    for file in taste.history.files:
        _say(f"{file['file']}: {file['plays']:,} plays ({file['format']})")
    for error in taste.history.errors:
        _say(f"skipped: {error}")
    _say(taste.matched.report.as_text())
    if taste.profile is None:
        _say("No play matched a song of this catalogue, so there is nothing to recommend from.")
        return None
    _say(taste.profile.summary)
    return for_you(engine, taste, args.mode, args.k)


def _say(message: str) -> None:
    print(message, file=sys.stderr)


if __name__ == "__main__":
    run_cli(main)
