"""``python -m bench.quality_gate``: the fast encoder's reduced-precision paths against plain fp32, by quality.

Each encoder (plain fp32; fast with int8 documents; the same with int8 queries too, ``int8-queries``, which shares
the int8 index; fast with bf16 documents) builds its own index of one catalogue and answers both labelled query
sets (``evaluation/queries.toml`` and ``open_queries.toml``) through Moodring's full pipeline. The gate:
precision@10 and nDCG@10 of each reduced path may not fall more than 0.01 below plain on either set. Top-10
agreement with plain (mean overlap of the two top-10 lists) is printed beside it.

The index folders stay under ``--index-root`` (default ``.moodring/quality-gate``): a rerun embeds only texts it
has not embedded before. Each path's scores are kept beside its index (``gate-<path>.json``, keyed by the index
manifest, the query files and the query path), so paths can run in separate processes (``--paths plain``, then
``--paths plain,int8``) and a rerun with nothing changed only prints the table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from assistant.engine import SearchEngine
from evaluation.evaluate import run_evaluation
from evaluation.rules import OPEN_QUERIES_PATH, QUERIES_PATH, LabelledQuery, load_queries
from evaluation.systems import MoodringPipeline
from evaluation.tables import machine_description
from index_builder.atomic import atomic_path, write_json_atomic
from index_builder.cli_common import run_cli
from index_builder.embedding import Encoder
from index_builder.model_store import resolve_model
from index_builder.process import configure_process
from index_builder.settings import PROJECT_ROOT, Settings

MAX_DROP = 0.01
"""How far precision@10 or nDCG@10 may fall below plain."""

QUERY_SETS = {"existing": QUERIES_PATH, "open": OPEN_QUERIES_PATH}
PATHS = {
    "plain": ("plain", "auto", "auto"),
    "int8": ("fast", "int8", "auto"),
    "int8-queries": ("fast", "int8", "int8"),
    "bf16": ("fast", "bf16", "auto"),
}
"""Label -> (encoder kind, document precision, query precision)."""
SHARED_INDEX = {"int8-queries": "int8"}
"""Paths that search another path's index (same documents, other queries)."""
GATE_FILE = "gate-{label}.json"
"""Each path's scores, beside its index; paths that share an index folder keep separate files."""


@dataclass
class SetScores:
    """One encoder's figures on one query set."""

    precision: float
    ndcg: float
    tops: list[list[int]]


def evaluate_paths(
    settings: Settings, labels: list[str], index_root: Path, say=print
) -> dict[str, dict[str, SetScores]]:
    """label -> query set -> scores, each label on its own index folder under ``index_root``."""
    location = resolve_model(settings.model_path, settings.model_cache_dir)
    query_sets = {name: load_queries(path) for name, path in QUERY_SETS.items()}
    results: dict[str, dict[str, SetScores]] = {}
    for label in labels:
        kind, precision, queries = PATHS[label]
        encoder = Encoder(
            location, kind, export_dir=settings.model_cache_dir, precision=precision, query_precision=queries
        )
        say(f"{label}: {encoder.description}")
        folder = index_root / SHARED_INDEX.get(label, label)
        engine = SearchEngine.from_settings(settings.with_changes(index_dir=folder), encoder, on_progress=say)
        key = _results_key(folder, encoder.query_identity, settings.prompts_dir)
        kept = folder / GATE_FILE.format(label=label)
        saved = _saved_scores(kept, key)
        if saved is None:
            saved = {name: _scores(engine, queries) for name, queries in query_sets.items()}
            sets = {n: asdict(v) for n, v in saved.items()}
            write_json_atomic(kept, {"key": key, "query_identity": encoder.query_identity, "sets": sets})
        else:
            say(f"{label}: scores read from {kept} (same index, queries and query path)")
        results[label] = saved
    return results


def _saved_plain(root: Path, prompts_dir: Path) -> dict[str, SetScores] | None:
    """The plain path's scores from an earlier run on the same index and queries, if there are any."""
    folder = root / "plain"
    if not (folder / "manifest.json").is_file():
        return None
    saved = folder / GATE_FILE.format(label="plain")
    try:
        identity = json.loads(saved.read_text(encoding="utf-8"))["query_identity"]
    except (OSError, ValueError, KeyError):
        return None
    return _saved_scores(saved, _results_key(folder, identity, prompts_dir))


def _results_key(folder: Path, query_identity: str, prompts_dir: Path) -> str:
    """What a path's scores depend on: its index (the manifest holds every file's checksum), the queries, the query
    path, and how requests are read and ranked (every word list in ``prompts_dir`` and the assistant's code)."""
    readers = sorted(Path(prompts_dir).glob("*.toml")) + sorted((PROJECT_ROOT / "assistant").rglob("*.py"))
    parts = [
        (folder / "manifest.json").read_bytes(),
        *(path.read_bytes() for path in QUERY_SETS.values()),
        query_identity.encode(),
        *(path.read_bytes() for path in readers),
    ]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def _saved_scores(path: Path, key: str) -> dict[str, SetScores] | None:
    """Scores kept by an earlier run with the same key, else None."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        if saved.get("key") != key:
            return None
        return {name: SetScores(**values) for name, values in saved["sets"].items()}
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _scores(engine: SearchEngine, queries: list[LabelledQuery]) -> SetScores:
    system = MoodringPipeline(engine)
    report = run_evaluation(engine, queries, systems=[system])
    tops = [system.rank(query.text, 10).tolist() for query in queries]
    return SetScores(report.mean(system.name, "precision"), report.mean(system.name, "ndcg"), tops)


def gate_table(results: dict[str, dict[str, SetScores]]) -> tuple[str, bool]:
    """A Markdown table of every reduced path against plain, and whether all of them pass."""
    lines = [
        "| query set | path | P@10 | ΔP@10 | nDCG@10 | ΔnDCG@10 | top-10 agreement | gate |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    passed = True
    for name in QUERY_SETS:
        plain = results["plain"][name]
        lines.append(f"| {name} | plain fp32 | {plain.precision:.3f} | | {plain.ndcg:.3f} | | 1.000 | reference |")
        for label, sets in results.items():
            if label == "plain":
                continue
            scores = sets[name]
            drop_p, drop_n = scores.precision - plain.precision, scores.ndcg - plain.ndcg
            pairs = zip(scores.tops, plain.tops, strict=True)
            agreement = np.mean([len(set(a) & set(b)) / max(1, len(b)) for a, b in pairs])
            ok = min(drop_p, drop_n) >= -MAX_DROP - 1e-9  # a drop of exactly 0.01 passes despite float rounding
            passed &= ok
            lines.append(
                f"| {name} | {label} | {scores.precision:.3f} | {drop_p:+.3f} | {scores.ndcg:.3f} | {drop_n:+.3f} "
                f"| {agreement:.3f} | {'PASS' if ok else 'FAIL'} |"
            )
    return "\n".join(lines), passed


def every_kth_row(catalogue: Path, k: int, target: Path) -> Path:
    """A deterministic subset: the header and every ``k``-th data row (rows 0, k, 2k, ...) of ``catalogue``, written
    (atomically) only when ``target`` does not hold it already, so a running build never sees it change."""
    text = pd.read_csv(catalogue, dtype=str, keep_default_na=False).iloc[::k].to_csv(index=False)
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        with atomic_path(target) as staging:
            staging.write_text(text, encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    """Evaluate the paths on a catalogue and print the gate table; exit 1 when a path fails it."""
    parser = argparse.ArgumentParser(prog="python -m bench.quality_gate", description=__doc__.splitlines()[0])
    parser.add_argument("--catalogue", type=Path, help="catalogue CSV or .csv.gz (default: the bundled one)")
    parser.add_argument(
        "--paths", default=",".join(PATHS), help="comma-separated (default: all four); kept scores are reused"
    )
    parser.add_argument("--every", type=int, default=1, help="keep every k-th catalogue row (default 1: all)")
    parser.add_argument("--index-root", type=Path, help="where the index folders stay (default .moodring/quality-gate)")
    args = parser.parse_args(argv)
    labels = [label.strip() for label in args.paths.split(",")]
    if not labels or not set(labels) <= set(PATHS):
        parser.error(f"--paths may name only {', '.join(PATHS)}")
    if args.every < 1:
        parser.error("--every must be at least 1")
    settings = Settings.from_env(catalogue_path=args.catalogue, show_progress=True)
    configure_process(settings)
    catalogue = Path(settings.catalogue_path)
    name = catalogue.name.split(".")[0] + (f"-every{args.every}" if args.every > 1 else "")
    root = (args.index_root or PROJECT_ROOT / ".moodring" / "quality-gate") / name
    root.mkdir(parents=True, exist_ok=True)
    if args.every > 1:
        catalogue = every_kth_row(catalogue, args.every, root / f"{name}.csv")
    results = evaluate_paths(settings.with_changes(catalogue_path=catalogue), labels, root, _say)
    plain = results.get("plain") or _saved_plain(root, settings.prompts_dir)
    if plain is None or (len(results) == 1 and "plain" in results):
        _say(f"scores kept beside each index under {root}; run the other paths (or plain) to compare")
        return 0
    table, passed = gate_table({"plain": plain, **{k: v for k, v in results.items() if k != "plain"}})
    print(f"{catalogue.name} ({name}) on {machine_description()}")
    print(table)
    return 0 if passed else 1


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    run_cli(main)
