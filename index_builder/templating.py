"""Render a song's description from ``prompts/song_description.txt`` and its bucket words."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from index_builder.buckets import BucketScheme
from index_builder.errors import ConfigError

if TYPE_CHECKING:
    from langchain_core.prompts import PromptTemplate

TEXT_FIELDS = ("title", "artist", "genre", "year", "decade")
"""Template variables that come from the record itself rather than from bucket words."""


@dataclass(frozen=True)
class SongTemplate:
    """A line-oriented template: a line is dropped when the song lacks any variable it uses."""

    source: str
    lines: tuple[PromptTemplate, ...]

    @classmethod
    def from_file(cls, path: Path, known_variables: set[str]) -> SongTemplate:
        """Load the template; raise ConfigError if it uses a variable no song record can provide."""
        from langchain_core.prompts import PromptTemplate  # deferred: only building an index renders descriptions

        try:
            whole = PromptTemplate.from_file(path, encoding="utf-8")
        except (OSError, ValueError) as exc:
            raise ConfigError(f"Cannot read the song template {path}: {exc}") from exc
        unknown = set(whole.input_variables) - known_variables
        if unknown:
            raise ConfigError(
                f"The song template {path} uses unknown variables: {', '.join(sorted(unknown))}. "
                f"Known: {', '.join(sorted(known_variables))}."
            )
        lines = tuple(PromptTemplate.from_template(line) for line in whole.template.splitlines() if line.strip())
        return cls(source=whole.template, lines=lines)

    @property
    def variables(self) -> set[str]:
        """Every variable the template uses."""
        return {name for line in self.lines for name in line.input_variables}

    def fingerprint(self) -> str:
        """sha256 of the template text."""
        return hashlib.sha256(self.source.encode("utf-8")).hexdigest()

    def render(self, values: Mapping[str, str]) -> str:
        """Fill the lines whose variables are all present; capitalise each sentence start; join with spaces."""
        rendered = []
        for line in self.lines:
            if all(values.get(name) for name in line.input_variables):
                text = line.format(**{name: values[name] for name in line.input_variables}).strip()
                rendered.append(text[:1].upper() + text[1:])
        return " ".join(rendered)


def template_values(song: Mapping[str, object], scheme: BucketScheme) -> dict[str, str]:
    """The variables for one song: its text fields plus the bucket words of every feature it has."""
    values: dict[str, str] = {}
    for name in ("title", "artist", "genre"):
        text = song.get(name)
        if isinstance(text, str) and text.strip():
            values[name] = text.strip()
    year = song.get("year")
    if year is not None and not _is_missing(year):
        values["year"] = str(int(year))  # type: ignore[call-overload]
        values["decade"] = f"{int(year) // 10 * 10}s"  # type: ignore[call-overload]
    values.update(scheme.words_for(song))
    return values


def known_variables(scheme_features: set[str]) -> set[str]:
    """Variables a template may use, given the features defined in the thresholds file."""
    return set(TEXT_FIELDS) | scheme_features


def _is_missing(value: object) -> bool:
    try:
        return bool(value != value) or value is None  # NaN and pd.NA
    except TypeError:
        return True
