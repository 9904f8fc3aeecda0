"""Mood presets: named searches read from ``prompts/mood_presets.toml`` (query words plus feature targets)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.catalogue_view import CatalogueView
from assistant.conditions import Filters
from assistant.engine import SearchEngine
from assistant.formatting import format_value
from assistant.results import SearchResponse
from index_builder.errors import ConfigError, QueryError
from index_builder.schema import NUMERIC_FEATURES

PRESETS_FILE = "mood_presets.toml"
"""The presets file's name inside ``settings.prompts_dir``."""


@dataclass(frozen=True)
class Target:
    """A wished-for range of one feature and how much it counts."""

    feature: str
    low: float
    high: float
    weight: float

    def scores(self, values: np.ndarray, scale: float) -> np.ndarray:
        """1 inside [low, high], falling linearly to 0 at ``scale`` outside it; 0 for missing values."""
        distance = np.maximum(self.low - values, 0.0) + np.maximum(values - self.high, 0.0)
        return np.nan_to_num(np.clip(1.0 - distance / max(scale, 1e-12), 0.0, 1.0), nan=0.0)

    def describe(self) -> str:
        """``tempo 118-180 BPM``."""
        return (
            f"{self.feature} {format_value(self.feature, self.low, unit=False)}-{format_value(self.feature, self.high)}"
        )


@dataclass(frozen=True)
class Preset:
    """One mood preset as written in the presets file."""

    name: str
    label: str
    query_words: str
    blend: float
    targets: tuple[Target, ...]

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready view (the /presets endpoint)."""
        return {
            "name": self.name,
            "label": self.label,
            "query_words": self.query_words,
            "blend": self.blend,
            "targets": [{"feature": t.feature, "min": t.low, "max": t.high, "weight": t.weight} for t in self.targets],
        }


def load_presets(path: Path) -> dict[str, Preset]:
    """Read and check the presets file; ConfigError names the first problem."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read the mood presets file {path}: {exc}") from exc
    entries = data.get("presets")
    if not isinstance(entries, dict) or not entries:
        raise ConfigError(f"{path} defines no [presets.<name>] entries.")
    presets = {}
    for name, entry in entries.items():
        where = f"{path} [presets.{name}]"
        query_words = str(entry.get("query_words", "")).strip()
        if not query_words:
            raise ConfigError(f"{where}: 'query_words' must be non-empty text.")
        blend = entry.get("blend", 0.5)
        if not isinstance(blend, int | float) or not 0 <= blend <= 1:
            raise ConfigError(f"{where}: 'blend' must be a number from 0 to 1, not {blend!r}.")
        targets = []
        for feature, spec in dict(entry.get("targets", {})).items():
            if feature not in NUMERIC_FEATURES:
                raise ConfigError(f"{where}: unknown feature '{feature}' in targets.")
            try:
                low, high, weight = float(spec["min"]), float(spec["max"]), float(spec.get("weight", 1.0))
            except (KeyError, TypeError, ValueError) as exc:
                raise ConfigError(f"{where}: target '{feature}' needs numeric 'min', 'max' and 'weight'.") from exc
            if low > high or weight <= 0:
                raise ConfigError(f"{where}: target '{feature}' needs min <= max and a positive weight.")
            targets.append(Target(feature, low, high, weight))
        if not targets:
            raise ConfigError(f"{where}: needs at least one target.")
        presets[name] = Preset(name, str(entry.get("label", name.title())), query_words, float(blend), tuple(targets))
    return presets


def engine_presets(engine: SearchEngine) -> dict[str, Preset]:
    """The presets in the engine's prompts folder (read on each call, so edits apply without a restart)."""
    return load_presets(Path(engine.settings.prompts_dir) / PRESETS_FILE)


def find_preset(presets: dict[str, Preset], name: str) -> Preset:
    """The preset called ``name`` (its key or label, any case), or a QueryError listing the presets."""
    wanted = str(name or "").strip().casefold()
    for preset in presets.values():
        if wanted in (preset.name.casefold(), preset.label.casefold()):
            return preset
    raise QueryError(f"No mood preset called '{name}'. Pick one of: {', '.join(presets)}.")


def preset_search(
    engine: SearchEngine,
    name: str,
    k: int | None = None,
    filters: Filters | None = None,
    diverse: bool = True,
) -> SearchResponse:
    """Songs for a mood preset, among those ``filters`` allow.

    Score = (1 - blend) x description closeness to the preset's query words (rescaled to 0-1 over the allowed
    songs) + blend x the weighted share of the preset's feature targets the song meets. Each explanation says
    which targets the song hits and which it misses.
    """
    preset = find_preset(engine_presets(engine), name)
    space = engine.catalogue
    filters = filters or Filters()
    rows = np.flatnonzero(filters.mask(space))
    if len(rows) == 0:
        raise QueryError(f"No song in the catalogue is {filters.describe()}.")
    text = space.text_similarity(engine.encoder.encode_query(preset.query_words))[rows]
    spread = float(text.max() - text.min())
    text = (text - text.min()) / spread if spread > 0 else np.ones_like(text)
    targets = [t for t in preset.targets if t.feature in space.numeric_features]
    hits = {t.feature: t.scores(space.raw[t.feature].to_numpy()[rows], float(space.std[t.feature])) for t in targets}
    total_weight = sum(t.weight for t in targets)
    target_score = sum(t.weight * hits[t.feature] for t in targets) / total_weight if targets else 0.0 * text
    scores = (1.0 - preset.blend) * text + preset.blend * target_score
    order = engine.pick(scores, rows, engine.result_count(k), diverse)
    results = []
    for rank, position in enumerate(order, 1):
        row = int(rows[position])
        explanation, matched = explain_targets(space, preset, targets, row)
        results.append(space.result(rank, row, scores[position], explanation, matched))
    notes = []
    skipped = [t.feature for t in preset.targets if t not in targets]
    if skipped:
        notes.append(f"This catalogue has no {', '.join(skipped)} values; those targets were skipped.")
    understood = "; ".join(p for p in (f"{preset.label} preset: {preset.query_words}", filters.describe()) if p)
    return SearchResponse(query=preset.name, understood=understood, results=results, notes=notes)


def explain_targets(
    space: CatalogueView, preset: Preset, targets: list[Target], row: int
) -> tuple[str, tuple[str, ...]]:
    """``("hits Energetic targets: very high energy (0.91), fast tempo (128 BPM); misses: loudness -7 dB (wants
    -6 to 0 dB)", hit words)``; the most heavily weighted targets first."""
    words = space.song_words(row)
    hit, missed, matched = [], [], []
    for target in sorted(targets, key=lambda t: -t.weight):
        value = space.raw.at[row, target.feature]
        if np.isnan(value):
            missed.append(f"no {space.feature_label(target.feature)} value")
        elif target.low <= value <= target.high:
            word = words.get(target.feature, space.feature_label(target.feature))
            hit.append(f"{space.shown_word(target.feature, word)} ({format_value(target.feature, value)})")
            matched.append(word)
        else:
            wants = (
                f"{format_value(target.feature, target.low, unit=False)} to {format_value(target.feature, target.high)}"
            )
            missed.append(
                f"{space.feature_label(target.feature)} {format_value(target.feature, value)} (wants {wants})"
            )
    parts = []
    if hit:
        parts.append(f"hits {preset.label} targets: " + ", ".join(hit))
    if missed:
        parts.append("misses: " + ", ".join(missed))
    return "; ".join(parts) or f"close to '{preset.query_words}'", tuple(matched)
