"""One turn of the conversation: ``respond(message, state, engine)`` reads a message against the state and returns
the reply (Markdown) and the next state. A pure function: the state is frozen and nothing else is kept."""

from __future__ import annotations

import dataclasses
import functools
import re
import statistics
from collections.abc import Sequence

from assistant.dialogue.feedback import (
    FeedbackRequest,
    find_artist,
    find_song,
    give_feedback,
    is_liked_phrase,
    read_feedback,
    repeat_last,
    show_again,
)
from assistant.dialogue.moves import moves_mask, plan_moves, relative_words, shift_notes, without_asked
from assistant.dialogue.reading import (
    THE_LIST,
    TITLE_SPLIT,
    is_empty,
    is_refinement,
    is_small_talk,
    normalized,
    read_continuation,
    read_follow_up,
    reference_number,
    years_relative,
)
from assistant.dialogue.references import missed_reference, named_part
from assistant.dialogue.refining import refine
from assistant.dialogue.rendering import CONTINUE_HINT, HELP, NOT_ENGLISH, NUDGE, render_page
from assistant.dialogue.state import DialogueState
from assistant.discovery.continuation import continue_playlist
from assistant.engine import SearchEngine, validate_query
from assistant.escaping import escape_markdown
from assistant.explain import explain_in_full
from assistant.language import english_check
from assistant.results import SearchResult
from assistant.titles import SongNotFound
from assistant.understanding import QueryIntent, understand
from assistant.vocabulary import tokens
from assistant.word_lists import FEEDBACK_FILE, load_feedback_words
from index_builder.errors import MoodringError


def respond(
    message: str, state: DialogueState, engine: SearchEngine, k: int | None = None
) -> tuple[str, DialogueState]:
    """The reply to one message (Markdown) and the conversation's next state; ``k`` is the page size."""
    try:
        text = validate_query(message)
        follow_up = read_follow_up(text)
        if follow_up.kind == "start_over":
            if follow_up.target and any(ch.isalnum() for ch in follow_up.target):
                return _new_request(follow_up.target, _fresh(state), engine, k)
            return "Starting over. What are you in the mood for?", _fresh(state)
        if follow_up.kind == "help":
            return HELP, state
        heard = read_feedback(text, load_feedback_words(engine.settings.prompts_dir / FEEDBACK_FILE))
        if heard is not None:
            answer = _feedback(heard, state, engine, k)
            if answer is not None:
                return answer
        if follow_up.kind == "why":
            return _why(follow_up.target, state, engine), state
        if follow_up.kind == "continue":
            return _continue_playlist(text, state, engine, k)
        if follow_up.kind == "more":
            return _show_more(follow_up.count, state, engine, k)
        if follow_up.kind == "like" and is_liked_phrase(
            follow_up.target, load_feedback_words(engine.settings.prompts_dir / FEEDBACK_FILE)
        ):
            return _like_liked(state, engine, k)
        if follow_up.kind == "like":
            answer = _more_like(follow_up.target, text, state, engine, k)
            if answer is not None:
                return answer
        if not english_check(engine).read(text).english:
            return _not_english(text, state, engine, k)
        return _request(text, state, engine, k)
    except MoodringError as error:
        return escape_markdown(str(error)), state


# ---- the kinds of message -------------------------------------------------------------------------------------


def _request(
    text: str, state: DialogueState, engine: SearchEngine, k: int | None, notes: list[str] | None = None
) -> tuple[str, DialogueState]:
    """A refinement of the current request when the message reads like one, else a new request; ``notes`` head
    the reply."""
    lists = engine.vocabulary.words
    if is_small_talk(text, lists):
        return (HELP, state) if state.intent is None else (NUDGE, state)
    if state.intent is None:
        return _new_request(text, state, engine, k, notes)
    older, newer, without_years = years_relative(text)
    asks = relative_words(engine.catalogue).read(without_years)
    change = without_asked(engine.understand(without_years if (older or newer) else text), asks)
    if not (older or newer or asks or is_refinement(text, change, lists)):
        return _new_request(text, state, engine, k, notes)
    notes = list(notes or [])
    shifts: list[tuple[str, float]] = []
    if older or newer:
        years = [r.year for r in state.last_page if r.year is not None]
        if years:
            middle = int(statistics.median(years))
            shifts.append(("year", statistics.median(years)))
            if older:
                change.year_min, change.year_max = None, middle - 1
            else:
                change.year_min, change.year_max = middle + 1, None
        else:
            notes.append("The last answer had no release years, so 'older' and 'newer' cannot be applied.")
    if is_empty(change, lists) and not (older or newer or asks):
        return NUDGE, state
    intent, dropped = refine(state.intent, change, lists.follow_up_filler)
    if change.year_max is not None and older:
        intent.year_max = change.year_max  # "older" moves the window down: an earlier floor above it goes
        if intent.year_min is not None and intent.year_min > intent.year_max:
            intent.year_min = None
    elif change.year_min is not None and newer:
        intent.year_min, intent.year_max = change.year_min, None  # "newer" moves it up, past an earlier cap
    size = _page_size(intent, k, state)
    needed = size or engine.settings.top_k
    plan = plan_moves(asks, intent, state, engine.catalogue, needed, engine.vocabulary.words.genre_families)
    if plan.stuck is not None:
        return plan.stuck, state
    dropped = list(dict.fromkeys([*dropped, *plan.dropped]))
    notes = [*plan.notes, *notes]
    notes.insert(0, "Changed the last request" + (f" (dropped {', '.join(dropped)})." if dropped else "."))
    next_state = dataclasses.replace(
        state, intent=plan.intent, moves=plan.moves, shown=(), last_page=(), page=0, relaxed=None
    )
    return _answer(next_state, engine, size, notes=notes, shifts=[*shifts, *plan.shifts])


def _new_request(
    text: str, state: DialogueState, engine: SearchEngine, k: int | None, notes: list[str] | None = None
) -> tuple[str, DialogueState]:
    intent = engine.understand(text)
    fresh = _fresh(state, intent=intent, page_size=k)
    return _answer(fresh, engine, _page_size(intent, k, fresh), notes=notes)


def _not_english(text: str, state: DialogueState, engine: SearchEngine, k: int | None) -> tuple[str, DialogueState]:
    """A request in another language: songs for the names and years in it, said to be only that, or, when it names
    none, a request to say it in English (the model matches English descriptions, so the rest would be a guess)."""
    read = engine.understand(text)
    names = QueryIntent(
        text=text,
        genres=read.genres,
        artists=read.artists,
        similar_artists=read.similar_artists,
        year_min=read.year_min,
        year_max=read.year_max,
        count=read.count,
    )
    if not (names.genres or names.artists or names.similar_artists or names.year_min or names.year_max):
        return NOT_ENGLISH, state
    note = (
        "This does not read as English, and songs are matched by their English descriptions, so only the names and "
        f"years were used ({names.describe()}). Say the rest in English for better songs."
    )
    fresh = _fresh(state, intent=names, page_size=k)
    return _answer(fresh, engine, _page_size(names, k, fresh), notes=[note])


def _show_more(
    count: int | None, state: DialogueState, engine: SearchEngine, k: int | None
) -> tuple[str, DialogueState]:
    if state.intent is None:
        return "Ask for some songs first, for example *happy songs for a road trip*.", state
    return _answer(state, engine, count or _page_size(state.intent, k, state), more=True)


def _more_like(
    target: str, text: str, state: DialogueState, engine: SearchEngine, k: int | None
) -> tuple[str, DialogueState] | None:
    """Songs that sound like the one named; None when the target describes a sound or names an artist (then the
    message is a request). A list number or a title that is not there is answered as such (``references.py``)."""
    words = normalized(target).split(" ", 1)
    if words[0] in THE_LIST and state.last_page:
        seeds = state.last_page[: engine.settings.like_list_seeds]
        like_ids, label, rest = tuple(r.song_id for r in seeds), "the last list", words[1] if len(words) > 1 else ""
    else:
        found = _find_song(target, state, engine, whole_catalogue=True)
        if found is None:
            understood = engine.understand(named_part(target))
            miss = missed_reference(target, text, state, engine.catalogue, understood)
            if miss is None:
                return None
            if miss.reply is not None:
                return miss.reply, state
            return _request(text, state, engine, k, notes=[miss.note] if miss.note else None)
        row, rest = found
        like_ids, label = (
            (engine.catalogue.song_ids[row],),
            f"{engine.catalogue.titles[row]} by {engine.catalogue.artists[row]}",
        )
    # A song from the list keeps the list's conditions; any other song starts a request of its own.
    from_list = set(like_ids) <= set(state.shown_ids)
    intent = state.intent if (from_list and state.intent is not None) else QueryIntent(text=text)
    notes = []
    lists = engine.vocabulary.words
    if rest:
        change = engine.understand(rest)
        if not is_empty(change, lists):
            intent, dropped = refine(intent, change, lists.follow_up_filler)
            if dropped:
                notes.append(f"Dropped {', '.join(dropped)}.")
    like_state = _fresh(
        state,
        intent=intent,
        page_size=state.page_size or k,
        like_ids=like_ids,
        like_labels=(label,),
        skip_ids=(*(state.skip_ids if from_list else ()), *like_ids),
        moves=state.moves if from_list else (),
    )
    return _answer(like_state, engine, _page_size(intent, k, state), notes=notes)


def _continue_playlist(
    text: str, state: DialogueState, engine: SearchEngine, k: int | None
) -> tuple[str, DialogueState]:
    """Songs that continue a playlist named after ``continue my playlist:`` (titles split at commas, semicolons or
    line breaks; or one catalogue playlist's name). The songs can be asked about (``why #2``) like any list."""
    target = read_continuation(text)
    names = [name.strip() for name in re.split(r"[,;\n]", target) if name.strip()]
    if not names:
        return CONTINUE_HINT, state
    response = continue_playlist(engine, names, k=state.page_size or k)
    page = tuple(response.results)
    reply = render_page(response, page, (), [], None, with_hint=state.answers == 0)
    return reply, DialogueState(shown=page, last_page=page, page_size=state.page_size, answers=state.answers + 1)


def _why(target: str, state: DialogueState, engine: SearchEngine) -> str:
    if not state.shown:
        return "There is no list to explain yet. Ask for some songs first."
    if not target:
        if len(state.last_page) == 1:
            return _explain(state.last_page[0], state, engine)
        return f"Which one? Say *why #1* up to *why #{state.shown[-1].rank}*, or *why* and a title."
    number = reference_number(target, state)
    if number is not None:
        for result in state.shown:
            if result.rank == number:
                return _explain(result, state, engine)
        return f"There is no #{number} in this list; it runs from #1 to #{state.shown[-1].rank}."
    found = _find_song(target, state, engine, whole_catalogue=False)
    if found is None:
        return f"I did not show a song called '{escape_markdown(target)}'. Say *why #N* with its number in the list."
    song_id = engine.catalogue.song_ids[found[0]]
    result = next(r for r in state.shown if r.song_id == song_id)
    return _explain(result, state, engine)


def _explain(result: SearchResult, state: DialogueState, engine: SearchEngine) -> str:
    row = engine.catalogue.row_of(result.song_id)
    words = engine.catalogue.song_words(row) if row is not None else {}
    intent = state.intent or QueryIntent(text="")
    settings = engine.settings
    return explain_in_full(
        result,
        intent,
        words,
        settings.soft_match_weight,
        settings.feature_fit_weight,
        state.like_labels,
        state.relaxed,
        engine.catalogue.shown_word,
    )


def _feedback(
    heard: FeedbackRequest, state: DialogueState, engine: SearchEngine, k: int | None
) -> tuple[str, DialogueState] | None:
    """The reply to feedback in words, or None when a weak cue's words name no song or artist (then the message is
    a request: "love songs for a wedding", "never sad")."""
    catalogue = engine.catalogue
    if heard.kind == "again":
        return repeat_last(state, catalogue), state
    if heard.kind == "again_song":
        return show_again(heard.target, state), state
    if heard.kind == "different":
        if state.intent is None:
            return "Ask for some songs first, for example *happy songs for a road trip*.", state
        fresh = dataclasses.replace(state, shown=(), last_page=(), page=0)
        return _answer(fresh, engine, state.page_size, notes=["Only songs not shown yet in this conversation."])
    if heard.kind == "liked":
        return _like_liked(state, engine, k)
    if heard.kind in ("block", "unblock"):
        found = find_artist(heard.target, engine.vocabulary.artists, heard.strong)
    else:
        found = find_song(heard.target, state, catalogue, heard.strong)
    if found is None or (found.reply and heard.kind != "unblock" and _reads_as_request(heard.target, engine)):
        return None  # "I like calm music", "I hate Mondays, cheer me up": a request, not a missing title
    return give_feedback(heard.kind, found, state, catalogue)


def _reads_as_request(target: str, engine: SearchEngine) -> bool:
    """Whether words that name no song describe songs instead: a mood, genre, artist, year or count, or a music
    word ("songs with a lot of bass")."""
    intent = understand(target, engine.vocabulary)
    named = intent.concepts or intent.excluded_concepts or intent.genres or intent.artists or intent.similar_artists
    music = engine.vocabulary.words.music_nouns & set(tokens(target))
    return bool(named or music or intent.year_min or intent.year_max or intent.count)


def _like_liked(state: DialogueState, engine: SearchEngine, k: int | None) -> tuple[str, DialogueState]:
    """ "More like the ones I liked": songs like every liked song, the current request's conditions kept."""
    liked = state.taste.like_ids
    if not liked:
        return "You have not liked a song yet. Say *love #2* about a song in a list, or click its like.", state
    rows = engine.catalogue.rows_of(liked)
    label = f"the {len(rows)} song{'s' * (len(rows) != 1)} you liked"
    intent = state.intent or QueryIntent(text="songs like the ones I liked")
    like_state = _fresh(
        state,
        intent=intent,
        page_size=state.page_size or k,
        like_ids=tuple(liked),
        like_labels=(label,),
        skip_ids=tuple(liked),
        moves=state.moves,
    )
    return _answer(like_state, engine, _page_size(intent, k, state))


def _fresh(state: DialogueState, **changes: object) -> DialogueState:
    """A new request's state: nothing of the last request, but the conversation's feedback and songs shown."""
    return DialogueState(answers=state.answers, feedback=state.feedback, saved=state.saved, seen=state.seen, **changes)  # type: ignore[arg-type]


# ---- answers ------------------------------------------------------------------------------------------------------


def _answer(
    state: DialogueState,
    engine: SearchEngine,
    size: int | None,
    notes: list[str] | None = None,
    more: bool = False,
    shifts: Sequence[tuple[str, float]] = (),
) -> tuple[str, DialogueState]:
    """Search for the state's request (the next page when ``more``) and render the reply; None size: the default.

    Songs shown earlier in the conversation stay out, unless only they fit (then the reply says they come again).
    The conversation's feedback (``state.taste``) steers every search.

    Every page keeps only songs past the state's relative moves; ``shifts`` (feature, median of the last answer)
    head the reply with how far each median went (``energy: median 0.87 -> 0.62``).
    """
    assert state.intent is not None
    intent = dataclasses.replace(state.intent, count=size) if more else state.intent
    exclude = set(state.skip_ids) | (set(state.shown_ids) if more else set())
    allowed = moves_mask(state.moves, engine.catalogue)
    taste = state.taste
    search = functools.partial(
        engine.search_intent, intent, size, like_ids=state.like_ids, allowed=allowed, feedback=taste
    )
    response = search(exclude_ids=exclude | set(state.seen))
    wanted = intent.count or size or engine.settings.top_k
    if not more and state.seen and (response.relaxed or len(response.results) < wanted):
        again = search(exclude_ids=exclude)
        if (again.relaxed is None and response.relaxed is not None) or len(again.results) > len(response.results):
            response = again
            notes = [*(notes or []), "Few songs that fit were not shown yet in this conversation, so some come again."]
    notes = [*(notes or []), *_taste_notes(state, engine)]
    if more and (not response.results or response.relaxed != state.relaxed):
        total = len(state.shown)
        return (
            f"That is every song that fits this request ({total} shown). Change a condition, ask for something "
            "similar to one of them (*more like #1*), or *start over*.",
            state,
        )
    offset = len(state.shown) if more else 0
    page = tuple(dataclasses.replace(r, rank=offset + i) for i, r in enumerate(response.results, 1))
    notes = [*shift_notes(shifts, page, engine.catalogue), *(notes or [])]
    reply = render_page(
        response, page, state.like_labels, notes, offset + 1 if more else None, with_hint=state.answers == 0
    )
    next_state = dataclasses.replace(
        state,
        intent=state.intent,
        shown=(*state.shown, *page) if more else page,
        last_page=page,
        page=state.page + 1 if more else 1,
        relaxed=response.relaxed,
        answers=state.answers + (1 if page else 0),
        seen=(*state.seen, *(r.song_id for r in page if r.song_id not in set(state.seen))),
    )
    return reply, next_state


def _taste_notes(state: DialogueState, engine: SearchEngine) -> list[str]:
    """A line saying how the listener's feedback steers this answer, when it does."""
    taste = state.taste
    parts = []
    if taste.likes:
        parts.append(f"leaning towards {len(taste.likes)} song{'s' * (len(taste.likes) != 1)} you liked")
    if taste.dislikes:
        parts.append(f"away from {len(taste.dislikes)} you disliked")
    if taste.blocked:
        parts.append("never " + ", ".join(taste.blocked))
    return [("Your feedback: " + "; ".join(parts) + ".")] if parts else []


def _page_size(intent: QueryIntent, k: int | None, state: DialogueState) -> int | None:
    return intent.count or k or state.page_size


def _find_song(
    target: str, state: DialogueState, engine: SearchEngine, whole_catalogue: bool
) -> tuple[int, str] | None:
    """The row of the song ``target`` names (a list number or a title, typos allowed) and the words after it.

    The longest leading part that names a song wins, so ``stay with me but slower`` finds "Stay With Me" and
    leaves ``but slower`` as a change to the request. Without ``whole_catalogue`` only shown songs count.
    """
    catalogue = engine.catalogue
    text = normalized(target)
    ends = [len(text), *(m.start() for m in reversed(list(TITLE_SPLIT.finditer(text))))]
    shown_rows = [r for r in (catalogue.row_of(s) for s in state.shown_ids) if r is not None]
    for end in ends:
        name, rest = text[:end].strip(), text[end:].strip(" ,;")
        number = reference_number(name, state)
        if number is not None:
            result = next((r for r in state.shown if r.rank == number), None)
            row = catalogue.row_of(result.song_id) if result else None
            return (row, rest) if row is not None else None
        if len(name) < 3:
            continue
        try:
            match = catalogue.title_index.find(name, rows=None if whole_catalogue else shown_rows, prefer=shown_rows)
        except SongNotFound:
            continue
        return match.row, rest
    return None
