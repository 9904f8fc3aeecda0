"""Relative follow-ups: "calmer", "a bit cheerier", "less rap, more singing" move the next answer past the last one.

The words live in ``prompts/relative_words.toml`` (``load_relative_words``); ``RelativeWords.read`` finds the asks in
a message. ``plan_move`` turns one ask into a threshold on the catalogue's values: past the median of the songs just
shown by a visible step (a share of the catalogue's spread, at least to the next bucket edge), brought back towards
that median while too few songs lie beyond it. ``lean_concept`` is the same move as a wish, so that ranking leans the
same way and a later wish that contradicts it replaces it. Everything here works on plain arrays.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from assistant.formatting import format_value
from assistant.vocabulary import Concept, tokens
from index_builder.errors import ConfigError
from index_builder.settings import PROJECT_ROOT

WORDS_FILE = "relative_words.toml"
"""The file's name inside ``prompts/``."""
DEFAULT_PATH = PROJECT_ROOT / "prompts" / WORDS_FILE
DEGREES = ("small", "plain", "large")
MAX_PHRASE_WORDS = 8
"""The longest phrase (degree or move) read, in words."""
FEATURE_NAMES = {"duration_s": "length", "valence": "mood (valence)"}
"""How a feature is named in replies where its column name is not plain English."""


@dataclass(frozen=True)
class Ask:
    """One relative change a message asks for: ``a bit cheerier`` -> Ask("valence", +1, "small", "a bit cheerier")."""

    feature: str
    sign: int
    """+1: the feature goes up; -1: down."""
    degree: str
    """``small`` (``a bit``), ``plain`` (none, or ``even``) or ``large`` (``much``)."""
    phrase: str


@dataclass(frozen=True)
class RelativeWords:
    """The relative-words file, read: every phrase that moves a feature, and the degree words that size the move."""

    phrases: Mapping[tuple[str, ...], tuple[str, int]]
    """Token tuple -> (feature, sign), comparatives and modifier-quality pairs alike."""
    degrees: Mapping[tuple[str, ...], str]
    spread_share: float
    """A visible step: this share of the catalogue's standard deviation of the feature."""
    widen: tuple[float, ...]
    """Shares of the step tried in turn while too few songs lie beyond it; the last is always 0 (the median)."""
    large_factor: float

    def read(self, text: str) -> list[Ask]:
        """The relative changes in ``text``, one per feature (the last mention wins), in the order they appear."""
        words = tokens(text)
        asks: dict[str, Ask] = {}
        position = 0
        while position < len(words):
            degree, degree_length = _longest(words, position, self.degrees)
            move, move_length = _longest(words, position + degree_length, self.phrases)
            if move is None and degree_length:
                degree, degree_length = None, 0
                move, move_length = _longest(words, position, self.phrases)
            if move is None:
                position += 1
                continue
            end = position + degree_length + move_length
            feature, sign = move
            phrase = " ".join(words[position:end])
            earlier = asks.pop(feature, None)
            if earlier is not None and earlier.sign == sign:  # "less rap, more singing": one ask, both phrases
                phrase = f"{earlier.phrase}, {phrase}"
            asks[feature] = Ask(feature, sign, degree or "plain", phrase)
            position = end
        return list(asks.values())


@cache
def load_relative_words(path: Path = DEFAULT_PATH) -> RelativeWords:
    """Read the relative-words file once per path; a malformed entry or a phrase read two ways is a ConfigError."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read the relative words {path}: {exc}") from exc

    def words(section: Mapping[str, object], key: str, where: str) -> list[tuple[str, ...]]:
        value = section.get(key, [])
        if not isinstance(value, list) or not all(isinstance(w, str) and tokens(w) for w in value):
            raise ConfigError(f"{path} needs [{where}] {key} as a list of words.")
        return [tuple(tokens(w)) for w in value]

    phrases: dict[tuple[str, ...], tuple[str, int]] = {}

    def add(phrase: tuple[str, ...], move: tuple[str, int]) -> None:
        if phrases.get(phrase, move) != move:
            raise ConfigError(f"{path}: '{' '.join(phrase)}' moves {phrases[phrase]} and {move}.")
        phrases[phrase] = move

    modifiers = raw.get("modifiers", {})
    ups, downs = words(modifiers, "up", "modifiers"), words(modifiers, "down", "modifiers")
    features = raw.get("features", {})
    if not isinstance(features, dict) or not features:
        raise ConfigError(f"{path} needs [features.<name>] tables.")
    for feature, table in features.items():
        where = f"features.{feature}"
        for phrase in words(table, "up", where):
            add(phrase, (feature, 1))
        for phrase in words(table, "down", where):
            add(phrase, (feature, -1))
        for quality_sign, key in ((1, "high"), (-1, "low")):
            for quality in words(table, key, where):
                for modifier in ups:
                    add(modifier + quality, (feature, quality_sign))
                for modifier in downs:
                    add(modifier + quality, (feature, -quality_sign))
    degrees_table = raw.get("degrees", {})
    degrees = {phrase: name for name in DEGREES for phrase in words(degrees_table, name, "degrees")}
    step = raw.get("step", {})
    try:
        spread_share = float(step.get("spread_share", 0.25))
        widen = tuple(float(f) for f in step.get("widen", [0.5, 0.0]))
        large_factor = float(degrees_table.get("large_factor", 2.0))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: [step] spread_share, widen and [degrees] large_factor must be numbers.") from exc
    if spread_share <= 0 or large_factor < 1 or any(not 0 <= f < 1 for f in widen):
        raise ConfigError(f"{path}: spread_share must be positive, large_factor at least 1, widen shares in [0, 1).")
    widen = tuple(sorted(set(widen) | {0.0}, reverse=True))
    return RelativeWords(phrases, degrees, spread_share, widen, large_factor)


@dataclass(frozen=True)
class RelativeMove:
    """Keep the songs past ``threshold`` on ``feature``: at or above it for ``sign`` +1 (below for -1); a song
    exactly on it passes only when ``inclusive``."""

    feature: str
    sign: int
    before: float
    """The median of the answer it moves past."""
    threshold: float
    inclusive: bool
    phrase: str
    label: str
    """What the reply calls it (``energy below 0.75``); also the name of its lean concept."""
    full_step: bool = True
    """False when too few songs lay a full step beyond, so the threshold came back towards the median."""
    available: int = 0
    """How many songs the rest of the request allowed past the threshold when it was planned."""

    def mask(self, values: np.ndarray) -> np.ndarray:
        """Which of ``values`` pass (a missing value never does)."""
        values = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            if self.sign > 0:
                return values >= self.threshold if self.inclusive else values > self.threshold
            return values <= self.threshold if self.inclusive else values < self.threshold


def median_of(values: Iterable[float]) -> float | None:
    """The median of the known values, or None when there are none."""
    array = np.asarray(list(values), dtype=float)
    array = array[np.isfinite(array)]
    return float(np.median(array)) if len(array) else None


def plan_move(
    ask: Ask,
    values: np.ndarray,
    before: float,
    edges: Sequence[float],
    base: np.ndarray,
    needed: int,
    words: RelativeWords,
) -> RelativeMove | None:
    """The threshold for ``ask`` past ``before`` (the last answer's median of ``values``' feature).

    The step is ``spread_share`` x the catalogue's standard deviation (x ``large_factor`` for ``much``), and, unless
    the ask is ``a bit``, at least to the next bucket edge. While fewer than ``needed`` songs of ``base`` (the rows
    the rest of the request allows) lie past it, the step shrinks by the ``widen`` shares, down to keeping the songs
    strictly beyond the median. None when not one song of ``base`` lies beyond the median.
    """
    values = np.asarray(values, dtype=float)
    spread = float(np.nanstd(values, ddof=1)) if np.isfinite(values).sum() > 1 else 0.0
    step = words.spread_share * spread * (words.large_factor if ask.degree == "large" else 1.0)
    edges = np.asarray(edges, dtype=float)
    if ask.sign > 0:
        target, inclusive = before + step, True
        ahead = edges[edges > before]
        if ask.degree != "small" and len(ahead) and ahead[0] > target:
            target = float(ahead[0])  # a value on an edge belongs to the bucket above it
    else:
        target, inclusive = before - step, True
        behind = edges[edges <= before]
        if ask.degree != "small" and len(behind) and behind[-1] < target:
            target, inclusive = float(behind[-1]), False
    needed = max(1, min(int(needed), int(base.sum())))
    tries = [(target, inclusive, True)]
    tries += [(before + (target - before) * share, share > 0, False) for share in words.widen]
    fallback = None
    for threshold, passes_on, full in tries:
        move = RelativeMove(ask.feature, ask.sign, before, threshold, passes_on, ask.phrase, "", full)
        count = int((move.mask(values) & base).sum())
        move = dataclasses.replace(move, available=count)
        if count >= needed:
            return _labelled(move)
        if count:
            fallback = move
    return _labelled(fallback) if fallback is not None else None


def _labelled(move: RelativeMove) -> RelativeMove:
    return dataclasses.replace(move, label=move_label(move.feature, move.sign, move.threshold, move.inclusive))


def lean_concept(move: RelativeMove, bucket_words: Sequence[str], edges: Sequence[float]) -> Concept:
    """The move as a wish: the bucket words of every bucket with values past the threshold, so ranking leans
    that way, ``why #3`` can say so, and a later wish for the other end replaces it. Without ``bucket_words`` the
    wish only names the move (soft, wanting nothing)."""
    if not bucket_words:
        return Concept(name=move.label, phrases=(move.phrase,), wants={}, constraint=False)
    edges = np.asarray(edges, dtype=float)
    if move.sign > 0:
        first = int(np.searchsorted(edges, move.threshold, side="right"))
        wanted = bucket_words[first:]
    else:
        last = int(np.searchsorted(edges, move.threshold, side="left"))
        wanted = bucket_words[: last + 1]
    return Concept(
        name=move.label,
        phrases=(move.phrase,),
        wants={move.feature: frozenset(wanted)},
        constraint=True,
    )


def move_label(feature: str, sign: int, threshold: float, inclusive: bool) -> str:
    """``energy below 0.75``, ``tempo at least 135 BPM``: what the move keeps, in words."""
    relation = {(1, True): "at least", (1, False): "above", (-1, True): "at most", (-1, False): "below"}
    return f"{feature_name(feature)} {relation[(sign, inclusive)]} {format_value(feature, threshold)}"


def feature_name(feature: str) -> str:
    """A feature as a reply names it: ``energy``, ``mood (valence)``, ``length``."""
    return FEATURE_NAMES.get(feature, feature.replace("_", " "))


def shift_line(feature: str, before: float, after: float | None) -> str:
    """``energy: median 0.62 -> 0.41``, values as the catalogue holds them (``year: median 2015 -> 2012``)."""
    show = (lambda v: f"{v:.0f}") if feature == "year" else (lambda v: format_value(feature, v))
    return f"{feature_name(feature)}: median {show(before)} -> {show(after) if after is not None else 'none'}"


def _longest(words: list[str], start: int, table: Mapping[tuple[str, ...], object]):
    """The entry of the longest phrase of ``table`` at ``start`` and its length in words, or (None, 0)."""
    for length in range(min(MAX_PHRASE_WORDS, len(words) - start), 0, -1):
        entry = table.get(tuple(words[start : start + length]))
        if entry is not None:
            return entry, length
    return None, 0
