"""What a search returns: small dataclasses that print well and serialize to JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class SearchResult:
    """One recommended song and why it was chosen."""

    rank: int
    song_id: str
    title: str
    artist: str
    year: int | None
    genre: str
    score: float
    description: str
    explanation: str
    matched: tuple[str, ...] = ()

    @classmethod
    def from_song(
        cls, rank: int, song: Mapping[str, Any], score: float, explanation: str, matched: tuple[str, ...]
    ) -> SearchResult:
        """A result for one row of an index's songs table."""
        year = song["year"]
        return cls(
            rank=rank,
            song_id=str(song["song_id"]),
            title=str(song["title"]),
            artist=str(song["artist"]),
            year=None if pd.isna(year) else int(year),
            genre=str(song["genre"]),
            score=round(float(score), 4),
            description=str(song["description"]),
            explanation=explanation,
            matched=matched,
        )

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (the ``--json`` and ``/search`` format)."""
        data = asdict(self)
        data["matched"] = list(self.matched)
        return data


@dataclass
class SearchResponse:
    """Results plus what was understood and any caveat (a constraint that had to be relaxed, a typo read)."""

    query: str
    understood: str
    results: list[SearchResult]
    notes: list[str] = field(default_factory=list)
    relaxed: str | None = None
    total_s: float | None = None
    """A playlist of a stated length: the songs' total length in seconds (None otherwise)."""

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "query": self.query,
            "understood": self.understood,
            "notes": self.notes,
            "relaxed": self.relaxed,
            "total_s": None if self.total_s is None else round(self.total_s, 1),
            "results": [result.to_dict() for result in self.results],
        }
