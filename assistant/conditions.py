"""Conditions: what a request or a page's controls demand outright, as one boolean mask over the catalogue.

A request's words (years, genres, artists, feature words it insists on) become named ``Constraint``s, so an empty
answer can say which one emptied it; the page's and the API's hard ``Filters`` (exact genres, a year range) become
a mask that search takes as it is. Each constraint also carries the same condition as a filter a vector store can
push down (``where``), so that a Milvus search fetches only songs that pass it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from assistant.catalogue_view import CatalogueView
from assistant.titles import known_name
from assistant.understanding import QueryIntent, describe_range, describe_years
from index_builder.vector_store import Not, Where


@dataclass
class Constraint:
    """One filter from a request, named so that an empty answer can say which filter emptied it."""

    label: str
    mask: np.ndarray
    strict: bool = True
    """Stated outright (years, genres, artists, "no ...", "only ..."). A wish the request only implies is not:
    when too few songs pass it, the nearest fill the answer."""
    where: Where | None = None
    """The same condition as a filter a store can push down (None: the mask alone)."""


def request_constraints(
    intent: QueryIntent, view: CatalogueView, families: Mapping[str, Sequence[str]] | None = None
) -> list[Constraint]:
    """The request's hard conditions, in the order it states kinds of them (years, genres, artists, words).

    A genre takes in its ``families`` relatives ("rap" finds hip hop too) when it is asked for, not when excluded.
    """
    families = families or {}
    constraints = []
    if intent.year_min is not None or intent.year_max is not None:
        mask = view.year_mask(intent.year_min, intent.year_max)
        where = view.year_where(intent.year_min, intent.year_max)
        constraints.append(
            Constraint(f"the years {describe_years(intent.year_min, intent.year_max)}", mask, where=where)
        )
    if intent.genres:
        wanted = [g for genre in intent.genres for g in (genre, *families.get(genre, ()))]
        mask = view.genre_mask(wanted)
        constraints.append(Constraint("genre " + " or ".join(intent.genres), mask, where=view.genre_where(mask)))
    if intent.excluded_genres:
        excluded = view.genre_mask(intent.excluded_genres)
        where = Not(view.genre_where(excluded))
        constraints.append(Constraint("excluding genre " + ", ".join(intent.excluded_genres), ~excluded, where=where))
    if intent.artists:
        mask, where = view.credited_mask(intent.artists), view.credited_where(intent.artists)
        constraints.append(Constraint("by " + " or ".join(intent.artists), mask, where=where))
    if intent.excluded_artists:
        mask, where = ~view.credited_mask(intent.excluded_artists), Not(view.credited_where(intent.excluded_artists))
        constraints.append(Constraint("excluding " + ", ".join(intent.excluded_artists), mask, where=where))
    for feature, (low, high) in intent.ranges.items():
        if feature in view.raw:
            values = view.raw[feature].to_numpy()
            with np.errstate(invalid="ignore"):
                mask = (values >= (-np.inf if low is None else low)) & (values <= (np.inf if high is None else high))
            where = view.range_where(feature, low, high)
            constraints.append(Constraint(describe_range(feature, low, high), mask, where=where))
    insisted = {f for c in intent.concepts if c.constraint and c.name in intent.strict for f in c.wants}
    for feature, words in intent.required_words().items():
        if feature in view.words:
            mask, where = view.word_mask(feature, words), view.word_where(feature, words)
            constraints.append(Constraint(" or ".join(sorted(words)), mask, strict=feature in insisted, where=where))
    for feature, words in intent.excluded_words().items():
        if feature in view.words:
            mask, where = ~view.word_mask(feature, words), Not(view.word_where(feature, words))
            constraints.append(Constraint("not " + " or ".join(sorted(words)), mask, where=where))
    if intent.clean and view.clean is not None:
        constraints.append(Constraint(CLEAN_LABEL, view.clean.copy()))
    return constraints


CLEAN_LABEL = "clean (no explicit songs)"
"""The name of the clean condition, as "Looking for" and a relaxed answer say it."""


def unmet_condition_notes(intent: QueryIntent, view: CatalogueView) -> list[str]:
    """What a reply says about a condition this catalogue cannot check (it says so instead of ignoring it)."""
    notes = []
    if intent.clean and view.clean is None:
        notes.append("This catalogue does not mark explicit songs, so 'clean' could not be applied.")
    for name, how in intent.missing_artists.items():
        if how == "by":
            notes.append(f"This catalogue has no songs by {name}; these are the nearest to the rest of the request.")
        else:
            notes.append(f"{name} is not in this catalogue; these are the nearest to the rest of the request.")
    return notes


@dataclass(frozen=True)
class Filters:
    """Hard filters chosen from UI controls or API parameters: exact genre names and an inclusive year range."""

    genres: tuple[str, ...] = ()
    year_min: int | None = None
    year_max: int | None = None

    @classmethod
    def of(
        cls, genres: Iterable[str] | str | None = None, year_min: float | None = None, year_max: float | None = None
    ) -> Filters:
        """Filters from loose input: a genre name or list (blanks dropped), years as numbers or None."""
        if isinstance(genres, str):
            genres = [genres]
        names = tuple(dict.fromkeys(str(g).strip() for g in genres or () if str(g).strip()))
        low = None if year_min is None or pd.isna(year_min) else int(year_min)
        high = None if year_max is None or pd.isna(year_max) else int(year_max)
        if low is not None and high is not None and low > high:
            low, high = high, low
        return cls(names, low, high)

    @property
    def active(self) -> bool:
        """Whether anything is filtered."""
        return bool(self.genres) or self.year_min is not None or self.year_max is not None

    def mask(self, view: CatalogueView) -> np.ndarray:
        """Which rows pass; a song without a year fails any year filter. Unknown genres raise QueryError."""
        allowed = np.ones(view.count, dtype=bool)
        if self.genres:
            names = [known_name(g, view.genre_names, "genre") for g in self.genres]
            allowed &= view.genre_mask(names, exact=True)
        if self.year_min is not None or self.year_max is not None:
            allowed &= view.year_mask(self.year_min, self.year_max)
        return allowed

    def describe(self) -> str:
        """``genre dance pop or pop; 2015-2017``, or ``""`` when nothing is filtered."""
        parts = []
        if self.genres:
            parts.append("genre " + " or ".join(self.genres))
        years = describe_years(self.year_min, self.year_max)
        if years:
            parts.append(years)
        return "; ".join(parts)
