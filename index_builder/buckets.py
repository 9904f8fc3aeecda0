"""Bucket each numeric feature into descriptive words, with thresholds read from ``prompts/feature_words.toml``."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from index_builder.errors import ConfigError
from index_builder.schema import NUMERIC_FEATURES


@dataclass(frozen=True)
class FeatureBuckets:
    """One feature's cut points and words; ``words[i]`` covers values with ``i`` edges at or below them."""

    feature: str
    label: str
    edges: tuple[float, ...]
    words: tuple[str, ...]

    def index_for(self, value: float | None) -> int | None:
        """The bucket number of ``value``, or None when the value is missing."""
        if value is None or not _is_number(value):
            return None
        return int(np.searchsorted(np.asarray(self.edges, dtype=float), float(value), side="right"))

    def word_for(self, value: float | None) -> str | None:
        """The words for ``value``, or None when the value is missing."""
        index = self.index_for(value)
        return None if index is None else self.words[index]


@dataclass(frozen=True)
class BucketScheme:
    """The resolved buckets of every feature for one catalogue."""

    features: Mapping[str, FeatureBuckets]

    def words_for(self, song: Mapping[str, object]) -> dict[str, str]:
        """Feature name -> words, for the features this song has values for."""
        words = {}
        for name, buckets in self.features.items():
            word = buckets.word_for(song.get(name))  # type: ignore[arg-type]
            if word is not None:
                words[name] = word
        return words

    def all_words(self) -> dict[str, tuple[str, ...]]:
        """Every word each feature can take, in bucket order."""
        return {name: buckets.words for name, buckets in self.features.items()}

    def to_dict(self) -> dict[str, dict[str, object]]:
        """A JSON-ready view (stored in the index manifest)."""
        return {
            name: {"label": b.label, "edges": list(b.edges), "words": list(b.words)}
            for name, b in self.features.items()
        }

    def fingerprint(self) -> str:
        """sha256 of the resolved thresholds and words: any change means a different index."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()


def scheme_problems(scheme: BucketScheme, spec: Mapping[str, Mapping[str, object]] | None = None) -> list[str]:
    """What is wrong with a stored scheme: malformed buckets, and with ``spec`` (the thresholds file) any label,
    word or fixed edge that is not the file's, or a quantile feature with another number of edges."""
    problems = []
    for name, buckets in scheme.features.items():
        edges, words = buckets.edges, buckets.words
        if not all(_is_number(e) for e in edges) or any(b < a for a, b in itertools.pairwise(edges)):
            problems.append(f"{name} has edges that are not increasing numbers")
            continue
        if len(words) != len(edges) + 1 or not all(isinstance(w, str) for w in words):
            problems.append(f"{name} does not have one word per bucket")
            continue
        if spec is None:
            continue
        entry = spec.get(name)
        if entry is None:
            problems.append(f"{name} is not in the thresholds file")
            continue
        fixed = entry.get("method", "fixed") != "quantile"
        cuts: list[float] = entry["edges"] if fixed else entry["quantiles"]  # type: ignore[assignment]
        if words != tuple(str(w) for w in entry["words"]):  # type: ignore[union-attr]
            problems.append(f"{name} words differ from the thresholds file")
        elif buckets.label != str(entry.get("label", name)):
            problems.append(f"{name} label differs from the thresholds file")
        elif (fixed and edges != tuple(float(c) for c in cuts)) or len(edges) != len(cuts):
            problems.append(f"{name} edges differ from the thresholds file")
    return problems


def load_bucket_spec(path: Path) -> dict[str, dict[str, object]]:
    """Read and validate the thresholds file; raise ConfigError naming the first problem."""
    try:
        spec = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read the feature words file {path}: {exc}") from exc
    unknown = set(spec) - set(NUMERIC_FEATURES)
    if unknown:
        raise ConfigError(f"{path} names unknown features: {', '.join(sorted(unknown))}.")
    for name, entry in spec.items():
        words = entry.get("words", [])
        method = entry.get("method", "fixed")
        cuts = entry.get("quantiles") if method == "quantile" else entry.get("edges")
        if method not in ("fixed", "quantile"):
            raise ConfigError(f"{path} [{name}]: method must be 'fixed' or 'quantile', not {method!r}.")
        if not isinstance(cuts, list) or not cuts or not all(_is_number(c) for c in cuts):
            key = "quantiles" if method == "quantile" else "edges"
            raise ConfigError(f"{path} [{name}]: '{key}' must be a non-empty list of numbers.")
        if any(b <= a for a, b in itertools.pairwise(cuts)):
            raise ConfigError(f"{path} [{name}]: cut points must be strictly increasing: {cuts}.")
        if method == "quantile" and not all(0 < q < 1 for q in cuts):
            raise ConfigError(f"{path} [{name}]: quantiles must lie strictly between 0 and 1.")
        if len(words) != len(cuts) + 1 or not all(isinstance(w, str) and w.strip() for w in words):
            raise ConfigError(f"{path} [{name}]: needs exactly {len(cuts) + 1} non-empty words, one per bucket.")
    return spec


QUANTILE_TOLERANCE = 0.02
"""An earlier index's quantile edge is kept while the share of songs below it stays this close to its quantile."""


def fit_buckets(
    spec: Mapping[str, Mapping[str, object]], songs: pd.DataFrame, previous: BucketScheme | None = None
) -> BucketScheme:
    """Resolve quantile edges on ``songs``; features with no values in the catalogue are left out.

    With ``previous`` (the scheme of the index being replaced), a quantile feature keeps its earlier edges while
    they still cut the catalogue at its quantiles (within QUANTILE_TOLERANCE).
    Adding a few songs then changes no other song's words, so only the new songs are embedded.
    """
    features: dict[str, FeatureBuckets] = {}
    for name, entry in spec.items():
        values = songs[name].dropna().astype(float) if name in songs else pd.Series(dtype=float)
        if values.empty:
            continue
        if entry.get("method", "fixed") == "quantile":
            quantiles = np.quantile(values, entry["quantiles"])  # type: ignore[arg-type]
            step = float(entry.get("round_to", 0) or 0)  # type: ignore[arg-type]
            if step > 0:  # a few added songs then rarely move an edge, so few descriptions change
                quantiles = np.round(quantiles / step) * step
            edges = tuple(float(v) for v in quantiles)
            earlier = previous.features.get(name) if previous is not None else None
            if earlier is not None and _edges_still_fit(values, earlier.edges, entry["quantiles"]):  # type: ignore[arg-type]
                edges = earlier.edges
        else:
            edges = tuple(float(v) for v in entry["edges"])  # type: ignore[union-attr]
        features[name] = FeatureBuckets(
            feature=name,
            label=str(entry.get("label", name)),
            edges=edges,
            words=tuple(str(w) for w in entry["words"]),  # type: ignore[union-attr]
        )
    return BucketScheme(features=features)


def _edges_still_fit(values: pd.Series, earlier: tuple[float, ...], quantiles: list[float]) -> bool:
    """Whether each ``earlier`` edge still sits at its quantile of ``values``, give or take QUANTILE_TOLERANCE.

    An edge value shared by many songs covers a range of quantiles (from the share below it to the share at or
    below it); the edge fits when its quantile falls in that range, widened by the tolerance.
    """
    if len(earlier) != len(quantiles):
        return False
    array = values.to_numpy(dtype=float)
    for edge, quantile in zip(earlier, quantiles, strict=True):
        below, at_or_below = float(np.mean(array < edge)), float(np.mean(array <= edge))
        if not below - QUANTILE_TOLERANCE <= quantile <= at_or_below + QUANTILE_TOLERANCE:
            return False
    return True


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or value is pd.NA:
        return False
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
