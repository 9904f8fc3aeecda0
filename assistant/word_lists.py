"""The word lists that steer how requests and follow-ups are read, from ``prompts/conversation_words.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from index_builder.errors import ConfigError
from index_builder.settings import PROJECT_ROOT

WORDS_FILE = "conversation_words.toml"
"""The file's name inside ``settings.prompts_dir``."""
DEFAULT_PATH = PROJECT_ROOT / "prompts" / WORDS_FILE


@dataclass(frozen=True)
class WordLists:
    """Every list of the words file; see the file for what each one does."""

    negators: frozenset[str]
    negator_phrases: frozenset[tuple[str, ...]]
    negation_filler: frozenset[str]
    similar_cues: frozenset[str]
    never_corrected: frozenset[str]
    follow_up_filler: frozenset[str]
    chit_chat: frozenset[str]
    lead_cues: frozenset[str]
    lead_phrases: tuple[str, ...]
    comparatives: frozenset[str]
    artist_cues: frozenset[str]
    name_cues: frozenset[str]
    genre_heads: frozenset[str]
    genre_cues: frozenset[str]
    genre_families: dict[str, tuple[str, ...]]
    determiners: frozenset[str]
    music_nouns: frozenset[str]
    state_markers: tuple[tuple[str, ...], ...]
    insist: tuple[tuple[str, ...], ...]
    stopwords: frozenset[str]
    describes_other: dict[str, frozenset[str]]
    after_words: frozenset[str]
    exercises: frozenset[str]
    cool_down: str
    quantity_nouns: frozenset[str]


@cache
def load_word_lists(path: Path = DEFAULT_PATH) -> WordLists:
    """Read the words file once per path; a missing list or a wrong type is a ConfigError naming it."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read the word lists {path}: {exc}") from exc

    def words(section: str, key: str) -> list[str]:
        value = raw.get(section, {}).get(key)
        if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
            raise ConfigError(f"{path} needs [{section}] {key} as a list of words.")
        return [" ".join(w.casefold().replace("'", "").split()) for w in value]

    return WordLists(
        negators=frozenset(words("negation", "negators")),
        negator_phrases=frozenset(tuple(p.split()) for p in words("negation", "phrases")),
        negation_filler=frozenset(words("negation", "filler")),
        similar_cues=frozenset(words("artists", "similar_cues")),
        never_corrected=frozenset(words("spelling", "never_corrected")),
        follow_up_filler=frozenset(words("follow_up", "filler")),
        chit_chat=frozenset(words("follow_up", "chit_chat")),
        lead_cues=frozenset(words("follow_up", "lead_cues")),
        lead_phrases=tuple(words("follow_up", "lead_phrases")),
        comparatives=frozenset(words("follow_up", "comparatives")),
        artist_cues=frozenset(words("artists", "cues")),
        name_cues=frozenset(words("artists", "name_cues")),
        genre_heads=frozenset(words("genres", "heads")),
        genre_cues=frozenset(words("genres", "cues")),
        genre_families=_families(raw.get("genres", {}).get("families", {}), path),
        determiners=frozenset(words("genres", "determiners")),
        music_nouns=frozenset(words("music", "nouns")),
        state_markers=tuple(tuple(m.split()) for m in words("state", "markers")),
        insist=tuple(tuple(m.split()) for m in words("strict", "insist")),
        stopwords=frozenset(words("reading", "stopwords")),
        describes_other=_word_table(raw.get("context", {}).get("describes_other"), path, "[context] describes_other"),
        after_words=frozenset(words("context", "after_words")),
        exercises=frozenset(words("context", "exercises")),
        cool_down=_word(raw.get("context", {}).get("cool_down"), path, "[context] cool_down"),
        quantity_nouns=frozenset(words("context", "quantity_nouns")),
    )


def _families(raw: object, path: Path) -> dict[str, tuple[str, ...]]:
    """``{genre: (relatives, ...)}`` from the file's ``[genres] families`` table."""
    if not isinstance(raw, dict) or not all(isinstance(v, list) for v in raw.values()):
        raise ConfigError(f"{path} needs [genres] families as a table of genre lists.")
    return {str(genre).casefold(): tuple(str(r).casefold() for r in relatives) for genre, relatives in raw.items()}


def _word_table(raw: object, path: Path, name: str) -> dict[str, frozenset[str]]:
    """``{word: frozenset(words)}`` from a table of word lists."""
    if not isinstance(raw, dict) or not all(isinstance(v, list) for v in raw.values()):
        raise ConfigError(f"{path} needs {name} as a table of word lists.")
    return {str(key).casefold(): frozenset(str(w).casefold() for w in value) for key, value in raw.items()}


def _word(raw: object, path: Path, name: str) -> str:
    if not isinstance(raw, str) or not raw:
        raise ConfigError(f"{path} needs {name} as a word.")
    return raw


FEEDBACK_FILE = "feedback_words.toml"
"""The feedback words' file name inside ``settings.prompts_dir``."""


@dataclass(frozen=True)
class FeedbackWords:
    """The cues of ``prompts/feedback_words.toml``: phrases as token tuples, longest first."""

    like_strong: tuple[tuple[str, ...], ...]
    like_weak: tuple[tuple[str, ...], ...]
    like_after: tuple[tuple[str, ...], ...]
    dislike_strong: tuple[tuple[str, ...], ...]
    dislike_weak: tuple[tuple[str, ...], ...]
    dislike_after: tuple[tuple[str, ...], ...]
    block_strong: tuple[tuple[str, ...], ...]
    block_weak: tuple[tuple[str, ...], ...]
    unblock: tuple[tuple[str, ...], ...]
    liked: tuple[tuple[str, ...], ...]
    again_alone: tuple[tuple[str, ...], ...]
    again_before: tuple[tuple[str, ...], ...]
    again_after: tuple[tuple[str, ...], ...]
    different: tuple[tuple[str, ...], ...]


@cache
def load_feedback_words(path: Path = PROJECT_ROOT / "prompts" / FEEDBACK_FILE) -> FeedbackWords:
    """Read the feedback words once per path; a missing list or a wrong type is a ConfigError naming it."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read the feedback words {path}: {exc}") from exc

    def phrases(section: str, key: str) -> tuple[tuple[str, ...], ...]:
        value = raw.get(section, {}).get(key)
        if not isinstance(value, list) or not all(isinstance(w, str) and w.split() for w in value):
            raise ConfigError(f"{path} needs [{section}] {key} as a list of words.")
        split = {tuple(w.casefold().replace("'", "").split()) for w in value}
        return tuple(sorted(split, key=lambda p: (-len(p), p)))

    return FeedbackWords(
        like_strong=phrases("like", "strong"),
        like_weak=phrases("like", "weak"),
        like_after=phrases("like", "after"),
        dislike_strong=phrases("dislike", "strong"),
        dislike_weak=phrases("dislike", "weak"),
        dislike_after=phrases("dislike", "after"),
        block_strong=phrases("block", "strong"),
        block_weak=phrases("block", "weak"),
        unblock=phrases("unblock", "strong"),
        liked=phrases("liked", "phrases"),
        again_alone=phrases("again", "alone"),
        again_before=phrases("again", "before"),
        again_after=phrases("again", "after"),
        different=phrases("different", "phrases"),
    )
