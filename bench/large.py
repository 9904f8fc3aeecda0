"""``python -m bench.large``: build a large synthetic catalogue's index end to end, then answer requests.

Shows that a big build runs in bounded memory (batched embedding, checkpoints every few hundred songs, so an
interrupted run resumes) and prints the build time, songs per second and peak RSS. Run it again after
interrupting it (Ctrl-C) to see it resume from its checkpoints.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from assistant.engine import SearchEngine
from bench.synthetic import write_synthetic_catalogue
from bench.timing import peak_rss_mb
from index_builder.build import open_index
from index_builder.embedding import Encoder
from index_builder.process import configure_process
from index_builder.settings import PROJECT_ROOT, Settings

REQUESTS = ("upbeat workout songs, nothing before 2015", "sad acoustic songs", "chill songs for studying, no rap")


def main(argv: list[str] | None = None) -> int:
    """Generate (once) and index a synthetic catalogue, then time a few requests."""
    parser = argparse.ArgumentParser(prog="python -m bench.large", description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=30_000, help="catalogue size (default 30000)")
    parser.add_argument("--folder", type=Path, default=PROJECT_ROOT / ".moodring" / "large", help="work folder")
    args = parser.parse_args(argv)
    catalogue = args.folder / f"synthetic-{args.songs}.csv"
    if not catalogue.exists():
        write_synthetic_catalogue(catalogue, args.songs, seed=30)
    settings = Settings.from_env(catalogue_path=catalogue, index_dir=args.folder / f"index-{args.songs}")
    configure_process(settings)
    encoder = Encoder.from_settings(settings)
    print(f"Using the {encoder.description}.")
    started = time.perf_counter()
    index = open_index(settings, encoder, on_progress=print)
    seconds = time.perf_counter() - started
    manifest = index.manifest
    print(
        f"{len(index)} songs indexed in {seconds:.0f} s this run ({manifest.get('embedded', 0)} embedded, "
        f"{manifest.get('reused', 0)} reused from the last index or checkpoints; embedding "
        f"{manifest.get('embed_seconds', 0):.0f} s); peak RSS {peak_rss_mb():.0f} MiB"
    )
    engine = SearchEngine(index, encoder, settings)
    for request in REQUESTS:
        began = time.perf_counter()
        response = engine.search(request, 10)
        top = response.results[0] if response.results else None
        shown = f"{top.title} - {top.artist} ({top.explanation})" if top else "nothing"
        print(f"{(time.perf_counter() - began) * 1000:.0f} ms  {request!r}: {len(response.results)} songs; #1 {shown}")
    print(f"peak RSS after requests {peak_rss_mb():.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
