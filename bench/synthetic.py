"""Synthetic Spotify-export catalogues of any size, with feature distributions fitted to a real catalogue.

The audio features come from a Gaussian copula fitted to the source catalogue: each feature keeps the source's
own distribution (its empirical quantiles, interpolated) and the features keep their rank correlations (loud
songs stay energetic, acoustic songs stay quiet). Genres follow the source's genre frequencies; artists get a
long-tailed number of songs each; years spread over 1960-2024, weighted toward recent releases the way
streaming catalogues are. Everything is drawn from one seeded generator, so a size and a seed give one file.
"""

from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd

from index_builder.catalogue import load_catalogue
from index_builder.settings import BUNDLED_CATALOGUE

HEADER = [
    "track_id", "track_name", "track_artist", "track_popularity", "track_album_release_date", "playlist_genre",
    "danceability", "energy", "loudness", "speechiness", "acousticness", "instrumentalness", "liveness",
    "valence", "tempo", "duration_ms",
]  # fmt: skip
"""The column names of the widely shared "30000 Spotify songs" export, one of the schemas Moodring reads."""

COPULA_FEATURES = (
    "tempo", "energy", "danceability", "loudness", "liveness", "valence", "duration_s", "acousticness",
    "speechiness", "popularity",
)  # fmt: skip

_ADJECTIVES = (
    "Midnight", "Golden", "Broken", "Electric", "Silent", "Wild", "Neon", "Velvet", "Crimson", "Lonely", "Burning",
    "Frozen", "Endless", "Summer", "Hollow", "Sweet", "Restless", "Paper", "Silver", "Lost", "Shining", "Fading",
    "Secret", "Dizzy", "Heavy", "Little", "Northern", "Perfect", "Rebel", "Cosmic", "Sleepless", "Bitter",
    "Gentle", "Reckless", "Faded", "Wicked", "Honest", "Empty", "Brave", "Lucky",
)  # fmt: skip
_NOUNS = (
    "Hearts", "Lights", "Rain", "Fire", "Dreams", "Highway", "Ocean", "Thunder", "Shadows", "Roses", "Stars",
    "City", "Echoes", "Summer", "Waves", "Promises", "Mirrors", "Tides", "Wings", "Heartbeat", "Sunrise",
    "Streets", "Diamonds", "Ghosts", "Gravity", "Paradise", "Silence", "Horizon", "Thrill", "Memories",
    "Skyline", "Fever", "Kisses", "Lullaby", "Motion", "Satellites", "Avenue", "Daylight", "Flames", "Season",
)  # fmt: skip
_FORMS = ("{a} {n}", "{n}", "The {a} {n}", "{a} {n} Tonight", "{n} of {n2}", "{a} {n} (Remix)", "Our {n}",
          "{a} {n} Again", "No More {n}", "{n} in the {n2}", "{a} {n} (Acoustic)", "All the {n}", "Chasing {n}",
          "{a} Like {n}")  # fmt: skip
_FIRST = (
    "Alex", "Maya", "Jordan", "Lena", "Marcus", "Nova", "Sasha", "Theo", "Zara", "Kai", "Ivy", "Leo", "Ruby",
    "Felix", "Jade", "Omar", "Nina", "Elio", "Luna", "Max", "Aria", "Dev", "Cleo", "Rafa", "Skye", "Milo",
)  # fmt: skip
_LAST = (
    "Rivers", "Vance", "Stone", "Hale", "Moreau", "Okafor", "Lindqvist", "Reyes", "Park", "Marlow", "Quinn",
    "Sato", "Bishop", "Adeyemi", "Kowalski", "Fontaine", "Nakamura", "Castillo", "Wilde", "Hart", "Novak",
)  # fmt: skip
_BANDS = ("The Neon Foxes", "Paper Kites Club", "Velvet Static", "Midnight Arcade", "Golden Hour Kids",
          "Northern Lights Co.", "Silver Tides", "The Lucky Ones", "Cosmic Youth", "Hollow Pines")  # fmt: skip


@dataclass(frozen=True)
class CatalogueProfile:
    """What a synthetic catalogue copies from a real one: feature quantiles, their correlations, genre shares."""

    features: tuple[str, ...]
    sorted_values: dict[str, np.ndarray]
    correlation: np.ndarray
    genres: tuple[str, ...]
    genre_shares: np.ndarray


def fit_profile(songs: pd.DataFrame) -> CatalogueProfile:
    """Fit the copula (normal scores of ranks, their correlation) and genre shares on a loaded songs table."""
    features = tuple(f for f in COPULA_FEATURES if f in songs and songs[f].notna().sum() >= 10)
    complete = songs.dropna(subset=list(features))
    normal = NormalDist()
    scores = np.column_stack(
        [
            [normal.inv_cdf(u) for u in (complete[f].rank(method="average").to_numpy() - 0.5) / len(complete)]
            for f in features
        ]
    )
    genres = songs["genre"].fillna("").astype(str)
    shares = genres[genres != ""].value_counts(normalize=True)
    return CatalogueProfile(
        features=features,
        sorted_values={f: np.sort(complete[f].to_numpy(dtype=float)) for f in features},
        correlation=np.corrcoef(scores, rowvar=False),
        genres=tuple(shares.index) or ("pop",),
        genre_shares=shares.to_numpy() if len(shares) else np.ones(1),
    )


def bundled_profile() -> CatalogueProfile:
    """The profile of the bundled top-50 catalogue."""
    return fit_profile(load_catalogue(BUNDLED_CATALOGUE).songs)


def synthetic_songs(count: int, seed: int = 0, profile: CatalogueProfile | None = None) -> pd.DataFrame:
    """``count`` songs in the Spotify export's columns (0-1 features, ms durations, ``YYYY-MM-DD`` dates)."""
    profile = profile or bundled_profile()
    rng = np.random.default_rng(seed)
    normals = rng.multivariate_normal(np.zeros(len(profile.features)), profile.correlation, size=count)
    values: dict[str, np.ndarray] = {}
    for column, feature in enumerate(profile.features):
        ranks = normals[:, column].argsort().argsort()
        source = profile.sorted_values[feature]
        positions = (ranks + rng.random(count)) / count * (len(source) - 1)  # jitter inside each rank slot
        values[feature] = np.interp(positions, np.arange(len(source)), source)
    instrumental = np.where(rng.random(count) < 0.8, rng.random(count) * 0.01, rng.beta(0.5, 1.5, count))
    years = np.clip(2024 - np.floor(rng.exponential(11.0, count)), 1960, 2024).astype(int)
    return pd.DataFrame(
        {
            "track_id": [f"syn{i:07d}" for i in range(count)],
            "track_name": _titles(count, rng),
            "track_artist": _artists(count, rng),
            "track_popularity": np.round(values.get("popularity", np.full(count, 50.0))).astype(int),
            "track_album_release_date": [
                f"{y}-{m:02d}-{d:02d}"
                for y, m, d in zip(years, rng.integers(1, 13, count), rng.integers(1, 29, count), strict=True)
            ],
            "playlist_genre": rng.choice(np.array(profile.genres, dtype=object), size=count, p=profile.genre_shares),
            "danceability": _unit(values, "danceability", count),
            "energy": _unit(values, "energy", count),
            "loudness": np.round(values.get("loudness", np.full(count, -6.0)), 3),
            "speechiness": _unit(values, "speechiness", count),
            "acousticness": _unit(values, "acousticness", count),
            "instrumentalness": np.round(instrumental, 5),
            "liveness": _unit(values, "liveness", count),
            "valence": _unit(values, "valence", count),
            "tempo": np.round(values.get("tempo", np.full(count, 120.0)), 3),
            "duration_ms": np.round(values.get("duration_s", np.full(count, 210.0)) * 1000).astype(int),
        },
        columns=HEADER,
    )


def write_synthetic_catalogue(path: Path, count: int, seed: int = 0, profile: CatalogueProfile | None = None) -> Path:
    """Write ``synthetic_songs(count, seed)`` as a CSV that ``load_catalogue`` reads as a Spotify export."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    synthetic_songs(count, seed, profile).to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)
    return path


def _unit(values: dict[str, np.ndarray], feature: str, count: int) -> np.ndarray:
    return np.round(np.clip(values.get(feature, np.full(count, 0.5)), 0.0, 1.0), 4)


def _titles(count: int, rng: np.random.Generator) -> list[str]:
    """Distinct titles: every (form, adjective, noun, second noun) combination, shuffled; numbered past that."""
    combos = [
        form.format(a=a, n=n, n2=n2)
        for form, a, n, n2 in itertools.product(_FORMS, _ADJECTIVES, _NOUNS, _NOUNS[:3])
        if n != n2
    ]
    distinct = list(dict.fromkeys(combos))
    order = rng.permutation(len(distinct))
    titles = [distinct[i] for i in order[:count]]
    titles += [f"{distinct[i % len(distinct)]} No. {i // len(distinct) + 2}" for i in range(len(titles), count)]
    return titles


def _artists(count: int, rng: np.random.Generator) -> list[str]:
    """Artist names with a long tail: a few artists with many songs (about 1% each), most with one or two."""
    people = [f"{first} {last}" for first, last in itertools.product(_FIRST, _LAST)]
    names = list(_BANDS) + people + [f"{p} {suffix}" for p in people for suffix in ("Band", "Trio", "Collective")]
    names += [f"{name} & {other}" for name, other in zip(people, people[7:], strict=False)]
    pool = max(1, min(len(names), count // 4))
    weights = 1.0 / np.arange(1, pool + 1) ** 0.5
    picks = rng.choice(pool, size=count, p=weights / weights.sum())
    order = rng.permutation(len(names))[:pool]
    return [names[order[p]] for p in picks]
