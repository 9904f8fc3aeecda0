"""Follow-ups through the real dialogue: does "calmer" move the answer the way it says, and by a visible step?"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.dialogue import DialogueState, respond
from assistant.engine import SearchEngine
from evaluation.tables import markdown_table
from index_builder.errors import ConfigError
from index_builder.schema import NUMERIC_FEATURES

FOLLOW_UPS_PATH = Path(__file__).resolve().parent / "follow_ups.toml"
"""The follow-up cases kept in the repository."""

FEATURES = (*NUMERIC_FEATURES, "year")
"""The catalogue fields a follow-up may be about."""
DIRECTIONS = {"up": 1, "down": -1}
VISIBLE_STEP = 0.25
"""A visible move: at least this share of the catalogue's standard deviation of the feature."""
PAGE = 10
"""Songs per answer, as the app shows them."""


@dataclass(frozen=True)
class FollowUpCase:
    """A conversation whose last turn asks one feature to go one way."""

    turns: tuple[str, ...]
    feature: str
    direction: str
    smoke: bool = False

    @property
    def sign(self) -> int:
        """+1 for ``up``, -1 for ``down``."""
        return DIRECTIONS[self.direction]

    @property
    def label(self) -> str:
        """``upbeat songs for a party -> calmer``."""
        return " -> ".join(self.turns)


@dataclass(frozen=True)
class Move:
    """How the median of one feature changed between two answers."""

    before: float
    after: float
    right_way: bool
    """The median moved in the asked direction (a tie is no move)."""
    visible: bool
    """It moved that way by at least VISIBLE_STEP standard deviations of the catalogue."""


def load_follow_ups(path: Path = FOLLOW_UPS_PATH) -> list[FollowUpCase]:
    """Read and check the follow-up cases; a ConfigError names the first entry that does not make sense."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("follow_ups", [])
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read the follow-up cases {path}: {exc}") from exc
    cases = []
    for number, entry in enumerate(raw, 1):
        where = f"{path} follow-up {number} ({entry.get('turns', '?')!r})"
        unknown = set(entry) - {"turns", "feature", "direction", "smoke"}
        if unknown:
            raise ConfigError(f"{where} has unknown keys {sorted(unknown)}.")
        turns = entry.get("turns")
        if not isinstance(turns, list) or len(turns) < 2 or not all(isinstance(t, str) and t.strip() for t in turns):
            raise ConfigError(f"{where} needs `turns`: a request and at least one follow-up, as text.")
        if entry.get("feature") not in FEATURES:
            raise ConfigError(f"{where} is about {entry.get('feature')!r}, not one of {FEATURES}.")
        if entry.get("direction") not in DIRECTIONS:
            raise ConfigError(f"{where} has direction {entry.get('direction')!r}, not one of {tuple(DIRECTIONS)}.")
        cases.append(
            FollowUpCase(
                turns=tuple(turns),
                feature=entry["feature"],
                direction=entry["direction"],
                smoke=bool(entry.get("smoke", False)),
            )
        )
    return cases


def judge_move(before: np.ndarray, after: np.ndarray, sign: int, spread: float) -> Move:
    """Compare the medians of two answers' values (missing values ignored; an empty answer never moves)."""
    before = np.asarray(before, dtype=float)
    after = np.asarray(after, dtype=float)
    before, after = before[np.isfinite(before)], after[np.isfinite(after)]
    if not len(before) or not len(after):
        return Move(float("nan"), float("nan"), right_way=False, visible=False)
    low, high = float(np.median(before)), float(np.median(after))
    shift = (high - low) * sign
    return Move(low, high, right_way=shift > 0, visible=shift > 0 and shift >= VISIBLE_STEP * spread)


@dataclass
class FollowUpOutcome:
    """One case played through the dialogue."""

    case: FollowUpCase
    move: Move
    songs: tuple[int, int]
    """Songs in the answer before the last turn, and in the last answer."""
    new_answer: bool
    """Whether the last turn answered with a list of its own (not a nudge or an error)."""
    understood: str
    """What the dialogue understood after the last turn."""


@dataclass
class FollowUpReport:
    """Every follow-up case on one catalogue."""

    outcomes: list[FollowUpOutcome] = field(default_factory=list)
    skipped: list[tuple[FollowUpCase, str]] = field(default_factory=list)

    @property
    def right_way(self) -> int:
        """Cases whose median moved the asked way."""
        return sum(o.move.right_way for o in self.outcomes)

    @property
    def visible(self) -> int:
        """Cases whose median moved the asked way by a visible step."""
        return sum(o.move.visible for o in self.outcomes)

    def totals(self) -> str:
        """``31 of 44 moved the right way; 22 of 44 by a visible step (0.25 x the catalogue's SD).``"""
        total = len(self.outcomes)
        return (
            f"{self.right_way} of {total} moved the right way; {self.visible} of {total} by a visible step "
            f"(at least {VISIBLE_STEP:g} x the catalogue's standard deviation of the feature)."
        )

    def table(self) -> str:
        """Per case: the turns, the feature and direction, the medians, and both verdicts."""
        headers = ["turns", "feature", "wanted", "median before -> after", "right way", "visible step", "understood"]
        rows = [
            [
                o.case.label,
                o.case.feature,
                o.case.direction,
                f"{_number(o.move.before)} -> {_number(o.move.after)}" + ("" if o.new_answer else " (no new list)"),
                "y" if o.move.right_way else "n",
                "y" if o.move.visible else "n",
                o.understood,
            ]
            for o in self.outcomes
        ]
        return markdown_table(headers, rows)

    def skipped_lines(self) -> list[str]:
        """One line per case this catalogue could not judge."""
        return [f'- skipped "{c.label}": {reason}' for c, reason in self.skipped]


def run_follow_ups(
    engine: SearchEngine,
    cases: Sequence[FollowUpCase],
    page: int = PAGE,
    on_progress: Callable[[str], None] | None = None,
) -> FollowUpReport:
    """Play every case through ``respond`` and compare the feature's medians of the last two answers."""
    report = FollowUpReport()
    songs = engine.songs
    for number, case in enumerate(cases, 1):
        if case.feature not in songs or songs[case.feature].isna().all():
            report.skipped.append((case, f"the catalogue has no {case.feature}"))
            continue
        values = songs[case.feature].to_numpy(dtype=float, na_value=np.nan)
        spread = float(np.nanstd(values, ddof=1))
        state = DialogueState()
        answers: list[tuple[int, ...]] = []
        counts: list[int] = []
        for turn in case.turns:
            _, state = respond(turn, state, engine, k=page)
            rows = (engine.catalogue.row_of(r.song_id) for r in state.last_page)
            answers.append(tuple(r for r in rows if r is not None))
            counts.append(state.answers)
        before, after = answers[-2], answers[-1]
        move = judge_move(values[list(before)], values[list(after)], case.sign, spread)
        understood = state.intent.describe() if state.intent is not None else ""
        report.outcomes.append(
            FollowUpOutcome(case, move, (len(before), len(after)), counts[-1] > counts[-2], understood)
        )
        if on_progress and number % 10 == 0:
            on_progress(f"{number} of {len(cases)} follow-ups")
    return report


def _number(value: float) -> str:
    if not np.isfinite(value):
        return "none"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
