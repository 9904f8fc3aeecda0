"""The conversation: follow-ups refine the previous request instead of starting over.

``respond(message, state, engine)`` is a pure function: it reads one message against the state of one
conversation and returns the reply (Markdown) and the next state. A message is, in this order:

- ``start over`` (optionally followed by a new request), or ``help``;
- ``why #3`` / ``why Bad Romance``: the long explanation of a song already shown;
- ``more like #2`` / ``songs like Bad Romance [but slower]``: song-to-song similarity, keeping the conditions;
- ``show more`` / ``5 more`` / ``next``: the next page of the same request, never repeating a song;
- a refinement of the current request: it starts with a cue (``only``, ``no``, ``and``, ``but``, ...), compares
  (``calmer``, ``more upbeat``, ``older ones``), or only adds conditions (``no Kesha``, ``from 2015``);
- otherwise a new request.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import statistics
import weakref
from collections.abc import Iterable
from dataclasses import dataclass

from assistant.engine import SOFT_MATCH_WEIGHT, SearchEngine, validate_query
from assistant.escaping import escape_markdown as escape
from assistant.formatting import response_as_markdown
from assistant.results import SearchResponse, SearchResult
from assistant.understanding import FOLLOW_UP_FILLER, QueryIntent, describe_years, refine
from assistant.vocabulary import tokens
from index_builder.errors import MoodringError

HELP = (
    "Describe a mood, an activity or a moment, for example *rainy day songs* or *upbeat workout songs, nothing "
    "before 2015*. Then change the list as you like:\n\n"
    "- **calmer**, **more upbeat**, **older ones**, **newer**, **only after 2015**, **no more Drake**, "
    "**no hip hop**, **give me 5**\n"
    "- **show more**: the next songs, none repeated\n"
    "- **more like #2** or **more like Bad Romance**: songs that sound like it\n"
    "- **why #3**: everything about why a song is on the list\n"
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
_CHIT_CHAT = frozenset({
    "hi", "hello", "hey", "thanks", "thank", "cheers", "cool", "great", "nice", "good", "awesome", "perfect", "bye",
    "yes", "no", "yeah", "nope", "ok", "okay", "hmm", "lol",
})  # fmt: skip
"""A message made only of these (and filler) is small talk, not a request to search for."""

LEAD_CUES = frozenset({
    "and", "but", "only", "just", "now", "also", "plus", "make", "even", "except", "without", "no", "not", "nothing",
    "none", "never", "drop", "remove", "skip", "exclude", "excluding", "avoid", "minus", "instead", "rather",
    "maybe", "same", "keep", "by", "less", "more",
})  # fmt: skip
"""A message starting with one of these changes the current request."""
LEAD_PHRASES = ("what about", "how about", "what if", "make it", "make them")
COMPARATIVES = frozenset({
    "calmer", "faster", "slower", "happier", "sadder", "louder", "quieter", "softer", "longer", "shorter", "older",
    "newer", "darker", "brighter", "chiller", "mellower", "gentler", "heavier", "lighter", "livelier", "harder",
    "earlier", "recent", "more", "less", "fewer", "ones", "them", "those", "these", "instead", "anymore",
})  # fmt: skip
"""A message containing one of these changes the current request wherever the word stands."""
_OLDER = re.compile(r"\b(?:older|earlier|oldies|oldest)\b(?!\s+than\s+\d)")
_NEWER = re.compile(r"\b(?:newer|more\s+recent|recent|later\s+ones|latest|newest|fresher)\b(?!\s+than\s+\d)")

_START_OVER = re.compile(
    r"^(?:(?:let'?s|please|ok(?:ay)?|can\s+we)\s+)?"
    r"(?:start\s+(?:over|again|afresh|fresh|from\s+scratch)|restart|reset|new\s+(?:search|request|conversation|chat)"
    r"|forget\s+(?:it|that|everything|all\s+(?:of\s+)?that)|clear\s+(?:it|all|everything)(?=\s*$)|clear(?=\s*$))"
    r"(?:\s*[,.:;!-]+\s*|\s+|$)(?P<rest>.*)$"
)
_HELP = re.compile(r"^(?:help|\?|what\s+can\s+(?:you|i)\s+(?:do|say|ask)|how\s+does\s+(?:this|it)\s+work)$")
_WHY = re.compile(
    r"^(?:why(?!\s+not\b)|explain|how\s+come|tell\s+me\s+(?:more\s+)?about|more\s+(?:info\s+|details\s+)?about"
    r"|details\s+(?:on|about|for)|what(?:'s|\s+is)?\s+(?:special\s+|good\s+)?about)\b\s*(?P<target>.*)$"
)
_WHY_FILLER = re.compile(
    r"^(?:(?:is|was|did|do|does|you|u|pick|picked|choose|chose|chosen|recommend|recommended|suggest|suggested|include"
    r"|included|put|the|song|track|this|that|it|there|here|about|for|on|of|so|high|in)\s+)+"
)
_WHY_TAIL = re.compile(r"(?:\s+(?:there|here|in\s+(?:the|this|my)\s+list|on\s+(?:the|this|my)\s+list|chosen|picked))+$")
_LIKE = re.compile(
    r"^(?:(?:please\s+)?(?:show|give|find|play|get|recommend)\s+(?:me\s+)?)?(?:some\s+|more\s+|other\s+)?"
    r"(?:songs?|tracks?|something|anything|ones|stuff|music|more)?\s*(?:more\s+)?"
    r"(?:like|similar\s+to|that\s+sounds?\s+like|sounding\s+like|resembling|in\s+the\s+style\s+of)\s+(?P<target>.+)$"
)
_MORE = re.compile(
    r"^(?:please\s+)?(?:(?:show|give|get|find|play|load|send)\s+(?:me\s+)?)?(?:(?P<n1>\d{1,3})\s+)?"
    r"(?:more|next|another|others|other\s+ones|keep\s+going|continue|next\s+page|the\s+next|the\s+rest)"
    r"(?:\s+(?P<n2>\d{1,3}))?(?:\s+(?:songs?|tracks?|results?|ones?|of\s+(?:those|these|them|that)|please|page))*$"
)
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "1st": 1, "2nd": 2, "3rd": 3, "last": -1, "top": 1,
}  # fmt: skip
_REFERENCE = re.compile(
    r"^(?:the\s+)?(?:(?:#|no\.?\s*|nr\.?\s*|number\s+|num\s+|song\s+|track\s+|result\s+)?#?(?P<number>\d{1,3})"
    r"|(?P<ordinal>" + "|".join(_ORDINALS) + r")(?:\s+(?:one|song|track|result))?)$"
)
_TITLE_SPLIT = re.compile(
    r"\s*(?:[,;]|\s(?:but|and|without|only|no|not|except|from|before|after|since|with|please|that|in\s+the)\s)\s*"
)
_THE_LIST = {"this", "that", "these", "those", "them", "it"}
"""``more like these`` (or ``this``, ``them``) takes the last list itself as the example."""
LIKE_LIST_SEEDS = 5
"""``more like these`` leans towards the average of the last list's first this-many songs."""
TITLE_CUTOFF = 0.82
"""How close (difflib ratio, 0-1) a typed title must be to a catalogue title to count as naming it."""


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
    relaxed: str | None = None
    """The condition the current request had to drop to find anything, so later pages drop the same one."""
    answers: int = 0
    """Replies with songs so far in this conversation (the first one carries a hint about follow-ups)."""

    @property
    def shown_ids(self) -> tuple[str, ...]:
        """Ids of every song shown for the current request."""
        return tuple(result.song_id for result in self.shown)


@dataclass(frozen=True)
class FollowUp:
    """What kind of message this is, before any parsing against the catalogue."""

    kind: str
    """``start_over``, ``help``, ``why``, ``like``, ``more`` or ``request`` (a refinement or a new request)."""
    target: str = ""
    """The song a ``why`` or ``like`` refers to (``#2``, ``second``, a title), or the text after ``start over``."""
    count: int | None = None


def read_follow_up(message: str) -> FollowUp:
    """Classify a message by its shape alone: ``why #3`` -> FollowUp("why", "3")."""
    text = _normalized(message)
    if match := _START_OVER.match(text):
        return FollowUp("start_over", match.group("rest").strip())
    if _HELP.match(text):
        return FollowUp("help")
    if match := _WHY.match(text):
        target = _WHY_TAIL.sub("", _WHY_FILLER.sub("", match.group("target"))).strip()
        if text.startswith(("why", "explain", "how come")) or _REFERENCE.match(target):
            return FollowUp("why", target)
    if match := _MORE.match(text):
        number = match.group("n1") or match.group("n2")
        return FollowUp("more", count=int(number) if number else None)
    if match := _LIKE.match(text):
        return FollowUp("like", match.group("target").strip())
    return FollowUp("request")


def respond(
    message: str, state: DialogueState, engine: SearchEngine, k: int | None = None
) -> tuple[str, DialogueState]:
    """The reply to one message (Markdown) and the conversation's next state; ``k`` is the page size."""
    try:
        text = validate_query(message)
        follow_up = read_follow_up(text)
        if follow_up.kind == "start_over":
            if follow_up.target and any(ch.isalnum() for ch in follow_up.target):
                return _new_request(follow_up.target, DialogueState(answers=state.answers), engine, k)
            return "Starting over. What are you in the mood for?", DialogueState(answers=state.answers)
        if follow_up.kind == "help":
            return HELP, state
        if follow_up.kind == "why":
            return _why(follow_up.target, state, engine), state
        if follow_up.kind == "more":
            return _show_more(follow_up.count, state, engine, k)
        if follow_up.kind == "like":
            answer = _more_like(follow_up.target, text, state, engine, k)
            if answer is not None:
                return answer
        return _request(text, state, engine, k)
    except MoodringError as error:
        return escape(str(error)), state


# ---- the kinds of message -------------------------------------------------------------------------------------


def _request(text: str, state: DialogueState, engine: SearchEngine, k: int | None) -> tuple[str, DialogueState]:
    """A refinement of the current request when the message reads like one, else a new request."""
    if set(tokens(_normalized(text))) <= _CHIT_CHAT | FOLLOW_UP_FILLER:
        if state.intent is None:
            return HELP, state
        return NUDGE, state
    if state.intent is None:
        return _new_request(text, state, engine, k)
    older, newer = bool(_OLDER.search(_normalized(text))), bool(_NEWER.search(_normalized(text)))
    remainder = _NEWER.sub(" ", _OLDER.sub(" ", _normalized(text))) if (older or newer) else text
    change = engine.understand(remainder)
    if not (older or newer or is_refinement(text, change)):
        return _new_request(text, state, engine, k)
    notes = []
    if older or newer:
        years = [r.year for r in state.last_page if r.year is not None]
        if years:
            middle = int(statistics.median(years))
            if older:
                change.year_min, change.year_max = None, middle - 1
            else:
                change.year_min, change.year_max = middle + 1, None
        else:
            notes.append("The last answer had no release years, so 'older' and 'newer' cannot be applied.")
    if _is_empty(change) and not (older or newer):
        return NUDGE, state
    intent, dropped = refine(state.intent, change)
    if change.year_max is not None and older:
        intent.year_max = change.year_max  # "older" moves the window down: an earlier floor above it goes
        if intent.year_min is not None and intent.year_min > intent.year_max:
            intent.year_min = None
    elif change.year_min is not None and newer:
        intent.year_min, intent.year_max = change.year_min, None  # "newer" moves it up, past an earlier cap
    notes.insert(0, "Changed the last request" + (f" (dropped {', '.join(dropped)})." if dropped else "."))
    next_state = dataclasses.replace(state, intent=intent, shown=(), last_page=(), page=0, relaxed=None)
    return _answer(next_state, engine, _page_size(intent, k, state), notes=notes)


def _new_request(text: str, state: DialogueState, engine: SearchEngine, k: int | None) -> tuple[str, DialogueState]:
    intent = engine.understand(text)
    fresh = DialogueState(intent=intent, page_size=k, answers=state.answers)
    return _answer(fresh, engine, _page_size(intent, k, fresh))


def _show_more(
    count: int | None, state: DialogueState, engine: SearchEngine, k: int | None
) -> tuple[str, DialogueState]:
    if state.intent is None:
        return "Ask for some songs first, for example *happy songs for a road trip*.", state
    return _answer(state, engine, count or _page_size(state.intent, k, state), more=True)


def _more_like(
    target: str, text: str, state: DialogueState, engine: SearchEngine, k: int | None
) -> tuple[str, DialogueState] | None:
    """Songs that sound like the one named; None when the target names no song (then the message is a request)."""
    words = _normalized(target).split(" ", 1)
    if words[0] in _THE_LIST and state.last_page:
        seeds = state.last_page[:LIKE_LIST_SEEDS]
        like_ids, label, rest = tuple(r.song_id for r in seeds), "the last list", words[1] if len(words) > 1 else ""
    else:
        found = _find_song(target, state, engine, whole_catalogue=True)
        if found is None:
            return None
        row, rest = found
        song = engine.songs.iloc[row]
        like_ids, label = (str(song["song_id"]),), f"{song['title']} by {song['artist']}"
    # A song from the list keeps the list's conditions; any other song starts a request of its own.
    from_list = set(like_ids) <= set(state.shown_ids)
    intent = state.intent if (from_list and state.intent is not None) else QueryIntent(text=text)
    notes = []
    if rest:
        change = engine.understand(rest)
        if not _is_empty(change):
            intent, dropped = refine(intent, change)
            if dropped:
                notes.append(f"Dropped {', '.join(dropped)}.")
    like_state = DialogueState(
        intent=intent,
        page_size=state.page_size or k,
        like_ids=like_ids,
        like_labels=(label,),
        skip_ids=(*(state.skip_ids if from_list else ()), *like_ids),
        answers=state.answers,
    )
    return _answer(like_state, engine, _page_size(intent, k, state), notes=notes)


def _why(target: str, state: DialogueState, engine: SearchEngine) -> str:
    if not state.shown:
        return "There is no list to explain yet. Ask for some songs first."
    if not target:
        if len(state.last_page) == 1:
            return explain_in_full(state.last_page[0], state, engine)
        return f"Which one? Say *why #1* up to *why #{state.shown[-1].rank}*, or *why* and a title."
    number = _reference_number(target, state)
    if number is not None:
        for result in state.shown:
            if result.rank == number:
                return explain_in_full(result, state, engine)
        return f"There is no #{number} in this list; it runs from #1 to #{state.shown[-1].rank}."
    found = _find_song(target, state, engine, whole_catalogue=False)
    if found is None:
        return f"I did not show a song called '{escape(target)}'. Say *why #N* with its number in the list."
    song_id = str(engine.songs.iloc[found[0]]["song_id"])
    result = next(r for r in state.shown if r.song_id == song_id)
    return explain_in_full(result, state, engine)


# ---- answers ------------------------------------------------------------------------------------------------------


def _answer(
    state: DialogueState, engine: SearchEngine, size: int | None, notes: list[str] | None = None, more: bool = False
) -> tuple[str, DialogueState]:
    """Search for the state's request (the next page when ``more``) and render the reply; None size: the default."""
    assert state.intent is not None
    intent = dataclasses.replace(state.intent, count=size) if more else state.intent
    exclude = set(state.skip_ids) | (set(state.shown_ids) if more else set())
    response = engine.search_intent(intent, size, exclude_ids=exclude, like_ids=state.like_ids)
    if more and (not response.results or response.relaxed != state.relaxed):
        total = len(state.shown)
        return (
            f"That is every song that fits this request ({total} shown). Change a condition, ask for something "
            "similar to one of them (*more like #1*), or *start over*.",
            state,
        )
    offset = len(state.shown) if more else 0
    page = tuple(dataclasses.replace(r, rank=offset + i) for i, r in enumerate(response.results, 1))
    understood = "; ".join(
        part for part in (", ".join(f"songs like {label}" for label in state.like_labels), response.understood) if part
    )
    shown = SearchResponse(
        query=response.query,
        understood=understood,
        results=list(page),
        notes=[*(notes or []), *response.notes],
        relaxed=response.relaxed,
    )
    reply = response_as_markdown(shown)
    if more:
        reply = f"More of the same, #{offset + 1} on:\n\n{reply}"
    if state.answers == 0 and page:
        reply += "\n\n" + HINT
    next_state = dataclasses.replace(
        state,
        intent=state.intent,
        shown=(*state.shown, *page) if more else page,
        last_page=page,
        page=state.page + 1 if more else 1,
        relaxed=response.relaxed,
        answers=state.answers + (1 if page else 0),
    )
    return reply, next_state


def explain_in_full(result: SearchResult, state: DialogueState, engine: SearchEngine) -> str:
    """Everything about why a shown song is there: each asked-for word it has or lacks, conditions, its words."""
    intent = state.intent or QueryIntent(text="")
    row = engine.row_of(result.song_id)
    words = engine.song_words(row) if row is not None else {}
    year = f", {result.year}" if result.year else ""
    lines = [
        f"**#{result.rank} {escape(result.title)}** by {escape(result.artist)} ({escape(result.genre)}{year})",
        "",
        f"Score {result.score:.3f}: how close its description is to your request (cosine similarity), plus up to "
        f"{SOFT_MATCH_WEIGHT:g} for the mood words it has.",
        "",
    ]
    for concept in intent.concepts:
        kind = "must have" if concept.constraint else "leaning towards"
        checks = []
        for feature, wanted in concept.wants.items():
            has = words.get(feature)
            if has is None:
                checks.append(f"no {feature.replace('_', ' ')} in this catalogue")
            elif has in wanted:
                checks.append(f"✓ {has}")
            else:
                checks.append(f"✗ {has} (wanted {' or '.join(sorted(wanted))})")
        lines.append(f"- **{escape(concept.label)}** ({kind}): {escape('; '.join(checks))}")
    for concept in intent.excluded_concepts:
        clashes = [words[f] for f, unwanted in concept.wants.items() if words.get(f) in unwanted]
        verdict = "✗ " + ", ".join(clashes) if clashes else "✓ avoided"
        lines.append(f"- **not {escape(concept.label)}**: {escape(verdict)}")
    conditions = _conditions(result, intent, state)
    if conditions:
        lines.append(f"- **Conditions:** {escape('; '.join(conditions))}")
    if words:
        lines.append(f"- **All its words:** {escape(', '.join(words.values()))}")
    description = " ".join(result.description.split())
    lines += ["", f"> {escape(description)}"]
    return "\n".join(lines)


def _conditions(result: SearchResult, intent: QueryIntent, state: DialogueState) -> list[str]:
    conditions = []
    years = describe_years(intent.year_min, intent.year_max)
    if years:
        conditions.append(f"released {result.year if result.year is not None else 'in an unknown year'} ({years})")
    if intent.genres:
        conditions.append(f"genre {result.genre} ({' or '.join(intent.genres)})")
    if intent.excluded_genres:
        conditions.append(f"not {', '.join(intent.excluded_genres)}")
    if intent.artists:
        conditions.append(f"by {result.artist}")
    if intent.excluded_artists:
        conditions.append(f"not by {', '.join(intent.excluded_artists)}")
    if state.like_labels:
        conditions.append(f"sounds like {', '.join(state.like_labels)}")
    if state.relaxed:
        conditions.append(f"dropped to find anything: {state.relaxed}")
    return conditions


# ---- reading messages ---------------------------------------------------------------------------------------------


def is_refinement(text: str, change: QueryIntent) -> bool:
    """Whether a message changes the current request rather than asking for something new.

    It does when it starts with a cue word, compares (``calmer``, ``more upbeat``, ``older ones``), or says
    nothing positive of its own: only exclusions, years or a count (``no Kesha``, ``from 2015``, ``give me 5``).
    """
    words = tokens(text)
    if not words:
        return False
    if words[0] in LEAD_CUES or _normalized(text).startswith(LEAD_PHRASES) or any(w in COMPARATIVES for w in words):
        return True
    positive = change.concepts or change.genres or change.artists or change.similar_artists
    content = [w for w in tokens(change.content_text) if w not in FOLLOW_UP_FILLER]
    return not positive and not content and not _is_empty(change)


def _is_empty(intent: QueryIntent) -> bool:
    """Nothing to act on: no wish, condition, count or content word."""
    content = [w for w in tokens(intent.content_text) if w not in FOLLOW_UP_FILLER]
    return not (intent.has_constraints or intent.concepts or intent.similar_artists or intent.count or content)


def _page_size(intent: QueryIntent, k: int | None, state: DialogueState) -> int | None:
    return intent.count or k or state.page_size


def _normalized(message: str) -> str:
    text = " ".join(message.casefold().replace("’", "'").split())
    return text.rstrip(" .!?")


def _reference_number(target: str, state: DialogueState) -> int | None:
    """``#2``, ``2``, ``number 2``, ``the second one`` -> 2; ``the last one`` -> the last shown rank."""
    match = _REFERENCE.match(_normalized(target))
    if match is None:
        return None
    if match.group("number"):
        return int(match.group("number"))
    number = _ORDINALS[match.group("ordinal")]
    if number == -1:
        return state.last_page[-1].rank if state.last_page else None
    return (state.last_page[0].rank - 1 + number) if state.last_page else number


def _find_song(
    target: str, state: DialogueState, engine: SearchEngine, whole_catalogue: bool
) -> tuple[int, str] | None:
    """The row of the song ``target`` names (a list number or a title, typos allowed) and the words after it.

    The longest leading part that names a song wins, so ``stay with me but slower`` finds "Stay With Me" and
    leaves ``but slower`` as a change to the request.
    """
    text = _normalized(target)
    ends = [len(text), *(m.start() for m in reversed(list(_TITLE_SPLIT.finditer(text))))]
    titles: dict[str, list[int]] | None = None  # built only when a part is not a list number
    for end in ends:
        name, rest = text[:end].strip(), text[end:].strip(" ,;")
        number = _reference_number(name, state)
        if number is not None:
            result = next((r for r in state.shown if r.rank == number), None)
            row = engine.row_of(result.song_id) if result else None
            return (row, rest) if row is not None else None
        titles = titles if titles is not None else _title_table(engine, state, whole_catalogue)
        row = _match_title(name, titles, engine, state)
        if row is not None:
            return row, rest
    return None


_CATALOGUE_TITLES: weakref.WeakKeyDictionary[SearchEngine, dict[str, list[int]]] = weakref.WeakKeyDictionary()
"""Each engine's whole-catalogue title table, built on first use (30,000 titles: about half a second)."""


def _title_table(engine: SearchEngine, state: DialogueState, whole_catalogue: bool) -> dict[str, list[int]]:
    """Plain titles to catalogue rows: every song, or only the ones shown in this conversation (do not modify)."""
    if not whole_catalogue:
        rows = [r for r in (engine.row_of(res.song_id) for res in state.shown) if r is not None]
        return _titles_of(engine, rows)
    table = _CATALOGUE_TITLES.get(engine)
    if table is None:
        table = _CATALOGUE_TITLES[engine] = _titles_of(engine, range(len(engine.songs)))
    return table


def _titles_of(engine: SearchEngine, rows: Iterable[int]) -> dict[str, list[int]]:
    titles = engine.arrays.titles
    table: dict[str, list[int]] = {}
    for row in rows:
        table.setdefault(_plain_title(titles[row]), []).append(int(row))
    return table


def _match_title(name: str, titles: dict[str, list[int]], engine: SearchEngine, state: DialogueState) -> int | None:
    """The row whose title (optionally ``by`` an artist) is closest to ``name``, if it is close enough."""
    title, _, artist = name.partition(" by ")
    title = _plain_title(title)
    if len(title) < 3:
        return None
    # An exact title is its own closest match (the only ratio of 1), so the fuzzy scan is skipped for it.
    close = [title] if title in titles else difflib.get_close_matches(title, list(titles), n=1, cutoff=TITLE_CUTOFF)
    if not close:
        return None
    candidates = titles[close[0]]
    artists, ids = engine.arrays.artists, engine.arrays.song_ids
    shown = set(state.shown_ids)
    wanted = _plain_title(artist)

    def preference(row: int) -> tuple[bool, bool]:
        by_artist = bool(wanted) and wanted in _plain_title(str(artists[row]))
        return (not by_artist, ids[row] not in shown)  # the named artist first, then a song on the list

    return min(candidates, key=preference)


def _plain_title(title: str) -> str:
    """``Bad Romance (feat. X) - Remix`` -> ``bad romance``: what a person would type."""
    text = re.sub(r"[(\[].*?[)\]]", " ", title.casefold())
    text = re.split(r"\s+-\s+", text)[0]
    return " ".join(tokens(text))
