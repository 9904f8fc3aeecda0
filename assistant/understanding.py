"""Split a request into what it is about (embedded) and what it demands (filters): moods, genres, artists, years."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from assistant.playlist_words import PlaylistWords, plain_words
from assistant.vocabulary import Concept, Mention, Vocabulary, tokens
from assistant.word_lists import WordLists

_DECADE = r"(?:19|20)?\d0'?s"
_YEAR = r"(?:19|20)\d{2}"


@dataclass
class QueryIntent:
    """What a request asks for. Concept lists hold positive and negated mentions separately."""

    text: str
    semantic_text: str = ""
    content_text: str = ""
    """The request's own words left for embedding (``semantic_text`` without the concepts' query words)."""
    concepts: list[Concept] = field(default_factory=list)
    excluded_concepts: list[Concept] = field(default_factory=list)
    genres: list[str] = field(default_factory=list)
    excluded_genres: list[str] = field(default_factory=list)
    artists: list[str] = field(default_factory=list)
    excluded_artists: list[str] = field(default_factory=list)
    similar_artists: list[str] = field(default_factory=list)
    year_min: int | None = None
    year_max: int | None = None
    count: int | None = None
    corrections: list[str] = field(default_factory=list)
    readings: dict[str, str] = field(default_factory=dict)
    """How words no phrase covers were read, by concept name: ``angry -> aggressive``."""
    strict: list[str] = field(default_factory=list)
    """Concepts the person insisted on ("only fast songs"): never filled with the nearest songs."""
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    """Numbers the request states, by feature, in its own units: ``tempo`` in BPM, ``duration_s`` in seconds."""
    length_s: float | None = None
    """The whole playlist's length in seconds ("45 minutes for my run"): songs add up to it instead of a count."""
    order: str | None = None
    """How to order the songs (``assistant/ordering.py``): build_up, wind_down, arc or smooth; None keeps the rank."""
    clean: bool = False
    """No songs the catalogue marks explicit ("clean", "family friendly")."""
    all_versions: bool = False
    """Keep every version of a song ("include remixes"); by default remixes, live and feat. versions count once."""
    missing_artists: dict[str, str] = field(default_factory=dict)
    """Names the request gives that no artist here has, as typed, with how: ``by`` or ``like`` (``party songs by
    Metallica``); the reply says so, and the open reading never reads one as a mood."""

    def required_words(self) -> dict[str, set[str]]:
        """Per feature, the words a result must have (intersection of the constraint concepts naming it)."""
        return _merge_wants(c for c in self.concepts if c.constraint)

    def excluded_words(self) -> dict[str, set[str]]:
        """Per feature, the words a result must not have (from negated constraint concepts)."""
        excluded: dict[str, set[str]] = {}
        for concept in self.excluded_concepts:
            for feature, words in concept.wants.items():
                excluded.setdefault(feature, set()).update(words)
        return excluded

    def wanted_words(self) -> dict[str, set[str]]:
        """Per feature, the words the request hopes for, hard or soft (used for ranking and explanations)."""
        return _merge_wants(self.concepts)

    @property
    def has_constraints(self) -> bool:
        """Whether anything in the request filters the catalogue."""
        return bool(
            self.required_words()
            or self.excluded_words()
            or self.genres
            or self.excluded_genres
            or self.artists
            or self.excluded_artists
            or self.year_min is not None
            or self.year_max is not None
            or self.ranges
            or self.clean
        )

    @property
    def shapes_playlist(self) -> bool:
        """Whether the request says how to shape the playlist: a length, an order, clean, every version."""
        return self.length_s is not None or self.order is not None or self.clean or self.all_versions

    def describe(self) -> str:
        """``high energy, workout; genre dance pop; excluding Kesha; 2015 or later``."""
        parts = []
        if self.concepts:
            parts.append(", ".join(self.readings.get(c.name, c.label) for c in self.concepts))
        if self.genres:
            parts.append("genre " + " or ".join(self.genres))
        if self.artists:
            parts.append("by " + " or ".join(self.artists))
        if self.similar_artists:
            parts.append("like " + ", ".join(self.similar_artists))
        excluded = [self.readings.get(c.name, c.label) for c in self.excluded_concepts]
        excluded += self.excluded_genres + self.excluded_artists
        if excluded:
            parts.append("excluding " + ", ".join(excluded))
        parts += [describe_range(feature, low, high) for feature, (low, high) in self.ranges.items()]
        years = describe_years(self.year_min, self.year_max)
        if years:
            parts.append(years)
        if self.clean:
            parts.append("clean (no explicit songs)")  # conditions.CLEAN_LABEL
        if self.length_s is not None:
            parts.append(f"about {describe_length(self.length_s)} in all")
        if self.order is not None:
            parts.append("ordered: " + ORDER_LABELS[self.order])
        if self.all_versions:
            parts.append("every version")
        return "; ".join(parts)


ORDER_LABELS = {
    "build_up": "building up",
    "wind_down": "winding down",
    "arc": "warm-up, peak, cool-down",
    "smooth": "smooth tempo and energy flow",
}
"""How ``describe`` names each playlist order."""


def describe_length(seconds: float) -> str:
    """``45 min``, ``2 h``, ``1 h 30 min``."""
    minutes = round(seconds / 60)
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest} min" if rest else "")


def describe_range(feature: str, low: float | None, high: float | None) -> str:
    """``tempo 112-128 BPM``, ``length under 3:00``, ``length over 4:30``."""
    unit = _UNITS[feature]
    if low is not None and high is not None:
        return f"{unit.label} {unit.show(low)}-{unit.show(high)}{unit.suffix}"
    if high is not None:
        return f"{unit.label} under {unit.show(high)}{unit.suffix}"
    return f"{unit.label} over {unit.show(low or 0)}{unit.suffix}"


def describe_years(year_min: int | None, year_max: int | None) -> str:
    """``2015 or later``, ``up to 2012``, ``2010-2014``, ``2016`` or ``""``."""
    if year_min is not None and year_max is not None:
        return str(year_min) if year_min == year_max else f"{year_min}-{year_max}"
    if year_min is not None:
        return f"{year_min} or later"
    if year_max is not None:
        return f"up to {year_max}"
    return ""


def understand(text: str, vocabulary: Vocabulary) -> QueryIntent:
    """Parse one request. Never raises on odd text: unknown words simply stay in the semantic part."""
    intent = QueryIntent(text=text)
    remaining = " " + re.sub(r"\s+", " ", text.casefold().replace("’", "'")) + " "
    remaining = re.sub(r"(?<=\w)'s\b", "", remaining)  # "Katy Perry's songs": the name, not "perrys"
    remaining = _without_stated_state(remaining, vocabulary)
    remaining = _take_playlist_shape(remaining, intent, vocabulary.playlist)
    remaining = _take_numbers(remaining, intent)
    remaining = _take_years(remaining, intent, vocabulary.words.quantity_nouns)
    remaining = _take_count(remaining, intent)
    words = tokens(remaining)
    typed = re.sub(r"(?<=\w)['’]s\b", "", text)
    typed_words = re.findall(r"[\w&$!+']+", typed)
    capitalized = {w.casefold() for w in typed_words if w[:1].isupper()}
    kept = _take_mentions(words, vocabulary, intent, capitalized)
    kept = _take_missing_artists(kept, typed_words, capitalized, intent, vocabulary)
    intent.concepts = settle_conflicts(intent.concepts)
    intent.content_text = " ".join(kept)
    intent.semantic_text = semantic_text(intent.content_text, intent.concepts)
    return intent


def settle_conflicts(concepts: list[Concept], read: Collection[str] = ()) -> list[Concept]:
    """Where concepts want different words of one feature, the one that describes the sound most directly decides.

    What the person wants to feel replaces any concept it contradicts ("stressed out, calm me down"). Otherwise a
    sound word beats a mood, and a mood a situation, on that feature only: "laundry on a lazy afternoon" stays
    happy housework but lazy decides the energy. At the same rank, words the person typed beat concepts the model
    ``read`` from other words; a concept left wanting nothing is dropped.
    """
    wishes = [c for c in concepts if c.wish]
    concepts = [c for c in concepts if c.wish or not any(c.contradicts(w) for w in wishes)]

    def rank(concept: Concept) -> tuple[int, bool]:
        return concept.precedence, concept.name not in read

    settled = []
    for concept in concepts:
        lost = {
            feature
            for feature in concept.wants
            for other in concepts
            if rank(other) > rank(concept) and concept.disagrees(other, feature)
        }
        if len(lost) < len(concept.wants):
            settled.append(concept.without(lost) if lost else concept)
    return settled


def semantic_text(content: str, concepts: Iterable[Concept]) -> str:
    """The text to embed: the request's own words plus the query words of its concepts."""
    extra = [c.query_words for c in concepts if c.query_words]
    return " ".join([content, *extra]).strip()


def _take_years(text: str, intent: QueryIntent, quantity_nouns: frozenset[str] = frozenset()) -> str:
    """Read year and decade phrases into the intent and cut them out of the text; a bare number before one of
    ``quantity_nouns`` is a quantity."""
    patterns: list[tuple[str, str]] = [
        (rf"(?:nothing|no songs?|none)\s+(?:before|older than|earlier than|prior to)\s+({_YEAR})", "min"),
        (rf"(?:nothing|no songs?|none)\s+(?:after|newer than|later than)\s+({_YEAR})", "max"),
        (rf"(?:between|from)\s+({_YEAR})\s+(?:and|to|-|until|till)\s+({_YEAR})", "range"),
        (rf"({_YEAR})\s*(?:-|–|to)\s*({_YEAR})", "range"),
        (rf"(?:before|until|till|pre|prior to|older than|earlier than)\s*-?\s*({_YEAR})", "before"),
        (rf"(?:up to|through|by)\s+({_YEAR})", "max"),
        (rf"(?:after|post|newer than|later than)\s*-?\s*({_YEAR})", "after"),
        (rf"from\s+({_YEAR})\s+(?:on|onwards|onward|or later|and later)", "min"),
        (
            rf"(?:since|starting(?:\s+(?:from|in))?|in or after)\s+({_YEAR})(?:\s+(?:on|onwards|onward|or later))?",
            "min",
        ),
        (rf"({_YEAR})\s+(?:or later|and later|onwards|onward|or newer|and up|\+)", "min"),
        (rf"({_YEAR})\s+(?:or earlier|and earlier|or older)", "max"),
        (rf"(?:the\s+)?(?:early|late|mid)?\s*({_DECADE})", "decade"),
        (rf"(?:in|from|of)?\s*({_YEAR})", "year"),
    ]
    for pattern, kind in patterns:
        for match in list(re.finditer(rf"(?<![\w]){pattern}(?![\w])", text)):
            values = [g for g in match.groups() if g]
            if kind == "decade":
                low, high = _decade_range(values[0], match.group(0))
            elif kind == "range":
                low, high = sorted(int(v) for v in values)
            elif kind == "year":
                following = text[match.end() :].split()[:1]
                if following and following[0].strip(",.;!?") in quantity_nouns:
                    continue  # "2000 miles": a quantity, not a year
                low = high = int(values[0])
            else:
                year = int(values[0])
                low, high = {
                    "min": (year, None),
                    "max": (None, year),
                    "before": (None, year - 1),
                    "after": (year + 1, None),
                }[kind]
            _narrow_years(intent, low, high)
            text = text.replace(match.group(0), " ", 1)
    return text


def _decade_range(decade: str, phrase: str) -> tuple[int, int]:
    digits = decade.rstrip("s").rstrip("'")
    start = int(digits) if len(digits) == 4 else (1900 if int(digits) >= 30 else 2000) + int(digits)
    if "early" in phrase:
        return start, start + 3
    if "mid" in phrase:
        return start + 3, start + 6
    if "late" in phrase:
        return start + 6, start + 9
    return start, start + 9


def _narrow_years(intent: QueryIntent, low: int | None, high: int | None) -> None:
    if low is not None:
        intent.year_min = low if intent.year_min is None else max(intent.year_min, low)
    if high is not None:
        intent.year_max = high if intent.year_max is None else min(intent.year_max, high)


@dataclass(frozen=True)
class _Unit:
    """How a stated number of one feature is read and shown."""

    label: str
    suffix: str
    per: float
    """Feature units per stated unit: 60 seconds a minute."""
    around: float
    """"Around N" spans N minus and plus this, in feature units."""

    def show(self, value: float) -> str:
        if self.label == "length":
            return f"{int(value) // 60}:{int(value) % 60:02d}"
        return f"{value:.0f}"


_UNITS = {
    "tempo": _Unit("tempo", " BPM", 1.0, 8.0),
    "duration_s": _Unit("length", "", 1.0, 30.0),
}
_NUMBER = r"\d{1,3}(?:\.\d+)?"
_BELOW = r"under|below|less than|shorter than|slower than|at most|no more than|max|up to"
_ABOVE = r"over|above|more than|longer than|faster than|at least|min|minimum"
_AROUND = r"around|about|roughly|approximately|near|~"
_STATED_NUMBERS = re.compile(
    rf"(?:(?P<side>{_BELOW}|{_ABOVE}|{_AROUND})\s+)?(?P<first>{_NUMBER})(?:\s*(?:-|–|to)\s*(?P<second>{_NUMBER}))?\s*"
    r"(?P<unit>bpm|beats per minute|minutes?|mins?|seconds?|secs?)(?![\w])"
)


_AMOUNT_WORDS = {"a": 1.0, "an": 1.0, "one": 1.0, "two": 2.0, "three": 3.0, "four": 4.0, "five": 5.0, "six": 6.0}
_HOURS = re.compile(
    r"(?<![\w.])(?:(?P<half>half\s+(?:an\s+)?hour)|(?P<amount>\d{1,2}(?:\.\d+)?|an?|one|two|three|four|five|six)"
    r"(?P<and_half>\s+and\s+a\s+half)?\s*-?\s*(?P<unit>hours?|hrs?|h)(?P<half_after>\s+and\s+a\s+half)?"
    r"(?:\s+(?:and\s+)?(?P<minutes>\d{1,2})\s*(?:minutes?|mins?))?)(?:\s*-?\s*long)?(?![\w])"
)
_MINUTES = re.compile(
    rf"(?<![\w.])(?:(?P<side>{_AROUND}|{_BELOW}|{_ABOVE})\s+)?(?P<amount>\d{{1,3}})\s*-?\s*(?:minutes?|mins?)"
    r"(?:\s*-?\s*long)?(?![\w])"
)
SHORTEST_PLAYLIST_MINUTES = 10
"""A stated number of minutes below this is never a whole playlist's length ("under 3 minutes for a run")."""


def _take_playlist_shape(text: str, intent: QueryIntent, words: PlaylistWords) -> str:
    """Read a whole length ("45 minutes for my run", "a 2-hour playlist"), an order ("build up", "wind down"),
    "clean" and "include remixes" into the intent; cut out the length, clean and versions phrases (an order's
    words stay: "songs to wind down" is also calm)."""
    for phrase in words.keep_all_versions:
        text, cut = _cut_phrase(text, phrase)
        intent.all_versions = intent.all_versions or cut
    for phrase in sorted(words.clean, key=len, reverse=True):
        text, cut = _cut_phrase(text, phrase)
        intent.clean = intent.clean or cut
    text, count = _clean_word(tuple(words.clean_not_before), tuple(words.clean_nouns)).subn(" ", text)
    intent.clean = intent.clean or count > 0
    text = _take_length(text, intent, words)
    intent.order = _stated_order(f" {plain_words(text)} ", intent, words)
    return text


def _stated_order(plain: str, intent: QueryIntent, words: PlaylistWords) -> str | None:
    """The order a request states; a phrase that also names a mood ("wind down") orders only a playlist, and a
    rise with a fall ("warm up, peak, cool down") is an arc."""
    said = {name for name, phrases in words.orders.items() if any(f" {p} " in plain for p in phrases)}
    if "arc" in said or {"build_up", "wind_down"} <= said:
        return "arc"
    playlist = intent.length_s is not None or any(f" {n} " in plain for n in words.playlist_nouns)
    for name, phrases in words.orders.items():
        if any(f" {p} " in plain and (playlist or p not in words.order_mood_too) for p in phrases):
            return name
    return intent.order


@functools.cache
def _clean_word(not_before: tuple[str, ...], nouns: tuple[str, ...]) -> re.Pattern[str]:
    """The word clean before a music noun, within two words ("clean songs", "clean party playlist"), compiled once."""
    return re.compile(
        rf"(?<![\w'])clean\s+(?!(?:{'|'.join(map(re.escape, not_before))})\b)"
        rf"(?=(?:[\w']+\s+){{0,2}}?(?:{'|'.join(map(re.escape, nouns))})(?![\w']))"
    )


@functools.cache
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """``phrase`` with its words apart by spaces or hyphens and apostrophes optional, compiled once."""
    pattern = r"[\s-]+".join("'?".join(map(re.escape, word)) for word in phrase.split())
    return re.compile(rf"(?<![\w']){pattern}(?![\w'])")


def _cut_phrase(text: str, phrase: str) -> tuple[str, bool]:
    """``text`` without ``phrase`` (its words apart by spaces or hyphens, apostrophes optional), and whether it
    was there."""
    cut, count = _phrase_pattern(phrase).subn(" ", text)
    return cut, count > 0


def _take_length(text: str, intent: QueryIntent, words: PlaylistWords) -> str:
    """A whole playlist's length: hours always ("an hour of focus music"), minutes when a length cue is next to
    them ("45 minutes for my run", "music for 45 minutes"), never a minute count under SHORTEST_PLAYLIST_MINUTES
    nor one with "under"/"over" unless "of" follows ("under 3 minutes" is each song's length)."""
    for match in _HOURS.finditer(text):
        if match.group("unit") == "h" and not (match.group("amount") or "").replace(".", "").isdigit():
            continue
        if _followed_by(text, match.end(), words.length_per_song):
            continue
        if match.group("half"):
            seconds = 1800.0
        else:
            amount = match.group("amount")
            hours = _AMOUNT_WORDS.get(amount) or float(amount)
            hours += 0.5 if match.group("and_half") or match.group("half_after") else 0.0
            seconds = hours * 3600 + 60 * float(match.group("minutes") or 0)
        intent.length_s = seconds
        return text[: match.start()] + " " + text[match.end() :]
    for match in _MINUTES.finditer(text):
        before = text[: match.start()].split()[-1:]
        side = match.group("side")
        if float(match.group("amount")) < SHORTEST_PLAYLIST_MINUTES or _followed_by(
            text, match.end(), words.length_per_song
        ):
            continue
        if side and re.fullmatch(f"{_BELOW}|{_ABOVE}", side):
            whole = _followed_by(text, match.end(), ("of", "worth"))
        else:
            whole = _followed_by(text, match.end(), words.length_after) or bool(
                before and plain_words(before[0]) in words.length_before
            )
        if whole:
            intent.length_s = float(match.group("amount")) * 60
            return text[: match.start()] + " " + text[match.end() :]
    return text


def _followed_by(text: str, end: int, phrases: Iterable[str]) -> bool:
    """Whether one of ``phrases`` comes right after position ``end`` of ``text``."""
    rest = f" {plain_words(text[end:])} "
    return any(rest.startswith(f" {p} ") for p in phrases)


def _take_numbers(text: str, intent: QueryIntent) -> str:
    """Read stated tempos and lengths ("around 120 bpm", "under 3 minutes", "90-100 bpm") and cut them out."""
    for match in list(_STATED_NUMBERS.finditer(text)):
        unit = match.group("unit")
        feature = "tempo" if unit.startswith(("bpm", "beats")) else "duration_s"
        scale = 60.0 if unit.startswith("min") else 1.0
        first = float(match.group("first")) * scale
        second = float(match.group("second")) * scale if match.group("second") else None
        side = match.group("side") or ""
        about_songs = re.match(r"\s*(?:songs?|tracks?|long)\b", text[match.end() :])
        if feature == "duration_s" and not side and second is None and not about_songs:
            continue  # "I have 2 minutes" is not about songs' length; "3 minute songs" is
        if second is not None:
            low, high = sorted((first, second))
        elif re.fullmatch(_BELOW, side):
            low, high = None, first
        elif re.fullmatch(_ABOVE, side):
            low, high = first, None
        else:
            low, high = first - _UNITS[feature].around, first + _UNITS[feature].around
        intent.ranges[feature] = (low, high)
        text = text.replace(match.group(0), " ", 1)
    return text


def _take_count(text: str, intent: QueryIntent) -> str:
    pattern = (
        r"(?<!\w)(?:(?:give|show|find|get|play|recommend)\s+(?:me\s+)?(?:some\s+|the\s+)?(?:top\s+)?(\d{1,6})"
        r"|top\s+(\d{1,6})|(\d{1,6})\s+(?:more\s+)?(?:songs?|tracks?|tunes|results?|picks))(?!\w)"
    )
    match = re.search(pattern, text)
    if match:
        intent.count = int(next(g for g in match.groups() if g))
        text = text.replace(match.group(0), " ", 1)
    return text


def _take_mentions(words: list[str], vocabulary: Vocabulary, intent: QueryIntent, capitalized: set[str]) -> list[str]:
    """Match the longest known phrases left to right; return the words that stay in the semantic text.

    A genre or artist name counts only where the request uses it as one (``house music`` yes, ``clean the house``
    no); otherwise a concept with the same phrase (``rap`` verses: rapping) or nothing takes its place. Spelling is
    fixed only in words that are not words.
    """
    kept: list[str] = []
    singles = vocabulary.single_words()
    clear_genre_ends = _clear_genre_ends(words, vocabulary)
    position = 0
    while position < len(words):
        mention, length = _longest_phrase(words, position, vocabulary)
        if (
            mention is not None
            and mention.kind != "concept"
            and not (mention.kind == "genre" and clear_genre_ends and position not in clear_genre_ends)
            and not _used_as_name(words, position, length, mention, vocabulary, capitalized)
        ):
            mention, length = _longest_phrase(words, position, vocabulary, kinds=("concept",))
        if mention is None and _may_be_a_typo(words[position], vocabulary):
            guess = difflib.get_close_matches(words[position], list(singles), n=1, cutoff=0.8)
            named = position > 0 and words[position - 1] in vocabulary.words.artist_cues
            if guess and singles[guess[0]].kind == "artist" and not (named or words[position] in capitalized):
                guess = []  # "giddy" is not a misspelt "Diddy" unless the request names an artist there ("by giddy")
            if guess:
                mention, length = singles[guess[0]], 1
                intent.corrections.append(f"read '{words[position]}' as '{guess[0]}'")
                words = [*words[:position], guess[0], *words[position + 1 :]]
        if mention is not None and mention.kind == "concept":
            mention = _concept_in_context(words, position, length, mention, vocabulary.words)
        if mention is None:
            kept.append(words[position])
            position += 1
            continue
        negation = negation_start(words, position, vocabulary.words)
        negated = negation is not None
        if negation is not None:
            for word in reversed(words[negation:position]):  # the negation is not what the request is about
                if kept and kept[-1] == word:
                    kept.pop()
        _record(mention, negated, kept, intent, vocabulary)
        shadowed = vocabulary.shadowed.get(tuple(words[position : position + length]))
        if negated and mention.kind == "genre" and shadowed is not None:  # "no rap": no rapping either
            _record(shadowed, negated, kept, intent, vocabulary)
        if mention.kind == "concept" and not negated and _follows(words, position, vocabulary.words.insist):
            intent.strict.append(mention.value)
        if not negated:
            kept.extend(words[position : position + length])
        position += length
    return kept


def covered_words(intent: QueryIntent) -> set[str]:
    """The request's words that a concept, genre or artist it names explains (or a name no artist here has)."""
    concepts = (*intent.concepts, *intent.excluded_concepts)
    covered = {w for c in concepts for p in c.phrases for w in tokens(p)}
    names = (*intent.genres, *intent.artists, *intent.similar_artists, *intent.missing_artists)
    return covered | {w for name in names for w in tokens(name)}


def _take_missing_artists(
    kept: list[str], typed_words: list[str], capitalized: set[str], intent: QueryIntent, vocabulary: Vocabulary
) -> list[str]:
    """Find names of artists this catalogue does not have; return the words that stay in the semantic text.

    A capitalized run of unexplained words is such a name after ``by`` (``party songs by Metallica``), after
    ``like`` when it is two words or more or a word of it is no everyday word (``like Coldplay``, ``like Lana Del
    Rey``, not ``like Sunday morning``), or after a negator on the same terms (``without Pitbull``: it leaves the
    text, so it cannot pull towards the name).
    Capitals mean nothing in a request typed all in capitals or in title case.
    """
    lists = vocabulary.words
    if len(typed_words) >= 3 and sum(w[:1].isupper() for w in typed_words) > 0.6 * len(typed_words):
        return kept
    as_typed = {w.casefold(): w for w in typed_words}
    covered = covered_words(intent)

    def unexplained(word: str) -> bool:
        return word in capitalized and word not in covered and word not in lists.stopwords

    result: list[str] = []
    position = 0
    while position < len(kept):
        end = position
        while end < len(kept) and unexplained(kept[end]):
            end += 1
        name_words = kept[position:end]
        before = kept[position - 1] if position > 0 else ""
        negation = negation_start(kept, position, lists) if name_words else None
        unusual = len(name_words) > 1 or any(not _is_english(w, vocabulary.known_words) for w in name_words)
        how = "by" if before in lists.name_cues else "like" if before in lists.similar_cues and unusual else None
        if name_words and (how or (negation is not None and unusual)):
            name = " ".join(as_typed.get(w, w) for w in name_words)
            if negation is not None:
                del result[len(result) - (position - negation) :]  # "without Pitbull": all of it leaves the text
            elif how is not None:
                intent.missing_artists[name] = how
                result.extend(name_words)
            position = end
            continue
        result.append(kept[position])
        position += 1
    return result


def _concept_in_context(
    words: list[str], position: int, length: int, mention: Mention, lists: WordLists
) -> Mention | None:
    """The concept a phrase means where it stands: none when it describes the next word ("a long drive"), the
    cool-down after an exercise ("stretching after a run"), else the phrase's own concept."""
    phrase = " ".join(words[position : position + length])
    after = words[position + length] if position + length < len(words) else ""
    if after in lists.describes_other.get(phrase, ()):
        return None
    if mention.value in lists.exercises:
        before = [w for w in words[max(0, position - 2) : position] if w not in lists.determiners]
        if before and before[-1] in lists.after_words:
            return Mention("concept", lists.cool_down)
    return mention


def _used_as_name(
    words: list[str], position: int, length: int, mention: Mention, vocabulary: Vocabulary, capitalized: set[str]
) -> bool:
    """Whether a genre or artist name made of everyday words is used as a name here (see conversation_words)."""
    phrase = words[position : position + length]
    if not vocabulary.is_everyday(phrase) or (mention.kind == "genre" and length > 1):
        return True  # "edm", "Ed Sheeran", "dance pop": nothing else they could mean
    lists = vocabulary.words
    before = words[position - 1] if position > 0 else ""
    after = words[position + length] if position + length < len(words) else ""
    if before in lists.determiners:
        return False
    if mention.kind == "artist" and all(word in capitalized for word in phrase):
        return True
    cues = lists.artist_cues if mention.kind == "artist" else lists.genre_cues
    # "fun songs" are happy songs: an artist whose name is also a mood word needs more than a music word after it
    names_a_mood = mention.kind == "artist" and tuple(phrase) in vocabulary.shadowed
    if (after in lists.music_nouns and not names_a_mood) or before in cues:
        return True
    if mention.kind == "genre" and _describes_sound(before, vocabulary):  # "chill pop", "sad rap"
        return True
    if negation_start(words, position, lists) is not None:
        return True
    rest = [w for i, w in enumerate(words) if not position <= i < position + length]
    return all(w in lists.stopwords or w in lists.follow_up_filler for w in rest)


def _describes_sound(word: str, vocabulary: Vocabulary) -> bool:
    """Whether ``word`` is a sound or mood word ("chill", "sad"), which before a genre word makes it the genre."""
    mention = vocabulary.phrases.get((word,)) or vocabulary.shadowed.get((word,))
    return mention is not None and mention.kind == "concept" and vocabulary.concepts[mention.value].kind != "situation"


def _clear_genre_ends(words: list[str], vocabulary: Vocabulary) -> set[int]:
    """Where the genres that can only be genres ("dance pop") end. When a request names one, its other genre words
    are genres too ("pop but not dance pop"), except one right after it ("big room house": house is part of it)."""
    ends = set()
    for start in range(len(words)):
        for length in range(2, min(vocabulary.longest, len(words) - start) + 1):
            mention = vocabulary.phrases.get(tuple(words[start : start + length]))
            if mention is not None and mention.kind == "genre":
                ends.add(start + length)
    return ends


def _may_be_a_typo(word: str, vocabulary: Vocabulary) -> bool:
    """Only a word of five letters or more that is no everyday word (nor a known phrase) is read as a typo."""
    lists = vocabulary.words
    if len(word) < 5 or word.isdigit() or word in lists.never_corrected or word in lists.stopwords:
        return False
    if word in lists.negators or word in lists.follow_up_filler:
        return False
    return not _is_english(word, vocabulary.known_words)


_SUFFIXES = ("ing", "ed", "es", "s", "er", "ers", "est", "ly", "y", "ies", "ied", "ness", "ful")


def _is_english(word: str, known: frozenset[str]) -> bool:
    """Whether ``word`` is an everyday word or one of its inflections ("scrubbing": scrub, "trains": train)."""
    if not known or word in known:
        return bool(known)
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            stems = {stem, stem + "e", stem + "y"}
            if len(stem) > 3 and stem[-1] == stem[-2]:
                stems.add(stem[:-1])  # scrubbing -> scrubb -> scrub
            if stems & known:
                return True
    return False


def _follows(words: list[str], position: int, markers: tuple[tuple[str, ...], ...]) -> bool:
    """Whether one of ``markers`` stands right before ``position``."""
    return any(tuple(words[max(0, position - len(m)) : position]) == m for m in markers)


def _without_stated_state(text: str, vocabulary: Vocabulary) -> str:
    """The request without the state the person says they are in ("I'm sad"), when it also says what they want
    to feel ("cheer me up"): then the state is not the songs' mood."""
    words = tokens(text)
    wishes = [c for c in vocabulary.concepts.values() if c.wish]
    if not any(_contains(words, tokens(phrase)) for c in wishes for phrase in c.phrases):
        return text
    # Markers are matched on the text as typed, where "im" may be written "i'm".
    markers = "|".join(r"\s+".join(map(re.escape, m)).replace("im", "i'?m") for m in vocabulary.words.state_markers)
    breaks = r"[,.;!?]|\s(?:but|so|and|help|need|want|please)\b|$"
    state = re.compile(rf"(?<![\w'])(?:{markers})\b[^,.;!?]*?(?={breaks})")

    def unless_a_wish(match: re.Match[str]) -> str:  # "I'm over it" is the wish itself
        clause = tokens(match.group(0))
        return match.group(0) if any(_contains(clause, tokens(p)) for c in wishes for p in c.phrases) else " "

    return state.sub(unless_a_wish, text)


def _contains(words: list[str], phrase: list[str]) -> bool:
    return bool(phrase) and any(words[i : i + len(phrase)] == phrase for i in range(len(words) - len(phrase) + 1))


def _longest_phrase(
    words: list[str], start: int, vocabulary: Vocabulary, kinds: tuple[str, ...] = ("concept", "genre", "artist")
) -> tuple[Mention | None, int]:
    for length in range(min(vocabulary.longest, len(words) - start), 0, -1):
        key = tuple(words[start : start + length])
        mention = vocabulary.phrases.get(key)
        if mention is not None and mention.kind not in kinds:
            mention = vocabulary.shadowed.get(key)
        if mention is not None and mention.kind in kinds:
            return mention, length
    return None, 0


def negation_start(words: list[str], position: int, lists: WordLists) -> int | None:
    """Where the negation of the mention at ``position`` begins, or None when it is not negated.

    A negator may stand right before the mention or a few filler words earlier ("nothing by Drake").
    """
    end = position
    while True:
        before = words[max(0, end - 3) : end]
        if before and before[-1] in lists.negators:
            return end - 1
        if len(before) >= 2 and tuple(before[-2:]) in lists.negator_phrases:
            return end - 2
        if len(before) >= 3 and tuple(before[-3:-1]) in lists.negator_phrases:
            return end - 3
        if end == 0 or position - end >= 4 or words[end - 1] not in lists.negation_filler:
            return None
        end -= 1


def _record(mention: Mention, negated: bool, kept: list[str], intent: QueryIntent, vocabulary: Vocabulary) -> None:
    if mention.kind == "concept":
        concept = vocabulary.concepts[mention.value]
        target = intent.excluded_concepts if negated else intent.concepts
        if concept not in target:
            target.append(concept)
    elif mention.kind == "genre":
        target = intent.excluded_genres if negated else intent.genres
        if mention.value not in target:
            target.append(mention.value)
    elif mention.kind == "artist":
        if negated:
            target = intent.excluded_artists
        elif kept and kept[-1] in vocabulary.words.similar_cues:
            target = intent.similar_artists
        else:
            target = intent.artists
        if mention.value not in target:
            target.append(mention.value)


def _merge_wants(concepts) -> dict[str, set[str]]:
    merged: dict[str, set[str]] = {}
    for concept in concepts:
        for feature, words in concept.wants.items():
            if feature in merged and merged[feature] & words:
                merged[feature] &= words
            else:
                merged.setdefault(feature, set()).update(words)
    return merged
