"""Taste profile: what a list of liked songs has in common, in bucket words, with a radar chart and recommendations."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from assistant.catalogue_view import CatalogueView
from assistant.conditions import Filters
from assistant.discovery.browse import era_of
from assistant.engine import SearchEngine
from assistant.formatting import format_value
from assistant.results import SearchResponse
from assistant.titles import SongNotFound
from index_builder.errors import QueryError

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class FeatureStat:
    """One feature of a taste: the liked songs' average and spread against the catalogue's."""

    feature: str
    label: str
    mean: float
    std: float
    count: int
    word: str | None
    catalogue_mean: float
    catalogue_std: float
    spread: str
    """``consistent``, ``moderately varied`` or ``varied`` next to the catalogue (``one song`` if just one)."""

    @property
    def z(self) -> float:
        """How far the average sits from the catalogue's, in catalogue standard deviations."""
        return (self.mean - self.catalogue_mean) / self.catalogue_std

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready view."""
        return {
            "feature": self.feature,
            "label": self.label,
            "mean": round(self.mean, 4),
            "std": round(self.std, 4),
            "word": self.word,
            "spread": self.spread,
            "catalogue_mean": round(self.catalogue_mean, 4),
            "catalogue_std": round(self.catalogue_std, 4),
            "z": round(self.z, 3),
        }


@dataclass
class TasteProfile:
    """What a set of liked songs has in common."""

    rows: list[int]
    liked: list[dict[str, object]]
    features: list[FeatureStat]
    distinctive: list[str]
    top_genres: list[dict[str, object]]
    eras: list[dict[str, object]]
    summary: str
    notes: list[str] = field(default_factory=list)
    distinct_z: float = 0.75
    """A feature whose average is this many catalogue standard deviations off stands out (``taste_distinct_z``)."""

    def words(self) -> dict[str, str]:
        """Feature -> the bucket word of the liked songs' average, for the features that stand out (else all),
        the most distinctive first."""
        worded = sorted((s for s in self.features if s.word), key=lambda s: -abs(s.z))
        standing = [s for s in worded if abs(s.z) >= self.distinct_z]
        return {s.feature: str(s.word) for s in standing or worded}

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready view (the profile part of the /taste_profile endpoint)."""
        return {
            "summary": self.summary,
            "liked": self.liked,
            "distinctive": self.distinctive,
            "features": [s.to_dict() for s in self.features],
            "top_genres": self.top_genres,
            "eras": self.eras,
            "notes": self.notes,
        }


def taste_profile(engine: SearchEngine, titles: Iterable[str]) -> TasteProfile:
    """Describe the taste behind ``titles`` (each fuzzy matched like more-like-this; misses become notes)."""
    space = engine.catalogue
    most = engine.settings.taste_max_liked
    wanted = [str(t) for t in ([titles] if isinstance(titles, str) else titles) if str(t or "").strip()]
    if len(wanted) > most:
        raise QueryError(f"A taste profile takes up to {most} songs; {len(wanted)} were given.")
    rows: list[int] = []
    notes: list[str] = []
    for title in wanted:
        try:
            match = space.title_index.find(str(title))
        except SongNotFound as missing:
            notes.append(str(missing))
            continue
        if match.note:
            notes.append(match.note)
        if match.row not in rows:
            rows.append(match.row)
    if not rows:
        raise QueryError(" ".join(notes) or "Pick at least one song you like.")
    return profile_of_rows(space, rows, notes)


def profile_of_rows(space: CatalogueView, rows: list[int], notes: list[str] | None = None) -> TasteProfile:
    """The TasteProfile of the songs at ``rows``."""
    settings = space.settings
    songs = space.songs.iloc[rows]
    stats = []
    for feature in space.numeric_features:
        values = space.raw[feature].to_numpy()[rows]
        values = values[~np.isnan(values)]
        if len(values) == 0:
            continue
        buckets = space.scheme.features.get(feature)
        mean = float(values.mean())
        std = float(values.std())
        catalogue_std = float(space.std[feature])
        stats.append(
            FeatureStat(
                feature=feature,
                label=space.feature_label(feature),
                mean=mean,
                std=std,
                count=len(values),
                word=buckets.word_for(mean) if buckets is not None else None,
                catalogue_mean=float(space.mean[feature]),
                catalogue_std=catalogue_std,
                spread=_spread(
                    std / catalogue_std, len(values), settings.taste_consistent_ratio, settings.taste_varied_ratio
                ),
            )
        )
    distinct_z = settings.taste_distinct_z
    standing = sorted((s for s in stats if s.word and abs(s.z) >= distinct_z), key=lambda s: -abs(s.z))
    genres = Counter(str(g) for g in songs["genre"] if str(g).strip())
    top_genres = [{"genre": g, "count": n} for g, n in sorted(genres.items(), key=lambda item: (-item[1], item[0]))]
    years = [int(y) for y in songs["year"] if not pd.isna(y)]
    eras = Counter(era_of(y) for y in years)
    era_list = [{"era": e, "count": n} for e, n in sorted(eras.items(), key=lambda item: (-item[1], item[0]))]
    liked = [
        {
            "song_id": str(song["song_id"]),
            "title": str(song["title"]),
            "artist": str(song["artist"]),
            "genre": str(song["genre"]),
            "year": None if pd.isna(song["year"]) else int(song["year"]),
        }
        for _, song in songs.iterrows()
    ]
    distinctive = [str(s.word) for s in standing]
    summary = _summary(len(rows), stats, standing, top_genres, years, era_list)
    return TasteProfile(
        rows, liked, stats, distinctive, top_genres[:5], era_list, summary, list(notes or []), distinct_z
    )


def _spread(ratio: float, count: int, consistent_below: float, varied_above: float) -> str:
    """How the liked songs spread on a feature next to the catalogue (``ratio``: their std over its std)."""
    if count < 2:
        return "one song"
    return "consistent" if ratio < consistent_below else "varied" if ratio > varied_above else "moderately varied"


def recommend_for_taste(
    engine: SearchEngine,
    profile: TasteProfile,
    k: int | None = None,
    filters: Filters | None = None,
    diverse: bool = True,
) -> SearchResponse:
    """Songs nearest the profile that are not among the liked ones.

    The same hybrid score as more-like-this: ``settings.similar_audio_weight`` x cosine between a song's
    standardized audio features and the liked songs' average, plus the rest x cosine to their average embedding.
    """
    space = engine.catalogue
    with_audio = [r for r in profile.rows if space.has_audio[r]]
    audio_target = space.audio[with_audio].mean(axis=0) if with_audio else None
    text_target = space.song_vectors(profile.rows).mean(axis=0)
    scores = space.hybrid_similarity(audio_target, text_target, engine.settings.similar_audio_weight)
    filters = filters or Filters()
    allowed = filters.mask(space)
    allowed[profile.rows] = False
    rows = np.flatnonzero(allowed)
    if len(rows) == 0:
        raise QueryError(f"No song you have not liked yet is {filters.describe() or 'left in the catalogue'}.")
    order = engine.pick(scores[rows], rows, engine.result_count(k), diverse)
    wanted = profile.words()
    genre_counts = {str(g["genre"]): int(g["count"]) for g in profile.top_genres}  # type: ignore[call-overload]
    results = []
    for rank, position in enumerate(order, 1):
        row = int(rows[position])
        words = space.song_words(row)
        shared = [w for f, w in wanted.items() if words.get(f) == w]
        parts = ["shares your " + ", ".join(shared)] if shared else []
        genre = str(space.songs.iloc[row]["genre"])
        if genre in genre_counts:
            liked_count = genre_counts[genre]
            parts.append(
                f"{genre} like {liked_count} of your songs" if liked_count > 1 else f"{genre} like one of yours"
            )
        explanation = "; ".join(parts) or "closest to your songs' overall sound and descriptions"
        results.append(space.result(rank, row, scores[row], explanation, tuple(shared)))
    understood = "; ".join(p for p in (f"songs like your {len(profile.rows)}", filters.describe()) if p)
    return SearchResponse(
        query=", ".join(str(s["title"]) for s in profile.liked), understood=understood, results=results, notes=[]
    )


def radar_figure(space: CatalogueView, profile: TasteProfile, title: str | None = None) -> Figure:
    """A polar chart of the profile's average (with its spread) against the catalogue average, per audio feature.

    Each axis runs from the catalogue's 2nd to 98th percentile of that feature, so the catalogue average sits
    mid-way on most axes and a point near the rim means "higher than almost every song".
    """
    stats = [s for s in profile.features if s.feature in space.audio_features]
    if len(stats) < 3:
        raise QueryError("A radar chart needs at least three audio features with values.")
    radar_range = (space.settings.radar_low_percentile, space.settings.radar_high_percentile)
    low_high = {s.feature: np.nanpercentile(space.raw[s.feature].to_numpy(), radar_range).astype(float) for s in stats}

    def scaled(feature: str, value: float) -> float:
        low, high = low_high[feature]
        return float(np.clip((value - low) / (high - low), 0.0, 1.0)) if high > low else 0.5

    angles = np.linspace(0, 2 * np.pi, len(stats), endpoint=False)
    closed = np.append(angles, angles[0])
    mine = [scaled(s.feature, s.mean) for s in stats]
    band_low = [scaled(s.feature, s.mean - s.std) for s in stats]
    band_high = [scaled(s.feature, s.mean + s.std) for s in stats]
    average = [scaled(s.feature, s.catalogue_mean) for s in stats]

    from matplotlib.figure import Figure  # deferred: matplotlib adds half a second to every app start

    figure = Figure(figsize=(5.0, 5.0), dpi=120, layout="constrained")  # small, so its words stay large on a phone
    axes = figure.add_subplot(projection="polar")
    axes.set_theta_offset(np.pi / 2)
    axes.set_theta_direction(-1)
    band = {"color": "#d95f02", "alpha": 0.15, "label": "your spread (±1 std)"}
    axes.fill_between(closed, [*band_low, band_low[0]], [*band_high, band_high[0]], **band)
    axes.plot(closed, [*average, average[0]], color="#555555", linestyle="--", linewidth=1.5, label="catalogue average")
    axes.plot(closed, [*mine, mine[0]], color="#d95f02", linewidth=2.2, marker="o", label="your average")
    axes.fill(closed, [*mine, mine[0]], color="#d95f02", alpha=0.25)
    axes.set_xticks(angles)
    axes.set_xticklabels([f"{s.label}\n{format_value(s.feature, s.mean)}" for s in stats], fontsize=11)
    axes.set_ylim(0, 1)
    axes.set_yticks([0.25, 0.5, 0.75])
    axes.set_yticklabels(["low", "mid", "high"], fontsize=8, color="#595959")
    axes.tick_params(axis="x", pad=8)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=10, frameon=False)
    low_pct, high_pct = radar_range
    caption = f"Each axis runs from percentile {low_pct:g} to percentile {high_pct:g} of the catalogue."
    figure.supxlabel(caption, fontsize=9, color="#555555", wrap=True)
    axes.set_title(title or f"Taste profile of {len(profile.rows)} songs", pad=24, fontsize=13)
    return figure


def radar_description(space: CatalogueView, profile: TasteProfile) -> str:
    """What the radar chart shows, in words (its alt text): each audio feature's average for the liked songs next to
    the catalogue's."""
    stats = [s for s in profile.features if s.feature in space.audio_features]
    values = "; ".join(
        f"{s.label} {format_value(s.feature, s.mean)} (catalogue {format_value(s.feature, s.catalogue_mean)})"
        for s in stats
    )
    return f"Taste profile of {len(profile.rows)} songs against the catalogue average: {values}"


def _summary(
    count: int,
    stats: list[FeatureStat],
    standing: list[FeatureStat],
    top_genres: list[dict[str, object]],
    years: list[int],
    eras: list[dict[str, object]],
) -> str:
    """``Your 3 songs lean very slow tempo, acoustic and low energy; ...`` in bucket words."""
    songs = "song" if count == 1 else f"{count} songs"
    if standing:
        words = [str(s.word) for s in standing[:5]]
        lean = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
        sentences = [f"Your {songs} lean {lean}, next to the catalogue average."]
    else:
        sentences = [f"Your {songs} sit close to the catalogue average on every feature."]
    if top_genres:
        genres = ", ".join(f"{g['genre']} ({g['count']})" for g in top_genres[:3])
        sentences.append(f"Top genres: {genres}.")
    if years:
        span = str(min(years)) if min(years) == max(years) else f"{min(years)}-{max(years)}"
        sentences.append(f"Released {span}, mostly {eras[0]['era']}.")
    spread = [s for s in stats if s.count >= 2 and s.word]
    if spread:
        consistent = [s.label for s in spread if s.spread == "consistent"]
        varied = [s.label for s in spread if s.spread == "varied"]
        if consistent:
            sentences.append(f"Consistent in {', '.join(consistent)}.")
        if varied:
            sentences.append(f"Varied in {', '.join(varied)}.")
    return " ".join(sentences)
