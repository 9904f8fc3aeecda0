"""Pieces the command lines share: settings flags, column maps, and turning errors into one sentence."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from index_builder.errors import CatalogueError, MoodringError
from index_builder.process import configure_process
from index_builder.settings import Settings


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags that override the Settings fields every command uses."""
    parser.add_argument("--catalogue", type=Path, help="catalogue CSV or .csv.gz (default: the bundled one)")
    parser.add_argument("--index", "--out", dest="index", type=Path, help="index folder (default: one per catalogue)")
    parser.add_argument(
        "--milvus",
        metavar="URI",
        help="keep the index in Milvus: a Milvus Lite file (songs.db) or a server (http://host:19530)",
    )
    parser.add_argument("--model-path", type=Path, help="local all-mpnet-base-v2 folder (default: the PyPI parts)")
    parser.add_argument(
        "--encoder",
        choices=("fast", "plain"),
        help="fast (default): bf16 documents where the CPU has native bf16, else int8 (ONNX); plain: "
        "sentence-transformers fp32",
    )
    parser.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="map a catalogue column onto a field, e.g. --column title=Song (repeatable)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars or status lines")


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from the environment, then the flags; the start-up step of every command and the app, so it also
    applies the process-wide settings (``configure_process``: FAISS threads)."""
    settings = Settings.from_env(
        catalogue_path=args.catalogue,
        index_dir=args.index,
        model_path=args.model_path,
        encoder=getattr(args, "encoder", None),
        milvus_uri=getattr(args, "milvus", None),
    )
    settings = settings.with_changes(show_progress=False) if args.quiet else settings
    configure_process(settings)
    return settings


def parse_column_map(pairs: list[str]) -> dict[str, str]:
    """``["title=Song"]`` -> ``{"title": "Song"}``."""
    mapping = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise CatalogueError(f"--column takes FIELD=COLUMN, got {pair!r}.")
        mapping[field.strip()] = column.strip()
    return mapping


def run_cli(main: Callable[[], int]) -> None:
    """Run a CLI entry point, printing MoodringErrors as one line and exiting 2."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    logging.getLogger("moodring").setLevel(logging.INFO)
    try:
        sys.exit(main())
    except MoodringError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
