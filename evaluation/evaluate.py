"""Run every system on the labelled queries over one catalogue and summarize the metrics as Markdown tables."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.engine import SearchEngine
from evaluation.metrics import distinct_at, ndcg_at, precision_at, recall_at, violations_at
from evaluation.rules import LabelledQuery, SkippedQuery, judge
from evaluation.systems import Ranker, all_systems
from evaluation.tables import markdown_table
from index_builder.embedding import Encoder
from index_builder.settings import Settings

TOP = 10
"""Depth of precision, nDCG, the constraint check and the artist count."""
DEEP = 50
"""Depth of recall (Moodring answers at most 50 songs per request)."""


@dataclass(frozen=True)
class Scores:
    """One system's metrics on one query."""

    precision: float
    ndcg: float
    recall: float
    broken: int
    checked: int
    artists: int
    returned: int
    """How many songs the system returned (DEEP asked)."""


@dataclass
class QueryOutcome:
    """One query: how many songs are right answers, and each system's scores."""

    query: LabelledQuery
    relevant_count: int
    scores: dict[str, Scores]

    def short(self, system: str) -> bool:
        """Whether ``system`` answered with fewer than TOP songs although at least TOP songs meet the rule."""
        return self.relevant_count >= TOP and self.scores[system].returned < TOP


@dataclass
class EvaluationReport:
    """Everything one evaluation run measured on one catalogue."""

    catalogue: str
    song_count: int
    systems: list[str]
    outcomes: list[QueryOutcome] = field(default_factory=list)
    skipped: list[tuple[LabelledQuery, str]] = field(default_factory=list)
    seconds: float = 0.0
    name: str = "labelled queries"
    """What the queries are, for the headline (``labelled queries``, ``open-set queries``)."""

    def mean(self, system: str, metric: str, category: str | None = None) -> float:
        """The mean of one metric over the judged queries (of one category, if given)."""
        values = [getattr(o.scores[system], metric) for o in self.outcomes if category in (None, o.query.category)]
        return float(np.mean(values)) if values else float("nan")

    def violation_rate(self, system: str) -> tuple[int, int]:
        """(results breaking a stated constraint, results checked) over queries that state constraints."""
        constrained = [o.scores[system] for o in self.outcomes if o.query.constraints]
        return sum(s.broken for s in constrained), sum(s.checked for s in constrained)

    def short_answers(self, system: str) -> tuple[int, int]:
        """(answers shorter than TOP, queries where at least TOP songs meet the rule): the catalogue held enough."""
        enough = [o for o in self.outcomes if o.relevant_count >= TOP]
        return sum(o.short(system) for o in enough), len(enough)

    def summary_table(self) -> str:
        """One row per system: P@10, nDCG@10, recall@50, constraint violations, short answers, distinct artists."""
        rows = []
        for system in self.systems:
            broken, checked = self.violation_rate(system)
            rate = f"{broken / checked:.1%} ({broken}/{checked})" if checked else "n/a"
            short, enough = self.short_answers(system)
            rows.append(
                [
                    system,
                    self.mean(system, "precision"),
                    self.mean(system, "ndcg"),
                    self.mean(system, "recall"),
                    rate,
                    f"{short} of {enough}",
                    f"{self.mean(system, 'artists'):.1f}",
                ]
            )
        headers = [
            "system",
            f"P@{TOP}",
            f"nDCG@{TOP}",
            f"recall@{DEEP}",
            "constraint violations",
            f"short answers (< {TOP} where {TOP}+ fit)",
            f"artists in top {TOP}",
        ]
        return markdown_table(headers, rows)

    def category_table(self, metric: str = "ndcg") -> str:
        """The mean of one metric per query category (columns) and system (rows), with query counts."""
        categories = list(dict.fromkeys(o.query.category for o in self.outcomes))  # as the query file orders them
        counts = {c: sum(o.query.category == c for o in self.outcomes) for c in categories}
        headers = ["system", *[f"{c} ({counts[c]})" for c in categories]]
        rows = [[system, *[self.mean(system, metric, c) for c in categories]] for system in self.systems]
        return markdown_table(headers, rows)

    def query_table(self) -> str:
        """Per query: how many songs are relevant, and each system's P@10."""
        headers = ["query", "category", "relevant songs", *[f"P@{TOP} {_short(s)}" for s in self.systems]]
        rows = [
            [o.query.text, o.query.category, o.relevant_count, *[o.scores[s].precision for s in self.systems]]
            for o in self.outcomes
        ]
        return markdown_table(headers, rows)

    def headline(self) -> str:
        """What was evaluated, in one sentence."""
        judged = len(self.outcomes)
        total = judged + len(self.skipped)
        return (
            f"{judged} of {total} {self.name} judged on {self.catalogue} ({self.song_count} songs) "
            f"in {self.seconds:.0f} s."
        )

    def skipped_lines(self) -> list[str]:
        """One line per query this catalogue could not judge."""
        return [f'- skipped "{q.text}": {reason}' for q, reason in self.skipped]

    def problem_lines(self, system: str) -> list[str]:
        """One line per query where ``system`` broke a stated constraint or answered short while songs fit."""
        lines = []
        for o in self.outcomes:
            scores = o.scores[system]
            if scores.broken:
                lines.append(f'- "{o.query.text}": {scores.broken} of the first {scores.checked} break a constraint')
            if o.short(system):
                returned = f"{scores.returned} of {TOP} songs returned"
                lines.append(f'- "{o.query.text}": {returned} although {o.relevant_count} meet the rule')
        return lines

    def to_text(self) -> str:
        """The summary and the per-category nDCG table, for the terminal."""
        parts = [self.headline(), "", self.summary_table(), "", f"nDCG@{TOP} by category:", "", self.category_table()]
        if self.skipped:
            parts += ["", *self.skipped_lines()]
        return "\n".join(parts)

    def sections(self, level: int = 2, after_summary: Sequence[str] = ()) -> list[str]:
        """The headline, tables and per-query detail as Markdown lines, with headings at ``level``."""
        mark = "#" * level
        return [
            self.headline(),
            "",
            self.summary_table(),
            "",
            *after_summary,
            f"{mark} nDCG@{TOP} by query category",
            "",
            self.category_table("ndcg"),
            "",
            f"{mark} P@{TOP} by query category",
            "",
            self.category_table("precision"),
            "",
            f"{mark} Queries not judged on this catalogue",
            "",
            *(self.skipped_lines() or ["None."]),
            "",
            f"{mark} Every query",
            "",
            self.query_table(),
            "",
        ]

    def to_markdown(self, machine: str, command: str) -> str:
        """The RESULTS.md file: how it was made, the tables, and the per-query detail."""
        return "\n".join(["# Retrieval quality", "", f"`{command}` on {machine}.", "", *self.sections()])


def run_evaluation(
    engine: SearchEngine,
    queries: Sequence[LabelledQuery],
    systems: Sequence[Ranker] | None = None,
    on_progress: Callable[[str], None] | None = None,
    name: str = "labelled queries",
) -> EvaluationReport:
    """Judge every query on ``engine``'s catalogue and score each system's ranking of it."""
    started = time.perf_counter()
    systems = list(systems) if systems is not None else all_systems(engine)
    songs = engine.songs
    artists = songs["artist"].astype(str).str.casefold().to_numpy()
    report = EvaluationReport(
        catalogue=str(engine.index.manifest.get("catalogue_file", engine.settings.catalogue_path)),
        song_count=len(songs),
        systems=[s.name for s in systems],
        name=name,
    )
    for number, query in enumerate(queries, 1):
        try:
            judgement = judge(query, songs)
        except SkippedQuery as reason:
            report.skipped.append((query, str(reason)))
            continue
        scores = {}
        for system in systems:
            ranked = np.asarray(system.rank(query.text, DEEP), dtype=np.int64)
            broken, checked = violations_at(ranked, judgement.allowed, TOP)
            scores[system.name] = Scores(
                precision=precision_at(ranked, judgement.relevant, TOP),
                ndcg=ndcg_at(ranked, judgement.gains, TOP),
                recall=recall_at(ranked, judgement.relevant, DEEP),
                broken=broken,
                checked=checked,
                artists=distinct_at(ranked, artists, TOP),
                returned=len(ranked),
            )
        report.outcomes.append(QueryOutcome(query, judgement.relevant_count, scores))
        if on_progress and number % 10 == 0:
            on_progress(f"{number} of {len(queries)} queries")
    report.seconds = time.perf_counter() - started
    return report


def evaluate_catalogue(
    settings: Settings,
    queries: Sequence[LabelledQuery],
    encoder: Encoder | None = None,
    column_map: Mapping[str, str] | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> EvaluationReport:
    """Open (building if needed) the index for ``settings`` and evaluate every system on it."""
    engine = SearchEngine.from_settings(settings, encoder=encoder, column_map=column_map, on_progress=on_progress)
    return run_evaluation(engine, queries, on_progress=on_progress)


def _short(system: str) -> str:
    return system.split(" (")[0]
