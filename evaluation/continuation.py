"""``python -m evaluation.continuation``: playlist continuation measured the way the field does, and how well
listening-history plays find their songs; both written into evaluation/RESULTS.md (their own sections).

Playlists of the catalogue (default ``../shared/data/spotify_playlists_a.csv.gz``) are split by a hash of their id
into train (60%), validation (20%) and test (20%). Co-occurrence is learned from the train playlists only. Each
validation and test playlist of at least ``--min-songs`` songs is shuffled (seeded by its id), its first half given
as the playlist and the rest held out; every other song of the catalogue is ranked. Recall@10, NDCG@10 and
R-precision are averaged over playlists for: popularity (how many train playlists hold a song), audio only, text
only (the description embeddings), content (both, as more-like-this weighs them), co-occurrence only, and the blend
of content and co-occurrence, whose weight is chosen on the validation playlists and then scored on the test ones.
The index folder (under .moodring/) caches the vectors: the first run embeds the catalogue, later runs reuse it.
"""

from __future__ import annotations

import argparse
import hashlib
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.catalogue_view import CatalogueView
from assistant.discovery.continuation import blend, content_scores
from assistant.discovery.membership import Membership
from assistant.engine import SearchEngine
from evaluation.history_matching import matching_figures
from evaluation.metrics import ndcg_at, recall_at
from evaluation.tables import machine_description, markdown_table, replace_section
from index_builder.buckets import fit_buckets, load_bucket_spec
from index_builder.catalogue import CatalogueLimits, load_catalogue
from index_builder.cli_common import add_settings_arguments, parse_column_map, run_cli, settings_from_args
from index_builder.errors import CatalogueError
from index_builder.settings import PROJECT_ROOT, Settings
from index_builder.text_checks import TextRepairs

DEFAULT_CATALOGUE = PROJECT_ROOT.parent / "shared" / "data" / "spotify_playlists_a.csv.gz"
RESULTS_PATH = Path(__file__).resolve().parent / "RESULTS.md"
WEIGHTS = (0.0, 0.01, 0.02, 0.05, *(round(w, 2) for w in np.linspace(0.1, 1.0, 10)))
"""Blend weights tried on the validation playlists."""
K = 10

Scorer = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Split:
    """Playlists (positions in the membership) per part."""

    train: list[int]
    validation: list[int]
    test: list[int]


def split_playlists(playlist_ids: tuple[str, ...]) -> Split:
    """60 / 20 / 20 by the sha256 of each playlist id, so the split never depends on order or a random seed."""
    parts: dict[str, list[int]] = {"train": [], "validation": [], "test": []}
    for position, pid in enumerate(playlist_ids):
        bucket = int(hashlib.sha256(pid.encode()).hexdigest(), 16) % 10
        parts["train" if bucket < 6 else "validation" if bucket < 8 else "test"].append(position)
    return Split(**parts)


def held_out(songs: np.ndarray, playlist_id: str) -> tuple[np.ndarray, np.ndarray]:
    """The playlist given (first half of a seeded shuffle) and the songs held out (the rest)."""
    rng = np.random.default_rng(int(hashlib.sha256(playlist_id.encode()).hexdigest()[:8], 16))
    shuffled = rng.permutation(songs)
    half = len(shuffled) // 2
    return shuffled[:half], shuffled[half:]


def metrics(scores: np.ndarray, given: np.ndarray, hidden: np.ndarray) -> tuple[float, float, float]:
    """Recall@10, NDCG@10 and R-precision of ``scores`` over every song not given.

    Ties are broken by a fixed random order, never by row: a playlist export lists each playlist's songs together,
    so row order would hand a system that ties (co-occurrence, where most songs score 0) the held-out songs.
    """
    candidates = np.setdiff1d(np.arange(len(scores)), given)
    tiebreak = np.random.default_rng(0).random(len(scores))
    ranked = candidates[np.lexsort((tiebreak[candidates], -scores[candidates]))]
    relevant = np.zeros(len(scores), dtype=bool)
    relevant[hidden] = True
    recall = float(relevant[ranked[:K]].sum()) / len(hidden)
    r_precision = recall_at(ranked, relevant, len(hidden))
    return recall, ndcg_at(ranked, relevant.astype(float), K), r_precision


def systems(space: CatalogueView, train: Membership, audio_weight: float) -> dict[str, Scorer]:
    """Every system's scores for a given playlist (rows); the blend is added per weight. Without vectors
    (``--without-text``) the text and content systems are left out."""
    counts = train.song_playlists
    popularity = np.nan_to_num(space.songs["popularity"].to_numpy(dtype=float, na_value=np.nan)) / 1000.0
    by_popularity = counts + popularity  # ties among train counts broken by the catalogue's popularity

    def audio(given: np.ndarray) -> np.ndarray:
        return space.audio_similarity(space.audio[given].mean(axis=0))

    def text(given: np.ndarray) -> np.ndarray:
        return space.text_similarity(space.vectors[given].mean(axis=0))

    def content(given: np.ndarray) -> np.ndarray:
        return content_scores(space, list(given), audio_weight)

    def together(given: np.ndarray) -> np.ndarray:
        return train.cooccurrence(given) + by_popularity / (by_popularity.max() * 1e6)

    every = {
        "popularity (train playlists)": lambda given: by_popularity,
        "audio only": audio,
        "text only (embeddings)": text,
        "content (audio + text)": content,
        "co-occurrence only": together,
    }
    return every if _has_vectors(space) else {n: f for n, f in every.items() if n not in TEXT_SYSTEMS}


TEXT_SYSTEMS = ("text only (embeddings)", "content (audio + text)")


def _has_vectors(space: CatalogueView) -> bool:
    try:
        return space.vectors is not None
    except ValueError:
        return False


def blended(space: CatalogueView, train: Membership, audio_weight: float, weight: float) -> Scorer:
    """Content (audio alone without vectors) blended with co-occurrence at ``weight``."""
    with_text = _has_vectors(space)

    def score(given: np.ndarray) -> np.ndarray:
        candidates = np.setdiff1d(np.arange(space.count), given)
        if with_text:
            content = content_scores(space, list(given), audio_weight)
        else:
            content = space.audio_similarity(space.audio[given].mean(axis=0))
        return blend(content, train.cooccurrence(given), weight, candidates)

    return score


def evaluate(scorer: Scorer, cases: list[tuple[np.ndarray, np.ndarray]]) -> tuple[float, float, float]:
    """Mean Recall@10, NDCG@10 and R-precision over ``cases`` (given, held out)."""
    values = np.array([metrics(scorer(given), given, hidden) for given, hidden in cases])
    return tuple(float(v) for v in values.mean(axis=0))  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.continuation", description=__doc__)
    parser.add_argument("--min-songs", type=int, default=10, help="playlists with fewer songs are not scored")
    parser.add_argument("--history-plays", type=int, default=300, help="synthetic plays per kind of noise")
    parser.add_argument("--results", type=Path, help="Markdown file to write (default: evaluation/RESULTS.md)")
    parser.add_argument(
        "--without-text",
        action="store_true",
        help="no model and no index: the systems that need no description embeddings (audio stands for content)",
    )
    add_settings_arguments(parser)
    args = parser.parse_args(argv)
    if args.catalogue is None:
        args.catalogue = DEFAULT_CATALOGUE
    settings = settings_from_args(args)
    column_map = parse_column_map(args.column)
    if args.without_text:
        space = _songs_only(settings, column_map)
    else:
        space = SearchEngine.from_settings(settings, column_map=column_map, on_progress=_say).catalogue
    if space.membership is None:
        raise CatalogueError(f"{Path(settings.catalogue_path).name} has no playlist_id column to evaluate with.")
    full = space.membership
    split = split_playlists(full.playlist_ids)
    train = Membership(full.matrix[split.train], *(tuple(np.array(x)[split.train]) for x in (full.playlist_ids,
                       full.playlist_names)))  # fmt: skip
    audio_weight = settings.similar_audio_weight

    def cases(part: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
        chosen = [p for p in part if len(full.rows_of(p)) >= args.min_songs]
        return [held_out(full.rows_of(p), full.playlist_ids[p]) for p in chosen]

    validation, test = cases(split.validation), cases(split.test)
    in_train = train.song_playlists > 0
    reachable = float(np.mean([in_train[hidden].mean() for _, hidden in test]))
    _say(f"{len(split.train)} train playlists; {len(validation)} validation and {len(test)} test playlists scored.")
    sweep = [(w, evaluate(blended(space, train, audio_weight, w), validation)) for w in WEIGHTS]
    best_weight = max(sweep, key=lambda item: (item[1][1], -item[0]))[0]
    _say(f"blend weight chosen on validation (NDCG@10): {best_weight}")
    table = [[name, *evaluate(scorer, test)] for name, scorer in systems(space, train, audio_weight).items()]
    content = "content" if _has_vectors(space) else "audio"
    blend_name = f"blend: {content} + co-occurrence, weight {best_weight:g} (chosen on validation)"
    table.append([blend_name, *evaluate(blended(space, train, audio_weight, best_weight), test)])
    history = matching_figures(space, args.history_plays, settings.history_fuzzy_ratio)

    command = " ".join(["python -m evaluation.continuation", *map(shlex.quote, sys.argv[1:] if argv is None else argv)])
    machine = machine_description()
    continuation = "\n".join(
        [
            "## Playlist continuation (issue 18)",
            "",
            f"`{command}` on {machine}. Catalogue `{Path(settings.catalogue_path).name}`: {space.count:,} songs, "
            f"{len(full.playlist_ids)} playlists split by a hash of their id into {len(split.train)} train, "
            f"{len(split.validation)} validation and {len(split.test)} test playlists; co-occurrence is learned on "
            f"the train playlists only. Each validation and test playlist of {args.min_songs}+ songs gives a random "
            "half and holds out the rest; every other song is ranked. Means over "
            f"{len(test)} test playlists (Recall@10 is over all held-out songs, so a playlist of 80 songs holding "
            f"out 40 can reach 0.25 at most). A song is in {len(full.matrix.indices) / space.count:.2f} playlists on "
            f"average, so only {reachable:.0%} of the held-out test songs are in any train playlist: the most "
            "co-occurrence can find.",
            "",
            *(
                []
                if _has_vectors(space)
                else [
                    "Run `--without-text`: no description embeddings, so audio stands for content, and the text-only "
                    "and content rows are missing; without the flag the command builds (or reuses) the catalogue's "
                    "index under .moodring/ and scores them too.",
                    "",
                ]
            ),
            markdown_table(["system", "Recall@10", "NDCG@10", "R-precision"], table),
            "",
            f"The blend weight (share of co-occurrence; `Settings.continuation_cooccurrence_weight`) was chosen by "
            f"NDCG@10 over {len(validation)} validation playlists:",
            "",
            markdown_table(["weight", "Recall@10", "NDCG@10", "R-precision"], [[f"{w:g}", *m] for w, m in sweep]),
            "",
        ]
    )
    matching = "\n".join(
        [
            "## Listening-history matching (issue 18)",
            "",
            f"`{command}`: {args.history_plays} synthetic plays per kind, songs drawn from the catalogue above "
            "with the noise real files carry, and plays of songs it lacks (invented titles), matched by title and "
            "artist "
            f"(`assistant/listening/matching.py`, `history_fuzzy_ratio` {settings.history_fuzzy_ratio}). "
            "*Right song*: the match has the drawn song's title and artist; for absent songs every match is a wrong "
            "one.",
            "",
            markdown_table(["plays", "count", "matched", "right song"], history.table_rows()),
            "",
        ]
    )
    out = args.results or RESULTS_PATH
    text = out.read_text(encoding="utf-8") if out.is_file() else ""
    text = replace_section(text, "continuation", continuation)
    text = replace_section(text, "history-matching", matching)
    out.write_text(text, encoding="utf-8")
    print(continuation)
    print(matching)
    _say(f"Wrote {out}")
    return 0


def _songs_only(settings: Settings, column_map: dict[str, str]) -> CatalogueView:
    """The catalogue's songs, buckets and playlists without vectors (``--without-text``)."""
    catalogue = load_catalogue(
        settings.catalogue_path, column_map, CatalogueLimits.from_settings(settings),
        TextRepairs.from_file(settings.text_repairs_path),
    )  # fmt: skip
    songs = catalogue.songs.assign(description="")
    space = CatalogueView(songs, fit_buckets(load_bucket_spec(settings.feature_words_path), songs), None, settings)
    space.playlists = catalogue.playlists
    return space


def _say(message: str) -> None:
    print(message, file=sys.stderr)


if __name__ == "__main__":
    run_cli(main)
