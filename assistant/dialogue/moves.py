"""Relative follow-ups in the conversation: "calmer" is planned against the songs just shown, and every later page
of the same request keeps only songs past it. The words and the arithmetic are ``assistant/relative.py``'s."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.catalogue_view import CatalogueView
from assistant.conditions import request_constraints
from assistant.dialogue.refining import without_phrases
from assistant.dialogue.state import DialogueState
from assistant.formatting import format_value
from assistant.relative import (
    WORDS_FILE,
    Ask,
    RelativeMove,
    RelativeWords,
    feature_name,
    lean_concept,
    load_relative_words,
    median_of,
    plan_move,
    shift_line,
)
from assistant.results import SearchResult
from assistant.understanding import QueryIntent, describe_range, semantic_text
from assistant.vocabulary import Concept, tokens, word_direction


@dataclass
class MovePlan:
    """A request changed by relative asks: its wishes, the moves in force, and what the reply should say."""

    intent: QueryIntent
    moves: tuple[RelativeMove, ...]
    dropped: list[str] = field(default_factory=list)
    """Labels of earlier wishes and moves the asks replaced."""
    notes: list[str] = field(default_factory=list)
    shifts: list[tuple[str, float]] = field(default_factory=list)
    """(feature, median of the last answer) for each feature moved, so the reply can say where it went."""
    stuck: str | None = None
    """The reply when no song lies past the last answer at all (the request then stays as it was)."""


def relative_words(catalogue: CatalogueView) -> RelativeWords:
    """The relative-words file of the catalogue's prompts folder."""
    return load_relative_words(catalogue.settings.prompts_dir / WORDS_FILE)


def without_asked(change: QueryIntent, asks: Sequence[Ask]) -> QueryIntent:
    """The follow-up's reading without the wishes its relative asks were read from: "calmer" moves the energy a
    step past the last answer, it does not also ask for the calmest songs there are."""
    asked = [tokens(ask.phrase) for ask in asks]

    def from_an_ask(concept: Concept) -> bool:
        return any(_within(tokens(phrase), words) for phrase in concept.phrases for words in asked)

    return dataclasses.replace(
        change,
        concepts=[c for c in change.concepts if not from_an_ask(c)],
        excluded_concepts=[c for c in change.excluded_concepts if not from_an_ask(c)],
    )


def _within(phrase: list[str], words: list[str]) -> bool:
    return bool(phrase) and any(words[i : i + len(phrase)] == phrase for i in range(len(words) - len(phrase) + 1))


def plan_moves(
    asks: Sequence[Ask],
    intent: QueryIntent,
    state: DialogueState,
    catalogue: CatalogueView,
    needed: int,
    families: Mapping[str, Sequence[str]] | None = None,
) -> MovePlan:
    """Apply ``asks`` to ``intent`` (already refined by the message's other words) against ``state.last_page``.

    Each ask replaces the earlier move on its feature and every wish that pulls the feature the other way ("more
    energy" drops "chill"); an earlier move whose wish this message contradicted is gone too. Then each ask keeps
    the songs a visible step past the last answer's median, as far as ``needed`` songs of the rest of the request
    allow (``relative.plan_move``), and leans the ranking the same way. A stated range on the feature ("around
    120 bpm") gives way to the move, and a range stated after a move replaces it. ``families`` are the genre
    families search widens a genre with, so that the songs counted are the songs search may show.
    """
    plan = MovePlan(intent, ())
    concepts, excluded = list(intent.concepts), list(intent.excluded_concepts)
    # An earlier move stays unless this message replaced its wish or wishes its feature the other way.
    names = {c.name for c in concepts}
    wishes = [c for c in concepts if c.name not in {m.label for m in state.moves}]
    moves = []
    for move in state.moves:
        if move.label not in names:
            continue  # refine dropped its wish and says so
        if (
            move.feature in intent.ranges
            or any(_direction(c.wants, move.feature, catalogue) == -move.sign for c in wishes)
            or any(_direction(c.wants, move.feature, catalogue) == move.sign for c in excluded)
        ):
            concepts = [c for c in concepts if c.name != move.label]
            plan.dropped.append(move.label)
            continue
        moves.append(move)
    rows = [r for r in (catalogue.row_of(s.song_id) for s in state.last_page) if r is not None]
    pending: list[tuple[Ask, np.ndarray, float]] = []
    for ask in asks:
        name = feature_name(ask.feature)
        if ask.feature not in catalogue.numeric_features:
            plan.notes.append(f"This catalogue has no {name} values, so '{ask.phrase}' cannot move the list.")
            continue
        values = catalogue.raw[ask.feature].to_numpy()
        before = median_of(values[rows])
        if before is None:
            plan.notes.append(f"The last answer has no {name} values to move past, so '{ask.phrase}' is only a wish.")
            continue
        replaced = {m.label for m in moves if m.feature == ask.feature}
        moves = [m for m in moves if m.feature != ask.feature]
        concepts = [c for c in concepts if c.name not in replaced]
        pulling_back = [c for c in concepts if _direction(c.wants, ask.feature, catalogue) == -ask.sign]
        pushing_on = [c for c in excluded if _direction(c.wants, ask.feature, catalogue) == ask.sign]
        # a wish that pulls the other way gives up that feature and keeps the rest ("party" stays danceable)
        concepts = [c.without([ask.feature]) if c in pulling_back and len(c.wants) > 1 else c for c in concepts]
        concepts = [c for c in concepts if c not in pulling_back]
        excluded = [c for c in excluded if c not in pushing_on]
        pulling_back = [c for c in pulling_back if len(c.wants) == 1]
        plan.dropped += [c.label for c in pulling_back] + [f"not {c.label}" for c in pushing_on]
        if ask.feature in intent.ranges:
            ranges = dict(intent.ranges)
            plan.dropped.append(describe_range(ask.feature, *ranges.pop(ask.feature)))
            intent = dataclasses.replace(intent, ranges=ranges)
        gone = [p for c in pulling_back if c.constraint for p in c.phrases]
        if gone:
            content = " ".join(without_phrases(tokens(intent.content_text), gone))
            intent = dataclasses.replace(intent, content_text=content)
        pending.append((ask, values, before))
    intent = dataclasses.replace(intent, concepts=concepts, excluded_concepts=excluded)
    words = relative_words(catalogue)
    for ask, values, before in pending:
        buckets = catalogue.scheme.features.get(ask.feature)
        edges = buckets.edges if buckets is not None else ()
        allowed = _allowed(intent, moves, state, catalogue, families or {})
        move = plan_move(ask, values, before, edges, allowed, needed, words)
        name = feature_name(ask.feature)
        if move is None:
            way = "higher" if ask.sign > 0 else "lower"
            plan.stuck = (
                f"No song that fits the rest of this request has {way} {name} than the last answer "
                f"(median {format_value(ask.feature, before)}), so '{ask.phrase}' cannot go further. Change another "
                "condition, or *start over*."
            )
            return plan
        if move.available < needed:
            way = "higher" if ask.sign > 0 else "lower"
            songs = "1 song that fits" if move.available == 1 else f"{move.available} songs that fit"
            plan.notes.append(
                f"Only {songs} the rest of this request {'has' if move.available == 1 else 'have'} {way} {name} "
                f"than the last answer ({move.label})."
            )
        elif not move.full_step:
            plan.notes.append(
                f"Too few songs lie a full step past the last answer with the rest of this request, so the step is "
                f"smaller: {move.label}."
            )
        moves.append(move)
        # A move is a step: its wish names it, and only "much calmer" also leans the ranking to the far end; the
        # songs past the step are otherwise ranked by the rest of the request ("calmer" heartbreak, not lullabies).
        lean = lean_concept(move, catalogue.bucket_words.get(ask.feature, ()) if ask.degree == "large" else (), edges)
        intent = dataclasses.replace(intent, concepts=[*intent.concepts, lean])
        plan.shifts.append((ask.feature, before))
    intent.semantic_text = semantic_text(intent.content_text, intent.concepts)
    plan.intent, plan.moves = intent, tuple(moves)
    return plan


def moves_mask(moves: Sequence[RelativeMove], catalogue: CatalogueView) -> np.ndarray | None:
    """The songs past every move (None when there are none), for ``search_intent(allowed=...)``."""
    if not moves:
        return None
    allowed = np.ones(catalogue.count, dtype=bool)
    for move in moves:
        allowed &= move.mask(catalogue.raw[move.feature].to_numpy())
    return allowed


def shift_notes(
    shifts: Sequence[tuple[str, float]], page: Sequence[SearchResult], catalogue: CatalogueView
) -> list[str]:
    """``energy: median 0.87 -> 0.62`` per moved feature, the second median over ``page``."""
    rows = [r for r in (catalogue.row_of(s.song_id) for s in page) if r is not None]
    lines = []
    for feature, before in shifts:
        values = catalogue.years if feature == "year" else catalogue.raw[feature].to_numpy()
        lines.append(shift_line(feature, before, median_of(values[rows])))
    return lines


def _allowed(
    intent: QueryIntent,
    moves: Sequence[RelativeMove],
    state: DialogueState,
    catalogue: CatalogueView,
    families: Mapping[str, Sequence[str]],
) -> np.ndarray:
    """The songs the rest of the request allows: its stated conditions (all of them, unless together they allow
    none, when search would drop one anyway; an implied wish never empties an answer, so it does not count), the
    other moves, and never the examples of a "more like"."""
    allowed = np.ones(catalogue.count, dtype=bool)
    allowed[catalogue.rows_of(state.skip_ids)] = False
    for move in moves:
        allowed &= move.mask(catalogue.raw[move.feature].to_numpy())
    conditions = allowed.copy()
    for constraint in request_constraints(intent, catalogue, families):
        if constraint.strict:
            conditions &= constraint.mask
    return conditions if conditions.any() else allowed


def _direction(wants, feature: str, catalogue: CatalogueView) -> int:
    """+1 when a wish wants the feature's upper buckets, -1 the lower ones, 0 the middle or another feature."""
    words = wants.get(feature)
    return word_direction(catalogue.bucket_words, feature, words) if words else 0
