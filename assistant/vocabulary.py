"""The words a request can use: concepts from ``prompts/query_concepts.toml``, the catalogue's genres and artists."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from assistant.playlist_words import PlaylistWords, load_playlist_words
from assistant.word_lists import WordLists, load_word_lists
from index_builder.errors import ConfigError

_TOKEN = re.compile(r"[\w&$!+]+")
CONCEPT_KINDS = ("setting", "situation", "mood", "sound")
"""What a concept can describe, from the least to the most direct word for how songs should sound."""


def tokens(text: str) -> list[str]:
    """Lower-case word tokens; punctuation other than ``& $ ! +`` separates words (``hip-hop`` = ``hip hop``)."""
    return _TOKEN.findall(text.casefold().replace("'", "").replace("’", ""))


@dataclass(frozen=True)
class Concept:
    """A meaning a phrase can carry: bucket words wanted per feature, and words added to the query."""

    name: str
    phrases: tuple[str, ...]
    wants: Mapping[str, frozenset[str]]
    constraint: bool
    query_words: str = ""
    examples: tuple[str, ...] = ()
    """Descriptions in people's words, embedded to read requests no phrase covers."""
    weights: Mapping[str, float] = field(default_factory=dict)
    """How much each wanted feature counts in the ranking (default 1)."""
    wish: bool = False
    """What the person wants to feel ("cheer me up"): it overrides the state they say they are in."""
    kind: str = "mood"
    """``sound``, ``mood``, ``situation`` or ``setting``: which decides a feature two concepts want differently."""
    leans: Mapping[str, int] = field(default_factory=dict)
    """Per wanted feature, +1 when its words are the upper buckets, -1 the lower ones, 0 the middle."""

    def contradicts(self, other: Concept) -> bool:
        """Whether the two want different words for a feature both name (``high energy`` against ``calm``)."""
        return any(
            feature in other.wants and not (words & other.wants[feature]) for feature, words in self.wants.items()
        )

    @property
    def precedence(self) -> int:
        """How directly the concept describes the wanted sound: a wish, then sound, mood, situation, setting."""
        return len(CONCEPT_KINDS) if self.wish else CONCEPT_KINDS.index(self.kind)

    def without(self, features: Iterable[str]) -> Concept:
        """The concept with ``features`` no longer wanted (another concept decides them)."""
        dropped = set(features)
        return replace(
            self,
            wants={f: w for f, w in self.wants.items() if f not in dropped},
            weights={f: w for f, w in self.weights.items() if f not in dropped},
            leans={f: w for f, w in self.leans.items() if f not in dropped},
        )

    def disagrees(self, other: Concept, feature: str) -> bool:
        """Whether the two want ``feature`` differently: no word in common, or leaning opposite ways."""
        if feature not in self.wants or feature not in other.wants:
            return False
        opposite = self.leans.get(feature, 0) * other.leans.get(feature, 0) < 0
        return opposite or not (self.wants[feature] & other.wants[feature])

    def weight(self, feature: str) -> float:
        """The ranking weight of ``feature`` for this concept."""
        return float(self.weights.get(feature, 1.0))

    def __hash__(self) -> int:
        return hash(self.name)

    @property
    def label(self) -> str:
        """Readable name: ``road_trip`` -> ``road trip``."""
        return self.name.replace("_", " ")


@dataclass(frozen=True)
class Mention:
    """What a phrase in a request refers to."""

    kind: str  # "concept", "genre" or "artist"
    value: str  # concept name, genre phrase or artist name


@dataclass
class Vocabulary:
    """Every phrase a request may contain, keyed by its token tuple for fast n-gram lookup."""

    concepts: dict[str, Concept]
    words: WordLists = field(default_factory=load_word_lists)
    """The word lists that steer reading (negators, cues, follow-up words)."""
    playlist: PlaylistWords = field(default_factory=load_playlist_words)
    """The words that shape a playlist (length, order, versions, clean)."""
    genres: tuple[str, ...] = ()
    artists: tuple[str, ...] = ()
    phrases: dict[tuple[str, ...], Mention] = field(default_factory=dict)
    shadowed: dict[tuple[str, ...], Mention] = field(default_factory=dict)
    """Concept phrases that are also a genre or artist name ("rap"): the reading when the name is not used as one."""
    known_words: frozenset[str] = frozenset()
    """Everyday words (the model tokenizer's whole words): spelling never "corrects" them, and a genre or artist
    name made only of them needs the request to use it as a name."""
    longest: int = 1
    _singles: dict[str, Mention] | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def build(
        cls,
        concepts: Iterable[Concept],
        genres: Iterable[str] = (),
        artists: Iterable[str] = (),
        words: WordLists | None = None,
        known_words: Iterable[str] = (),
        playlist: PlaylistWords | None = None,
    ) -> Vocabulary:
        """Index concept phrases, genre names (and their endings that name a genre, like ``pop`` of ``canadian
        pop`` or ``hip hop`` of ``atl hip hop``) and artist names."""
        lists = words or load_word_lists()
        vocabulary = cls(
            concepts={c.name: c for c in concepts},
            words=lists,
            playlist=playlist or load_playlist_words(),
            known_words=frozenset(known_words),
        )
        genre_phrases: set[str] = set()
        for genre in genres:
            parts = tokens(genre)
            for start in range(len(parts)):
                ending = parts[start:]
                if start == 0 or len(ending) > 1 or ending[0] in lists.genre_heads:
                    genre_phrases.add(" ".join(ending))
        artist_names = sorted({a.strip() for artist in artists for a in re.split(r",\s*", artist) if a.strip()})
        vocabulary.genres = tuple(sorted(genre_phrases))
        vocabulary.artists = tuple(artist_names)
        # Later entries win on a clash: artist names over genre words over concept phrases.
        for concept in vocabulary.concepts.values():
            for phrase in concept.phrases:
                vocabulary._add(phrase, Mention("concept", concept.name))
        for genre in vocabulary.genres:
            vocabulary._add(genre, Mention("genre", genre))
        for artist in vocabulary.artists:
            if len(tokens(artist)) > 0 and not (len(artist) <= 2):
                vocabulary._add(artist, Mention("artist", artist))
        return vocabulary

    def _add(self, phrase: str, mention: Mention) -> None:
        key = tuple(tokens(phrase))
        if key:
            earlier = self.phrases.get(key)
            if earlier is not None and earlier.kind == "concept" and mention.kind != "concept":
                self.shadowed[key] = earlier
            self.phrases[key] = mention
            self.longest = max(self.longest, len(key))
            self._singles = None

    def is_everyday(self, phrase: Iterable[str]) -> bool:
        """Whether every word of ``phrase`` is an everyday word (so a name made of them may mean something else)."""
        return bool(self.known_words) and all(word in self.known_words for word in phrase)

    def single_words(self) -> dict[str, Mention]:
        """One-word phrases, the candidates for typo correction (collected once; do not modify)."""
        if self._singles is None:
            self._singles = {key[0]: mention for key, mention in self.phrases.items() if len(key) == 1}
        return self._singles


def load_known_words(model_path: Path) -> frozenset[str]:
    """The model tokenizer's whole English words (``vocab.txt`` beside the weights): what counts as a real word."""
    vocab = Path(model_path) / "vocab.txt"
    try:
        lines = vocab.read_text(encoding="utf-8").splitlines()
    except OSError:
        return frozenset()  # a model without a WordPiece vocabulary: every word may be corrected, as before
    return frozenset(line for line in lines if line.isalpha() and line.isascii() and line.islower() and len(line) > 1)


def load_concepts(path: Path, feature_words: Mapping[str, Iterable[str]]) -> list[Concept]:
    """Read the concepts file and check that every wanted word is a real bucket word."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("concepts", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read the concepts file {path}: {exc}") from exc
    known = {feature: set(words) for feature, words in feature_words.items()}
    concepts = []
    for name, entry in raw.items():
        wants: dict[str, frozenset[str]] = {}
        for feature, words in entry.get("wants", {}).items():
            if feature not in known:
                raise ConfigError(f"{path} [{name}] wants unknown feature '{feature}'.")
            unknown = set(words) - known[feature]
            if unknown:
                raise ConfigError(f"{path} [{name}] wants {feature} words that do not exist: {sorted(unknown)}.")
            wants[feature] = frozenset(words)
        phrases = tuple(entry.get("phrases", ()))
        if not phrases:
            raise ConfigError(f"{path} [{name}] has no phrases.")
        weights = {str(f): float(w) for f, w in entry.get("weights", {}).items()}
        if set(weights) - set(wants):
            raise ConfigError(f"{path} [{name}] weighs features it does not want: {sorted(set(weights) - set(wants))}.")
        concepts.append(
            Concept(
                name=name,
                phrases=phrases,
                wants=wants,
                constraint=bool(entry.get("constraint", False)),
                query_words=str(entry.get("query_words", "")),
                examples=tuple(str(e) for e in entry.get("examples", ())),
                weights=weights,
                wish=bool(entry.get("wish", False)),
                kind=_kind(path, name, entry.get("kind", "mood")),
                leans={feature: word_direction(feature_words, feature, words) for feature, words in wants.items()},
            )
        )
    return concepts


def _kind(path: Path, name: str, kind: object) -> str:
    if kind not in CONCEPT_KINDS:
        raise ConfigError(f"{path} [{name}] has kind {kind!r}; use one of {list(CONCEPT_KINDS)}.")
    return str(kind)


def word_direction(bucket_words: Mapping[str, Sequence[str]], feature: str, words: Iterable[str]) -> int:
    """+1 when ``words`` are the feature's upper buckets, -1 for the lower ones, 0 for the middle."""
    ordered = list(bucket_words.get(feature, ()))
    positions = [ordered.index(word) for word in words if word in ordered]
    if not positions:
        return 0
    lean = sum(positions) / len(positions) - (len(ordered) - 1) / 2
    return 0 if abs(lean) < 0.5 else (1 if lean > 0 else -1)
