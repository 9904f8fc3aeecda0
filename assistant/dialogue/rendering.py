"""What the conversation says in words: help, hints, and a page of songs as a chat reply."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.formatting import response_as_markdown
from assistant.results import SearchResponse, SearchResult

HELP = (
    "Describe a mood, an activity or a moment, for example *rainy day songs* or *upbeat workout songs, nothing "
    "before 2015*. Then change the list as you like:\n\n"
    "- **calmer**, **more upbeat**, **older ones**, **newer**, **only after 2015**, **no more Drake**, "
    "**no hip hop**, **give me 5**\n"
    "- **show more**: the next songs, none repeated\n"
    "- **more like #2** or **more like Bad Romance**: songs that sound like it\n"
    "- **why #3**: everything about why a song is on the list\n"
    "- **continue my playlist: Song A, Song B, Song C**: songs that continue it\n"
    "- **start over**: forget this request"
)
HINT = (
    '_Follow up with "calmer", "older ones", "no more <artist>", "show more", "more like #2", "why #3" or '
    '"start over"._'
)
NUDGE = (
    "Tell me how to change these songs: *calmer*, *more upbeat*, *older ones*, *no more <artist>*, *show more*, "
    "*more like #2*, *why #3*, or *start over* for something new."
)

CONTINUE_HINT = (
    "Name the playlist's songs after a colon, for example *continue my playlist: Bad Romance, Shape of You, "
    "Titanium*, or one of the catalogue's playlists by its name."
)

NOT_ENGLISH = (
    "That does not read as English to me. Songs are matched through English descriptions (the language model was "
    "trained on English), so songs for those words would be a guess. Could you say it in English? For example "
    "*sad songs to cry to*, *calm music for sleeping* or *songs for a party, nothing before 2015*."
)


def render_page(
    response: SearchResponse,
    page: Sequence[SearchResult],
    like_labels: Sequence[str],
    notes: Sequence[str],
    first_from: int | None,
    with_hint: bool,
) -> str:
    """A page of songs as a chat reply: what was understood (with any "songs like"), notes, the numbered list.

    ``first_from`` is the first rank of a "show more" page (None for a fresh answer); ``with_hint`` adds the line
    about follow-ups that the first answer of a conversation carries.
    """
    understood = "; ".join(
        part for part in (", ".join(f"songs like {label}" for label in like_labels), response.understood) if part
    )
    shown = SearchResponse(
        query=response.query,
        understood=understood,
        results=list(page),
        notes=[*notes, *response.notes],
        relaxed=response.relaxed,
    )
    reply = response_as_markdown(shown)
    if first_from is not None:
        reply = f"More of the same, #{first_from} on:\n\n{reply}"
    if with_hint and page:
        reply += "\n\n" + HINT
    return reply
