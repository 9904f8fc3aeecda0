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
    )
