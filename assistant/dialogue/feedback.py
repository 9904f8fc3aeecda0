"""Feedback in words: "love #2", "not #4", "#3 is great", "never Pitbull", "unblock Pitbull", "show #3 again",
"again", "something different". Reading a message's shape (``read_feedback``), finding the song or artist it names,
and changing the conversation's feedback; the words are in ``prompts/feedback_words.toml``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from assistant.catalogue_view import CatalogueView
from assistant.dialogue.reading import normalized, reference_number
from assistant.dialogue.state import DialogueState
from assistant.escaping import escape_markdown
from assistant.formatting import response_as_markdown
from assistant.results import SearchResponse
from assistant.titles import SongNotFound, known_name
from assistant.word_lists import FeedbackWords
from index_builder.errors import QueryError

VERDICTS = ("like", "dislike", "block", "unblock")
"""What feedback can say about a song (or, for the last two, its artist)."""
_IT = frozenset({"it", "this", "that", "this one", "that one", "this song", "that song"})


@dataclass(frozen=True)
class FeedbackRequest:
    """A message read as feedback: ``kind`` is a verdict, ``again`` (the last answer once more), ``again_song``
    (``target``: one song of the list), ``different`` or ``liked`` (songs like every liked one)."""

    kind: str
    target: str = ""
    strong: bool = True
    """Whether the cue is feedback whatever follows (``i love``), or only before a song of the list (``love``)."""


def read_feedback(message: str, words: FeedbackWords) -> FeedbackRequest | None:
    """The feedback a message gives, by its shape alone, or None: ``not #4`` -> FeedbackRequest("dislike", "#4")."""
    text = normalized(message).replace("'", "")
    tokens = tuple(text.split())
    if not tokens:
        return None
    if tokens in words.again_alone:
        return FeedbackRequest("again")
    if tokens in words.different:
        return FeedbackRequest("different")
    for after in words.again_after:
        if tokens[-len(after) :] == after and len(tokens) > len(after):
            rest = tokens[: -len(after)]
            for before in words.again_before:
                if rest[: len(before)] == before:
                    rest = rest[len(before) :]
                    break
            return FeedbackRequest("again_song", " ".join(rest))
    cues = (
        ("unblock", words.unblock, True),
        ("block", words.block_strong, True),
        ("like", words.like_strong, True),
        ("dislike", words.dislike_strong, True),
        ("block", words.block_weak, False),
        ("like", words.like_weak, False),
        ("dislike", words.dislike_weak, False),
    )
    for kind, phrases, strong in cues:
        for phrase in phrases:
            if tokens[: len(phrase)] == phrase and len(tokens) > len(phrase):
                target = " ".join(tokens[len(phrase) :])
                if kind == "like" and tuple(target.split()) in words.liked:
                    return FeedbackRequest("liked")
                return FeedbackRequest(kind, target, strong)
    for kind, phrases in (("like", words.like_after), ("dislike", words.dislike_after)):
        for phrase in phrases:
            if tokens[-len(phrase) :] == phrase and len(tokens) > len(phrase):
                return FeedbackRequest(kind, " ".join(tokens[: -len(phrase)]), strong=False)
    return None


def is_liked_phrase(target: str, words: FeedbackWords) -> bool:
    """Whether the words after "more like" mean every liked song ("the ones I liked")."""
    return tuple(normalized(target).replace("'", "").split()) in words.liked


@dataclass(frozen=True)
class Found:
    """A song (``row``) or artist (``artist``) a feedback message names, or the one sentence saying it names none."""

    row: int | None = None
    artist: str | None = None
    reply: str | None = None


def find_song(target: str, state: DialogueState, catalogue: CatalogueView, strong: bool) -> Found | None:
    """The song ``target`` names: a list number, ``it`` for a one-song list, a title on the list (typos allowed) or,
    for a strong cue, a catalogue title. None when a weak cue's words name nothing (the message is a request)."""
    target = target.strip()
    if not target:
        return Found(reply="Say which song: its number in the last answer (*love #2*) or its title.")
    number = reference_number(target, state)
    if number is not None:
        if not state.shown:
            return Found(reply=f"There is no list yet, so there is no #{number}. Ask for some songs first.")
        result = next((r for r in state.shown if r.rank == number), None)
        if result is None:
            return Found(reply=f"There is no #{number} in this list; it runs from #1 to #{state.shown[-1].rank}.")
        return Found(row=catalogue.row_of(result.song_id))
    if target in _IT:
        if len(state.last_page) == 1:
            return Found(row=catalogue.row_of(state.last_page[0].song_id))
        if strong:
            return Found(reply="Which one? Say its number in the list, like *love #2*.")
        return None
    shown_rows = [r for r in (catalogue.row_of(s) for s in state.shown_ids) if r is not None]
    if shown_rows:
        try:
            return Found(row=catalogue.title_index.find(target, rows=shown_rows).row)
        except SongNotFound:
            pass
    if not strong:
        return None
    try:
        match = catalogue.title_index.find(target)
    except SongNotFound as missing:
        near = "; ".join(f"*{escape_markdown(s)}*" for s in missing.suggestions)
        return Found(
            reply=f"There is no song called '{escape_markdown(target)}' in this catalogue"
            + (f"; the nearest titles: {near}." if near else ".")
        )
    return Found(row=match.row)


def find_artist(target: str, known: tuple[str, ...], strong: bool) -> Found | None:
    """The artist ``target`` names among ``known`` (the catalogue's spellings); for a strong cue an unknown name is
    a sentence with the nearest names, for a weak one None (``never sad songs`` is a request)."""
    try:
        return Found(artist=known_name(target, known, "artist"))
    except QueryError as error:
        return Found(reply=escape_markdown(str(error))) if strong else None


def give_feedback(kind: str, found: Found, state: DialogueState, catalogue: CatalogueView) -> tuple[str, DialogueState]:
    """Apply one verdict to the conversation's feedback and say what it will do."""
    if found.reply is not None:
        return found.reply, state
    feedback = state.feedback
    if kind in ("block", "unblock"):
        artist = str(found.artist)
        shown = f"**{escape_markdown(artist)}**"
        if kind == "block":
            reply = (
                f"Blocked {shown}: no song of theirs will come back. Say *unblock {escape_markdown(artist)}* to undo."
            )
            return reply, dataclasses.replace(state, feedback=feedback.block(artist))
        saved = state.saved.unblock(artist)
        return f"Unblocked {shown}.", dataclasses.replace(state, feedback=feedback.unblock(artist), saved=saved)
    row = int(found.row)  # type: ignore[arg-type]
    song_id = str(catalogue.song_ids[row])
    name = f"**{escape_markdown(catalogue.titles[row])}** by {escape_markdown(catalogue.artists[row])}"
    if kind == "like":
        reply = f"Noted: you like {name}. The next answers lean towards it (*show more*, or ask for something)."
        return reply, dataclasses.replace(state, feedback=feedback.like(song_id))
    reply = f"Noted: not {name}. It will not come back, and the next answers lean away from it."
    return reply, dataclasses.replace(state, feedback=feedback.dislike(song_id))


def show_again(target: str, state: DialogueState) -> str:
    """One song of the list once more ("show #3 again"), or a sentence saying the list has no such song."""
    number = reference_number(target, state)
    if not state.shown:
        return "There is no list yet. Ask for some songs first."
    if number is None:
        return f"Say which one by its number, from *show #1 again* to *show #{state.shown[-1].rank} again*."
    result = next((r for r in state.shown if r.rank == number), None)
    if result is None:
        return f"There is no #{number} in this list; it runs from #1 to #{state.shown[-1].rank}."
    return response_as_markdown(SearchResponse(query="", understood="", results=[result]))


def repeat_last(state: DialogueState, catalogue: CatalogueView) -> str:
    """The last answer once more ("again"), without any song disliked or by an artist blocked since."""
    if not state.last_page:
        return "There is nothing to repeat yet. Ask for some songs first."
    taste = state.taste
    blocked = catalogue.credited_mask(taste.blocked) if taste.blocked else None
    kept = [
        r
        for r in state.last_page
        if r.song_id not in taste.dislikes
        and not (blocked is not None and (row := catalogue.row_of(r.song_id)) is not None and blocked[row])
    ]
    left_out = len(state.last_page) - len(kept)
    note = [f"Left out {left_out} you turned down since."] if left_out else []
    understood = state.intent.describe() if state.intent is not None else ""
    return "Again:\n\n" + response_as_markdown(
        SearchResponse(query="", understood=understood, results=kept, notes=note)
    )
