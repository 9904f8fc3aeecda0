"""Reading a message's shape before any search: start over, help, why, more like, show more, or a request; and
whether a request refines the current one."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.dialogue.state import DialogueState
from assistant.understanding import QueryIntent
from assistant.vocabulary import tokens
from assistant.word_lists import WordLists, load_word_lists

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
TITLE_SPLIT = re.compile(
    r"\s*(?:[,;]|\s(?:but|and|without|only|no|not|except|from|before|after|since|with|please|that|in\s+the)\s)\s*"
)
THE_LIST = {"this", "that", "these", "those", "them", "it"}
"""``more like these`` (or ``this``, ``them``) takes the last list itself as the example."""


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
    text = normalized(message)
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


def is_refinement(text: str, change: QueryIntent, lists: WordLists | None = None) -> bool:
    """Whether a message changes the current request rather than asking for something new.

    It does when it starts with a cue word, compares (``calmer``, ``more upbeat``, ``older ones``), or says
    nothing positive of its own: only exclusions, years or a count (``no Kesha``, ``from 2015``, ``give me 5``).
    """
    lists = lists or load_word_lists()
    words = tokens(text)
    if not words:
        return False
    if words[0] in lists.lead_cues or normalized(text).startswith(lists.lead_phrases):
        return True
    if any(w in lists.comparatives for w in words):
        return True
    positive = change.concepts or change.genres or change.artists or change.similar_artists
    content = [w for w in tokens(change.content_text) if w not in lists.follow_up_filler]
    return not positive and not content and not is_empty(change, lists)


def is_empty(intent: QueryIntent, lists: WordLists) -> bool:
    """Nothing to act on: no wish, condition, count, playlist shape or content word."""
    content = [w for w in tokens(intent.content_text) if w not in lists.follow_up_filler]
    return not (
        intent.has_constraints
        or intent.concepts
        or intent.similar_artists
        or intent.count
        or intent.shapes_playlist
        or content
    )


def normalized(message: str) -> str:
    """Lower case, curly apostrophes straightened, spaces collapsed, closing punctuation dropped."""
    text = " ".join(message.casefold().replace("’", "'").split())
    return text.rstrip(" .!?")


def reference_number(target: str, state: DialogueState) -> int | None:
    """``#2``, ``2``, ``number 2``, ``the second one`` -> 2; ``the last one`` -> the last shown rank."""
    match = _REFERENCE.match(normalized(target))
    if match is None:
        return None
    if match.group("number"):
        return int(match.group("number"))
    number = _ORDINALS[match.group("ordinal")]
    if number == -1:
        return state.last_page[-1].rank if state.last_page else None
    return (state.last_page[0].rank - 1 + number) if state.last_page else number


def is_small_talk(text: str, lists: WordLists) -> bool:
    """Whether a message says nothing to search for ("thanks!", "ok cool")."""
    return set(tokens(normalized(text))) <= lists.chit_chat | lists.follow_up_filler


def years_relative(text: str) -> tuple[bool, bool, str]:
    """Whether a message asks for older or newer songs than the last answer, and the message without those words."""
    text = normalized(text)
    older, newer = bool(_OLDER.search(text)), bool(_NEWER.search(text))
    return older, newer, _NEWER.sub(" ", _OLDER.sub(" ", text))
