"""The labelled query set, and its relevance rules judged on a catalogue's own fields (never on Moodring's words)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from index_builder.errors import ConfigError

QUERIES_PATH = Path(__file__).resolve().parent / "queries.toml"
"""The query set kept in the repository."""
OPEN_QUERIES_PATH = Path(__file__).resolve().parent / "open_queries.toml"
"""The open set (issue 13): everyday requests in people's own words, not in the concepts' words."""
HOLDOUT_QUERIES_PATH = Path(__file__).resolve().parent / "holdout_queries.toml"
"""The held-out set: written by an independent helper without running Moodring or reading its vocabulary, after
the open set had been used to find kinds of misreading; measured only, never tuned against."""

CATEGORIES = ("mood", "activity", "genre", "era", "feature", "mixed")
"""The categories of the first query set, each of which it covers."""
OPEN_CATEGORIES = ("scene", "feeling", "state", "occasion", "activity", "feature", "negation", "slang", "mixed")
"""The categories of the open set: scenes (places, weather, times of day), the person's own feelings, states of
the person that call for other songs ("I'm sad, cheer me up"), occasions, activities, sound in everyday words,
negations and softenings ("less sad", "not too fast"), slang, and requests mixed with years and artists."""
ALL_CATEGORIES = tuple(dict.fromkeys(CATEGORIES + OPEN_CATEGORIES))
"""Every category a query file may use, in the order tables show them."""

PARTS = ("lowest_third", "middle_third", "highest_third", "lower_two_thirds", "upper_two_thirds")
"""Parts of a feature's range, cut at the catalogue's own 1/3 and 2/3 quantiles."""

CONSTRAINT_KEYS = ("year_min", "year_max", "genre", "exclude_genre", "artist", "exclude_artist")
"""What a request can demand outright; breaking one is a constraint violation."""

_FEAT_CREDIT = re.compile(r"[(\[](?:feat\.?|ft\.?|featuring|with)\s+([^)\]]+)", re.IGNORECASE)


class SkippedQuery(Exception):
    """A query that cannot be judged on this catalogue (a missing field, or no song meets its rule)."""


@dataclass(frozen=True)
class LabelledQuery:
    """One request with the rule that says which songs answer it."""

    text: str
    category: str
    relevant: Mapping[str, object] = field(default_factory=dict)
    constraints: Mapping[str, object] = field(default_factory=dict)
    smoke: bool = False

    @property
    def condition_count(self) -> int:
        """How many conditions a fully relevant song meets."""
        return len(self.relevant) + len(self.constraints)


@dataclass
class Judgement:
    """One query judged against one catalogue: per song, whether it is relevant and how much it is worth."""

    query: LabelledQuery
    relevant: np.ndarray
    """True where the song meets every condition, constraints included."""
    allowed: np.ndarray
    """True where the song breaks none of the query's hard constraints."""
    gains: np.ndarray
    """The share of conditions met (0-1), and 0 wherever a hard constraint is broken; the nDCG gain."""

    @property
    def relevant_count(self) -> int:
        """How many songs in the catalogue are right answers."""
        return int(self.relevant.sum())


def load_queries(path: Path = QUERIES_PATH) -> list[LabelledQuery]:
    """Read and check the query set; a ConfigError names the first entry that does not make sense."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("queries", [])
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read the query set {path}: {exc}") from exc
    queries = []
    for number, entry in enumerate(raw, 1):
        where = f"{path} query {number} ({entry.get('text', '?')!r})"
        unknown = set(entry) - {"text", "category", "relevant", "constraints", "smoke"}
        if unknown:
            raise ConfigError(f"{where} has unknown keys {sorted(unknown)}.")
        if entry.get("category") not in ALL_CATEGORIES:
            raise ConfigError(f"{where} has category {entry.get('category')!r}, not one of {ALL_CATEGORIES}.")
        relevant = dict(entry.get("relevant", {}))
        constraints = dict(entry.get("constraints", {}))
        for feature, part in relevant.items():
            if feature != "genre" and part not in PARTS:
                raise ConfigError(f"{where} wants {feature} = {part!r}; use one of {PARTS} or genre = [...].")
        if set(constraints) - set(CONSTRAINT_KEYS):
            raise ConfigError(f"{where} has unknown constraints {sorted(set(constraints) - set(CONSTRAINT_KEYS))}.")
        if not relevant and not constraints:
            raise ConfigError(f"{where} has no rule: every song would be relevant.")
        queries.append(
            LabelledQuery(
                text=str(entry["text"]),
                category=entry["category"],
                relevant=relevant,
                constraints=constraints,
                smoke=bool(entry.get("smoke", False)),
            )
        )
    return queries


def judge(query: LabelledQuery, songs: pd.DataFrame) -> Judgement:
    """Apply the query's rule to ``songs``; SkippedQuery if the catalogue cannot answer it."""
    met: list[np.ndarray] = []
    for feature, part in query.relevant.items():
        if feature == "genre":
            met.append(_genre_mask(songs, part))
        else:
            met.append(_part_mask(songs, feature, str(part)))
    hard: list[np.ndarray] = [_constraint_mask(songs, key, value) for key, value in query.constraints.items()]
    allowed = np.logical_and.reduce(hard) if hard else np.ones(len(songs), dtype=bool)
    conditions = np.vstack([*met, *hard]).astype(np.float32)
    relevant = conditions.min(axis=0) > 0
    if not relevant.any():
        raise SkippedQuery("no song in this catalogue meets its rule")
    gains = np.where(allowed, conditions.mean(axis=0), 0.0).astype(np.float32)
    return Judgement(query=query, relevant=relevant, allowed=allowed, gains=gains)


def credited_text(songs: pd.DataFrame) -> list[str]:
    """Per song, the artist field plus any ``feat.``/``with`` credit in the title, normalized for matching."""
    credits = []
    for artist, title in zip(songs["artist"].astype(str), songs["title"].astype(str), strict=True):
        guests = " ; ".join(_FEAT_CREDIT.findall(title))
        credits.append(_normalize(f"{artist} ; {guests}"))
    return credits


def contains_phrase(text: str, phrase: str) -> bool:
    """Whether ``phrase`` occurs in ``text`` as whole words, ignoring case and hyphens."""
    pattern = rf"(?<![\w&$]){re.escape(_normalize(phrase))}(?![\w&$])"
    return re.search(pattern, _normalize(text)) is not None


def _normalize(text: str) -> str:
    return re.sub(r"\s+", " ", str(text).casefold().replace("-", " ").replace("’", "'")).strip()


def _part_mask(songs: pd.DataFrame, feature: str, part: str) -> np.ndarray:
    if feature not in songs or songs[feature].isna().all():
        raise SkippedQuery(f"the catalogue has no {feature}")
    values = songs[feature].to_numpy(dtype=float, na_value=np.nan)
    low, high = np.nanquantile(values, [1 / 3, 2 / 3])
    with np.errstate(invalid="ignore"):
        masks = {
            "lowest_third": values <= low,
            "middle_third": (values > low) & (values < high),
            "highest_third": values >= high,
            "lower_two_thirds": values < high,
            "upper_two_thirds": values > low,
        }
    return masks[part]


def _genre_mask(songs: pd.DataFrame, phrases: object) -> np.ndarray:
    if "genre" not in songs or not songs["genre"].fillna("").astype(str).str.strip().any():
        raise SkippedQuery("the catalogue has no genres")
    wanted = [str(p) for p in _as_list(phrases)]
    return np.array([any(contains_phrase(g, p) for p in wanted) for g in songs["genre"].fillna("")], dtype=bool)


def _artist_mask(songs: pd.DataFrame, names: object) -> np.ndarray:
    wanted = [str(n) for n in _as_list(names)]
    return np.array([any(contains_phrase(c, n) for n in wanted) for c in credited_text(songs)], dtype=bool)


def _constraint_mask(songs: pd.DataFrame, key: str, value: object) -> np.ndarray:
    if key in ("year_min", "year_max"):
        if "year" not in songs or songs["year"].isna().all():
            raise SkippedQuery("the catalogue has no years")
        years = songs["year"].to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            return years >= float(value) if key == "year_min" else years <= float(value)  # type: ignore[arg-type]
    if key == "genre":
        return _genre_mask(songs, value)
    if key == "exclude_genre":
        return ~_genre_mask(songs, value)
    if key == "artist":
        return _artist_mask(songs, value)
    return ~_artist_mask(songs, value)


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else [value]
