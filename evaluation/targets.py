"""Issue 13's targets for Moodring's pipeline, each checked against what the evaluation measured."""

from __future__ import annotations

from dataclasses import dataclass

from evaluation.evaluate import TOP, EvaluationReport
from evaluation.follow_ups import FollowUpReport
from evaluation.systems import MoodringPipeline

EXISTING_PRECISION = 0.80
"""P@10 the first query set must keep."""
OPEN_PRECISION = 0.85
"""P@10 the open set must reach."""


@dataclass(frozen=True)
class Target:
    """One goal, the figure measured for it, and whether it is met."""

    goal: str
    measured: str
    met: bool

    def line(self) -> str:
        """``PASS open set P@10 >= 0.85: 0.871``."""
        return f"{'PASS' if self.met else 'FAIL'} {self.goal}: {self.measured}"


def issue_targets(
    existing: EvaluationReport | None,
    open_set: EvaluationReport | None,
    follow_ups: FollowUpReport | None,
    system: str = MoodringPipeline.name,
) -> list[Target]:
    """The targets of the sets that were run (a set that was not run has no target here)."""
    targets = []
    if open_set is not None:
        value = open_set.mean(system, "precision")
        targets.append(Target(f"open set P@{TOP} >= {OPEN_PRECISION:.2f}", f"{value:.3f}", value >= OPEN_PRECISION))
    if existing is not None:
        value = existing.mean(system, "precision")
        goal = f"existing set P@{TOP} >= {EXISTING_PRECISION:.2f}"
        targets.append(Target(goal, f"{value:.3f}", value >= EXISTING_PRECISION))
    reports = [(label, r) for label, r in (("existing set", existing), ("open set", open_set)) if r is not None]
    if reports:
        broken = {label: r.violation_rate(system) for label, r in reports}
        total = sum(b for b, _ in broken.values())
        detail = ", ".join(f"{label} {b}/{c}" for label, (b, c) in broken.items())
        targets.append(Target("0 constraint violations", f"{total} ({detail})", total == 0))
        short = {label: r.short_answers(system) for label, r in reports}
        total = sum(s for s, _ in short.values())
        detail = ", ".join(f"{label} {s} of {n}" for label, (s, n) in short.items())
        goal = "no answer shorter than asked where the catalogue holds enough"
        targets.append(Target(goal, f"{total} ({detail})", total == 0))
    if follow_ups is not None:
        total = len(follow_ups.outcomes)
        measured = f"{follow_ups.right_way} of {total} (by a visible step: {follow_ups.visible} of {total})"
        targets.append(Target("every follow-up moves the right way", measured, follow_ups.right_way == total))
    return targets
