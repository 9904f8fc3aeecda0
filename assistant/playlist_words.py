"""The word lists that shape a playlist (length cues, order phrases, version markers, clean phrases), read from
``prompts/playlist_words.toml``."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from assistant.ordering import ORDERS
from index_builder.errors import ConfigError
from index_builder.settings import PROJECT_ROOT

PLAYLIST_WORDS_FILE = "playlist_words.toml"
"""The file's name inside ``settings.prompts_dir``."""
DEFAULT_PATH = PROJECT_ROOT / "prompts" / PLAYLIST_WORDS_FILE


@dataclass(frozen=True)
class PlaylistWords:
    """Every list of the playlist words file; see the file for what each one does."""

    length_after: frozenset[str]
    length_before: frozenset[str]
    length_per_song: tuple[str, ...]
    orders: dict[str, tuple[str, ...]]
    order_mood_too: frozenset[str]
    playlist_nouns: tuple[str, ...]
    version_markers: tuple[str, ...]
    keep_all_versions: tuple[str, ...]
    clean: tuple[str, ...]
    clean_nouns: tuple[str, ...]
    clean_not_before: tuple[str, ...]


def plain_words(text: str) -> str:
    """Lower case, apostrophes removed, other punctuation (hyphens, commas) as spaces: how the lists are matched."""
    return " ".join(re.sub(r"[^\w\s]", " ", str(text).casefold().replace("’", "").replace("'", "")).split())


@cache
def load_playlist_words(path: Path = DEFAULT_PATH) -> PlaylistWords:
    """Read the file once per path; a missing list or a wrong type is a ConfigError naming it."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read the playlist words {path}: {exc}") from exc

    def words(section: str, key: str) -> tuple[str, ...]:
        value = raw.get(section, {}).get(key)
        if not isinstance(value, list) or not value or not all(isinstance(w, str) for w in value):
            raise ConfigError(f"{path} needs [{section}] {key} as a list of words.")
        return tuple(plain_words(w) for w in value)

    return PlaylistWords(
        length_after=frozenset(words("length", "after")),
        length_before=frozenset(words("length", "before")),
        length_per_song=words("length", "per_song"),
        orders={name: words("order", name) for name in ORDERS},
        order_mood_too=frozenset(words("order", "mood_too")),
        playlist_nouns=words("order", "playlist_nouns"),
        version_markers=words("versions", "markers"),
        keep_all_versions=words("versions", "keep_all"),
        clean=words("clean", "phrases"),
        clean_nouns=words("clean", "nouns"),
        clean_not_before=words("clean", "not_before"),
    )
