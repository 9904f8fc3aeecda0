"""Whether a request is in English, cheaply: the model reads English, so a request in another language should be
told so instead of getting songs found by accident.

No language model: a request is read as another language when most of its letters are not Latin, or when its
foreign words (listed markers such as ``canciones`` or ``pour``, accented words no catalogue name has, words that
are neither in the catalogue, the request vocabulary nor the model's own word list) are at least
``min_foreign`` and outnumber its English ones. A typo, a slang word or an artist's name is one unknown word among
English ones, so it never tips a request over (``prompts/language_words.toml`` explains the lists).
"""

from __future__ import annotations

import re
import threading
import tomllib
import unicodedata
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.relative import WORDS_FILE as RELATIVE_FILE
from assistant.relative import load_relative_words
from index_builder.errors import ConfigError
from index_builder.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from assistant.engine import SearchEngine

WORDS_FILE = "language_words.toml"
"""The file's name inside ``prompts/``."""
DEFAULT_PATH = PROJECT_ROOT / "prompts" / WORDS_FILE
_WORD = re.compile(r"[^\W\d_]+")
_SUFFIXES = (("iest", "y"), ("ier", "y"), ("ies", "y"), ("ing", ""), ("ing", "e"), ("est", ""), ("ed", ""),
             ("ed", "e"), ("er", ""), ("er", "e"), ("es", ""), ("ly", ""), ("s", ""), ("z", ""))  # fmt: skip


@dataclass(frozen=True)
class LanguageReading:
    """What the check made of a request."""

    english: bool
    reason: str = ""
    """Why it is not English: ``script`` (mostly non-Latin letters) or ``words``."""
    foreign_words: tuple[str, ...] = ()
    english_words: tuple[str, ...] = ()


class EnglishCheck:
    """Reads whether a request is English from word lists: the catalogue's and request vocabulary's words (always
    English here, whatever their language), the model's word list, and the marker words of other languages."""

    def __init__(
        self,
        known: Iterable[str],
        model_words: Iterable[str],
        markers: Iterable[str],
        min_foreign: int = 2,
        typo_min_letters: int = 5,
    ) -> None:
        self.known = frozenset(w for word in known for w in _forms(word))
        self.model_words = frozenset(w for w in model_words if w.isascii() and w.isalpha() and len(w) > 1)
        self.markers = frozenset(w for word in markers for w in _forms(word))
        self.min_foreign = min_foreign
        self.typo_min_letters = typo_min_letters
        self._one_letter_off = frozenset(d for w in self.model_words if len(w) >= 4 for d in _deletions(w))

    def read(self, text: str) -> LanguageReading:
        """Whether ``text`` reads as English, and the words that decided it."""
        letters = [ch for ch in text if ch.isalpha()]
        words = [w for w in _WORD.findall(text.casefold()) if len(w) > 1]
        other_script = [ch for ch in letters if not unicodedata.name(ch, "").startswith("LATIN")]
        if letters and len(other_script) * 2 > len(letters) and not all(w in self.known for w in words):
            return LanguageReading(False, "script", tuple(words))
        foreign, english = [], []
        for word in words:
            (english if self._is_english(word) else foreign).append(word)
        if len(foreign) >= self.min_foreign and len(foreign) > len(english):
            return LanguageReading(False, "words", tuple(foreign), tuple(english))
        return LanguageReading(True, "", tuple(foreign), tuple(english))

    def _is_english(self, word: str) -> bool:
        if word in self.markers or _plain(word) in self.markers:
            return False
        if word in self.known or _plain(word) in self.known:
            return True
        if not word.isascii():
            return False
        if not self.model_words:
            return True  # without the model's list an unknown plain word gets the benefit of the doubt
        if word in self.model_words or any(
            word.endswith(suffix) and word[: len(word) - len(suffix)] + ending in self.model_words
            for suffix, ending in _SUFFIXES
        ):
            return True
        if len(word) < self.typo_min_letters:
            return False
        # One letter off a model word: one added (a deletion is a word), missing, swapped or changed.
        return any(d in self.model_words or d in self._one_letter_off for d in _deletions(word)) or (
            word in self._one_letter_off
        )


@dataclass(frozen=True)
class LanguageWords:
    """The language-words file, read."""

    markers: frozenset[str]
    min_foreign: int
    typo_min_letters: int


@cache
def load_language_words(path: Path = DEFAULT_PATH) -> LanguageWords:
    """Read the language-words file once per path; a malformed list is a ConfigError naming it."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read the language words {path}: {exc}") from exc
    markers: set[str] = set()
    for language, words in raw.get("markers", {}).items():
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            raise ConfigError(f"{path} needs [markers] {language} as a list of words.")
        markers.update(w.casefold().strip() for w in words)
    reading = raw.get("reading", {})
    try:
        return LanguageWords(
            frozenset(markers), int(reading.get("min_foreign", 2)), int(reading.get("typo_min_letters", 5))
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: [reading] min_foreign and typo_min_letters must be whole numbers.") from exc


_CHECKS: weakref.WeakKeyDictionary[SearchEngine, EnglishCheck] = weakref.WeakKeyDictionary()
_CHECKS_LOCK = threading.Lock()


def english_check(engine: SearchEngine) -> EnglishCheck:
    """The check for one engine (its catalogue's names, its request vocabulary and the model's whole words from
    it, ``Vocabulary.known_words``), built once on first use and dropped with the engine."""
    with _CHECKS_LOCK:
        check = _CHECKS.get(engine)
        if check is None:
            songs = engine.songs
            names = [*songs["title"].astype(str), *songs["artist"].astype(str), *songs["genre"].astype(str)]
            vocabulary = engine.vocabulary
            known = [w for name in names for w in _WORD.findall(name.casefold())]
            known += [w for phrase in vocabulary.phrases for w in phrase]
            relative = load_relative_words(engine.settings.prompts_dir / RELATIVE_FILE)
            known += [w for phrase in relative.phrases for w in phrase]
            words = load_language_words(engine.settings.prompts_dir / WORDS_FILE)
            check = EnglishCheck(
                known,
                vocabulary.known_words,
                words.markers,
                words.min_foreign,
                words.typo_min_letters,
            )
            _CHECKS[engine] = check
        return check


def _plain(word: str) -> str:
    """``música`` -> ``musica``."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch))


def _forms(word: str) -> tuple[str, ...]:
    word = word.casefold().strip()
    return (word, _plain(word))


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}
