"""What a search returns: small dataclasses that print well and serialize to JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


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

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "query": self.query,
            "understood": self.understood,
            "notes": self.notes,
            "relaxed": self.relaxed,
            "results": [result.to_dict() for result in self.results],
        }
