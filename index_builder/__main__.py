"""``python -m index_builder``: build (or check) the search index for a catalogue."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from index_builder.build import build_index, open_index, shipped_settings
from index_builder.cli_common import add_settings_arguments, parse_column_map, run_cli, settings_from_args
from index_builder.embedding import Encoder
from index_builder.errors import ConfigError
from index_builder.model_store import ModelLocation
from index_builder.onnx_export import EXPORT_RECORD, ensure_onnx_model
from index_builder.onnx_skeleton import SKELETON_FILE, SKELETON_RECORD, ship_skeleton
from index_builder.settings import Settings
from index_builder.vector_store import VectorStore


def main(argv: list[str] | None = None) -> int:
    """Build the index folder, or with --check verify an existing one without building."""
    parser = argparse.ArgumentParser(prog="python -m index_builder", description=__doc__)
    add_settings_arguments(parser)
    parser.add_argument("--check", action="store_true", help="verify the existing index instead of building")
    parser.add_argument(
        "--ship",
        action="store_true",
        help="maintainers: rebuild the bundled catalogue's index shipped in data/index/ (plain fp32 encoder) and the "
        "model files shipped in data/model/ (ONNX skeleton, concept vectors), after editing prompts/, data/ or the "
        "code that describes songs",
    )
    args = parser.parse_args(argv)
    if args.ship and (args.catalogue or args.index or args.milvus or args.column or args.encoder):
        raise ConfigError("--ship builds the bundled catalogue's index; it takes no catalogue, index or encoder flag.")
    settings = settings_from_args(args)
    if args.ship:
        settings = shipped_settings(settings)
    column_map = parse_column_map(args.column)
    encoder = Encoder.from_settings(settings)
    if args.check:
        index = open_index(settings, encoder, column_map, rebuild=False)
        print(f"{_where(index)}: OK, {len(index)} songs, built {index.manifest['built_at']}")
        return 0
    if not args.quiet:
        _say(f"Using the {encoder.description}.")
    index = build_index(settings, encoder, column_map, on_progress=None if args.quiet else _say)
    manifest = index.manifest
    print(
        f"Built {_where(index)}: {len(index)} songs ({manifest['embedded']} embedded, {manifest['reused']} reused) "
        f"in {manifest['build_seconds']:.1f} s."
    )
    for note in [*manifest["load_report"], *manifest["build_notes"]]:
        print(f"  - {note}")
    if args.ship:
        for path in ship_model_files(settings, encoder.location):
            print(f"Wrote {path}")
    return 0


def ship_model_files(settings: Settings, location: ModelLocation) -> list[Path]:
    """Write ``settings.shipped_model_dir``: the fp32 ONNX export's skeleton and the concept vectors of the fast
    encoder's default queries (what the app runs), each made here from scratch."""
    # The one place the builder reaches into the assistant: --ship writes everything that ships, in one command.
    from assistant.open_reading import ship_concept_vectors

    if settings.shipped_model_dir is None:
        raise ConfigError("No shipped model folder is set (MOODRING_SHIPPED_MODEL_DIR).")
    folder = Path(settings.shipped_model_dir)
    with tempfile.TemporaryDirectory(prefix="moodring-ship-") as scratch:
        export = ensure_onnx_model(location, Path(scratch))  # exported by torch, not rebuilt from the old skeleton
        record = json.loads((export.path.parent / EXPORT_RECORD).read_text(encoding="utf-8"))
        ship_skeleton(export.path, export.sha256, str(record["exported_with"]), location, folder)
        fast = Encoder(location, "fast", export_dir=Path(scratch))  # its default queries, as the app runs them
        vectors = ship_concept_vectors(settings, fast, folder)
    return [folder / SKELETON_FILE, folder / SKELETON_RECORD, vectors, vectors.with_suffix(".json")]


def _where(index: VectorStore) -> str:
    """The folder's path (as this command always printed it), or what the Milvus collection is."""
    folder = getattr(index, "folder", None)
    return str(folder) if folder is not None else index.describe()


def _say(message: str) -> None:
    print(message, file=sys.stderr)


if __name__ == "__main__":
    run_cli(main)
