"""A listening history as a taste and "for you" answers: read the files, match the plays, weigh the songs, then
recommend, either familiar (songs you know may come back) or discover (what you played a lot is left out)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.conditions import Filters
from assistant.discovery.taste import TasteProfile, profile_of_rows, recommend_for_taste
from assistant.engine import SearchEngine
from assistant.listening.history_files import History, HistoryLimits, read_history
from assistant.listening.matching import MatchedPlays, match_plays
from assistant.listening.taste_weights import SongWeight, play_weights
from assistant.results import SearchResponse
from index_builder.errors import QueryError

MODES = ("familiar", "discover")


@dataclass
class ListeningTaste:
    """One import: the files read, how the plays matched, each song's weight and the taste profile."""

    history: History
    matched: MatchedPlays
    weights: list[SongWeight]
    profile: TasteProfile | None
    """None when no matched song has a positive weight."""

    def taste(self) -> list[tuple[str, float]]:
        """``(song_id, weight)`` for every matched song, heaviest first: the taste the saved profile takes."""
        return [(w.song_id, w.weight) for w in self.weights]

    def to_dict(self) -> dict[str, object]:
        return {
            "files": self.history.files,
            "errors": self.history.errors,
            "report": self.matched.report.to_dict(),
            "taste": [w.to_dict() for w in self.weights],
            "profile": None if self.profile is None else self.profile.to_dict(),
        }


def import_history(engine: SearchEngine, paths: Sequence[str | Path]) -> ListeningTaste:
    """Read ``paths`` (HistoryError when none gives a play), match them to ``engine``'s catalogue and weigh them."""
    settings = engine.settings
    history = read_history(paths, HistoryLimits.from_settings(settings), settings.history_skip_ms)
    matched = match_plays(engine.catalogue, history.plays, settings.history_fuzzy_ratio)
    weights = play_weights(engine.catalogue, matched.plays, settings)
    liked = [w for w in weights if w.weight > 0][: settings.taste_max_liked]
    profile = None
    if liked:
        notes = [f"from the {len(liked)} songs you played most, weighted by listening time, recency and skips"]
        profile = profile_of_rows(engine.catalogue, [w.row for w in liked], notes, [w.weight for w in liked])
    return ListeningTaste(history, matched, weights, profile)


def for_you(
    engine: SearchEngine,
    taste: ListeningTaste,
    mode: str = "discover",
    k: int | None = None,
    filters: Filters | None = None,
    diverse: bool = True,
) -> SearchResponse:
    """Songs for this taste: ``familiar`` may bring back songs you know (saying how often you
    played them); ``discover`` leaves out songs heard ``history_familiar_plays`` times or more. Songs you skipped
    more than you heard never come back."""
    mode = str(mode).strip().casefold()
    if mode not in MODES:
        raise QueryError(f"mode must be familiar or discover, not '{mode}'.")
    if taste.profile is None:
        raise QueryError("None of the plays matched a song of this catalogue, so there is no taste to go on yet.")
    often = engine.settings.history_familiar_plays
    disliked = [w.row for w in taste.weights if w.weight <= 0]
    played_a_lot = [w.row for w in taste.weights if w.heard >= often]
    exclude = disliked + (played_a_lot if mode == "discover" else [])
    response = recommend_for_taste(engine, taste.profile, k, filters, diverse, exclude=exclude)
    heard = {w.song_id: w.heard for w in taste.weights if w.heard}
    results = [
        dataclasses.replace(r, explanation=f"{r.explanation}; you have played it {_times(heard[r.song_id])}")
        if r.song_id in heard
        else r
        for r in response.results
    ]
    left_out = f"leaving out the {len(played_a_lot)} songs you played {often}+ times" if mode == "discover" else ""
    understood = "; ".join(p for p in (f"for you ({mode})", left_out, response.understood) if p)
    return dataclasses.replace(response, results=results, understood=understood, query="for you")


def _times(count: int) -> str:
    return "once" if count == 1 else "twice" if count == 2 else f"{count} times"
