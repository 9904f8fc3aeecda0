"""One conversation's memory, frozen: each turn returns a new state instead of changing this one."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.feedback import NO_FEEDBACK, Feedback
from assistant.relative import RelativeMove
from assistant.results import SearchResult
from assistant.understanding import QueryIntent


@dataclass(frozen=True)
class DialogueState:
    """One conversation's memory: the request being refined and the songs shown for it, numbered as shown."""

    intent: QueryIntent | None = None
    shown: tuple[SearchResult, ...] = ()
    """Every song shown for the current request, ranks continuing across pages."""
    last_page: tuple[SearchResult, ...] = ()
    page: int = 0
    page_size: int | None = None
    like_ids: tuple[str, ...] = ()
    """Songs the current request should sound like ("more like #2")."""
    like_labels: tuple[str, ...] = ()
    skip_ids: tuple[str, ...] = ()
    """Songs never shown for the current request: the examples of a "more like" request."""
    moves: tuple[RelativeMove, ...] = ()
    """Relative changes in force ("calmer": energy below 0.75), one per feature; every page keeps only songs
    past them."""
    relaxed: str | None = None
    """The condition the current request had to drop to find anything, so later pages drop the same one."""
    answers: int = 0
    """Replies with songs so far in this conversation (the first one carries a hint about follow-ups)."""
    feedback: Feedback = NO_FEEDBACK
    """What the person said about songs in this conversation ("love #2", "not #4", "never Pitbull")."""
    saved: Feedback = NO_FEEDBACK
    """What their saved profile says (set before each turn by the chat; its likes only with the personal blend)."""
    seen: tuple[str, ...] = ()
    """Every song shown in this conversation, whatever the request: none comes again unless asked ("again")."""

    @property
    def taste(self) -> Feedback:
        """The feedback every search of this conversation follows: the saved profile's, then this conversation's."""
        return self.saved.merged(self.feedback)

    @property
    def shown_ids(self) -> tuple[str, ...]:
        """Ids of every song shown for the current request."""
        return tuple(result.song_id for result in self.shown)
