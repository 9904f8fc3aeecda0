"""``python -m bench.load``: many concurrent gradio_client sessions, each a three-turn conversation.

Every session asks for its own year and excluded artist, then refines; its last answer must keep only its own
conditions, which shows that no dialogue state leaks between sessions. Prints throughput and latency.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from gradio_client import Client

EXCLUDABLE_ARTISTS = ("Kesha", "Pitbull", "Rihanna", "Maroon 5", "Katy Perry", "Calvin Harris", "Bruno Mars", "Drake")


@dataclass(frozen=True)
class SessionPlan:
    """One simulated person's three messages and the conditions the last answer must meet."""

    number: int
    since_year: int
    excluded_artist: str

    @property
    def messages(self) -> tuple[str, str, str]:
        return (f"dance songs since {self.since_year}", f"no {self.excluded_artist}", "give me 5")


@dataclass
class SessionOutcome:
    """What one session saw: its replies, each request's latency, and any error."""

    plan: SessionPlan
    replies: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    error: str | None = None


@dataclass
class LoadReport:
    """The run's outcomes and its figures."""

    outcomes: list[SessionOutcome]
    wall_seconds: float

    @property
    def latencies(self) -> list[float]:
        return [latency for outcome in self.outcomes for latency in outcome.latencies]

    @property
    def errors(self) -> list[str]:
        return [f"session {o.plan.number}: {o.error}" for o in self.outcomes if o.error]

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")

    def summary(self) -> str:
        requests = len(self.latencies)
        return (
            f"{len(self.outcomes)} sessions, {requests} requests in {self.wall_seconds:.1f} s: "
            f"{requests / self.wall_seconds:.2f} requests/s; latency p50 {statistics.median(self.latencies):.2f} s, "
            f"p95 {self.percentile(0.95):.2f} s, max {max(self.latencies):.2f} s; errors: {len(self.errors)}"
        )


def plans(sessions: int) -> list[SessionPlan]:
    """Distinct conditions per session (year 2010-2017, one of eight artists)."""
    return [
        SessionPlan(number=i, since_year=2010 + i % 8, excluded_artist=EXCLUDABLE_ARTISTS[(i * 3) % 8])
        for i in range(sessions)
    ]


def run_session(url: str, plan: SessionPlan, start: threading.Barrier, auth: tuple[str, str] | None) -> SessionOutcome:
    """One client, three messages in one conversation."""
    outcome = SessionOutcome(plan=plan)
    try:
        client = Client(url, verbose=False, download_files=False, auth=auth)
        start.wait()
        for message in plan.messages:
            began = time.perf_counter()
            outcome.replies.append(str(client.predict(message, None, None, api_name="/chat")))
            outcome.latencies.append(time.perf_counter() - began)
    except Exception as error:  # a load run reports every failure instead of stopping at the first
        outcome.error = f"{type(error).__name__}: {error}"
    return outcome


def run_load(url: str, sessions: int = 30, auth: tuple[str, str] | None = None) -> LoadReport:
    """Start ``sessions`` clients together and let each hold its three-turn conversation."""
    session_plans = plans(sessions)
    start = threading.Barrier(sessions)
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=sessions) as pool:
        outcomes = list(pool.map(lambda plan: run_session(url, plan, start, auth), session_plans))
    return LoadReport(outcomes=outcomes, wall_seconds=time.perf_counter() - began)


def main(argv: list[str] | None = None) -> int:
    """Run against a running app (``python app.py``) and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:7860/", help="the running app (default: local 7860)")
    parser.add_argument("--sessions", type=int, default=30, help="concurrent sessions (default 30)")
    args = parser.parse_args(argv)
    report = run_load(args.url, args.sessions)
    print(report.summary())
    for error in report.errors:
        print(f"  {error}")
    return 1 if report.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
