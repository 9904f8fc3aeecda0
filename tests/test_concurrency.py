"""Thirty people at once: every gradio_client session keeps its own conversation and its own conditions."""

from __future__ import annotations

import re

from bench.load import run_load
from tests.helpers import listed_songs

SESSIONS = 30


def test_thirty_concurrent_sessions_keep_their_own_conditions(app_url, bundled_engine, capsys):
    report = run_load(app_url, SESSIONS)
    with capsys.disabled():
        print(f"\n[load] {report.summary()}")
    assert report.errors == []
    assert len(report.latencies) == SESSIONS * 3
    for outcome in report.outcomes:
        plan, last = outcome.plan, outcome.replies[-1]
        understood = re.search(r"\*\*Looking for:\*\* (.+)", last)
        assert understood, last
        # Only this session's own conditions, never another session's.
        assert f"excluding {plan.excluded_artist}" in understood[1], (plan, understood[1])
        assert f"{plan.since_year} or later" in understood[1], (plan, understood[1])
        rows = listed_songs(last, bundled_engine)
        assert len(rows) == 5, last
        for row in rows:
            assert row["year"] >= plan.since_year
            assert plan.excluded_artist.casefold() not in row["artist"].casefold()
