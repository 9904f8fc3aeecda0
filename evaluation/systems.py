"""The four systems the evaluation compares, each ranking catalogue rows for a raw request.

(a) plain embedding search, (b) keyword TF-IDF, (c) audio-feature presets, (d) Moodring's full pipeline. All
four see the same catalogue and, where they use text, the same song descriptions.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import StandardScaler

from assistant.engine import SearchEngine
from index_builder.errors import ConfigError
from index_builder.schema import NUMERIC_FEATURES

PRESETS_PATH = Path(__file__).resolve().parent / "feature_presets.toml"


class Ranker(Protocol):
    """Anything that turns a request into catalogue row numbers, best first."""

    name: str

    def rank(self, text: str, k: int) -> np.ndarray:
        """Up to ``k`` row numbers of the songs table, best first."""
        ...


class PlainEmbedding:
    """Baseline (a): the raw request embedded and searched in Moodring's own index; no parsing, filters or re-rank."""

    name = "plain embedding (same texts, model, FAISS)"

    def __init__(self, engine: SearchEngine) -> None:
        self.engine = engine

    def rank(self, text: str, k: int) -> np.ndarray:
        vector = self.engine.encoder.encode_query(text)
        _, ids = self.engine.index.search(vector[None, :], k)  # the folder's FAISS index or the Milvus collection
        return ids[0][ids[0] >= 0]


class KeywordTfidf:
    """Baseline (b): TF-IDF over the same song descriptions (words and word pairs, English stop words removed)."""

    name = "keyword TF-IDF (same texts)"

    def __init__(self, descriptions: pd.Series) -> None:
        self.vectorizer = TfidfVectorizer(stop_words="english", ngram_range=(1, 2), sublinear_tf=True)
        self.matrix = self.vectorizer.fit_transform(descriptions.fillna("").astype(str))

    def rank(self, text: str, k: int) -> np.ndarray:
        query = self.vectorizer.transform([text])
        scores = (self.matrix @ query.T).toarray().ravel()  # rows are L2-normalized: this is the cosine
        return np.argsort(-scores, kind="stable")[:k]


@dataclass(frozen=True)
class Preset:
    """Phrases that trigger one mood preset and where it puts songs, in standard deviations per feature."""

    name: str
    patterns: tuple[re.Pattern[str], ...]
    targets: dict[str, float]


def load_presets(path: Path = PRESETS_PATH) -> list[Preset]:
    """Read the baseline's mood presets."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("presets", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read the presets file {path}: {exc}") from exc
    presets = []
    for name, entry in raw.items():
        unknown = set(entry.get("targets", {})) - set(NUMERIC_FEATURES)
        if unknown:
            raise ConfigError(f"{path} [{name}] targets unknown features {sorted(unknown)}.")
        patterns = tuple(re.compile(rf"(?<!\w){re.escape(p.casefold())}(?!\w)") for p in entry["phrases"])
        presets.append(Preset(name, patterns, {f: float(v) for f, v in entry["targets"].items()}))
    return presets


class FeaturePresets:
    """Baseline (c): mood presets as weighted feature targets, cosine over standardized audio features."""

    name = "audio-feature presets"

    def __init__(self, songs: pd.DataFrame, presets: list[Preset] | None = None) -> None:
        self.presets = load_presets() if presets is None else presets
        self.features = [f for f in NUMERIC_FEATURES if f in songs and songs[f].notna().any()]
        scaled = StandardScaler().fit_transform(songs[self.features].to_numpy(dtype=float, na_value=np.nan))
        self.scaled = np.nan_to_num(scaled)  # a missing value sits at the mean
        self.norms = np.linalg.norm(self.scaled, axis=1)
        popularity = songs["popularity"] if "popularity" in songs else pd.Series(0.0, index=songs.index)
        self.popularity = popularity.to_numpy(dtype=float, na_value=0.0)

    def target(self, text: str) -> np.ndarray:
        """The summed targets of every preset the request triggers (all zeros when none)."""
        lowered = text.casefold()
        target = np.zeros(len(self.features))
        for preset in self.presets:
            if any(p.search(lowered) for p in preset.patterns):
                for feature, value in preset.targets.items():
                    if feature in self.features:
                        target[self.features.index(feature)] += value
        return target

    def rank(self, text: str, k: int) -> np.ndarray:
        target = self.target(text)
        norm = float(np.linalg.norm(target))
        if norm == 0:
            scores = np.zeros(len(self.scaled))
        else:
            scores = self.scaled @ target / (np.maximum(self.norms, 1e-12) * norm)
        return np.lexsort((-self.popularity, -scores))[:k]  # cosine first, popularity breaks ties


class MoodringPipeline:
    """System (d): Moodring's full pipeline, request understanding, filters, re-ranking and all."""

    name = "Moodring full pipeline"

    def __init__(self, engine: SearchEngine) -> None:
        self.engine = engine
        self.rows = {song_id: row for row, song_id in enumerate(engine.songs["song_id"])}

    def rank(self, text: str, k: int) -> np.ndarray:
        response = self.engine.search(text, k)
        return np.array([self.rows[r.song_id] for r in response.results], dtype=np.int64)


def all_systems(engine: SearchEngine) -> list[Ranker]:
    """The four systems, baselines first, over ``engine``'s catalogue and index."""
    return [
        PlainEmbedding(engine),
        KeywordTfidf(engine.songs["description"]),
        FeaturePresets(engine.songs),
        MoodringPipeline(engine),
    ]
