"""Per-song arrays built once per loaded index, so a request filters and ranks with numpy, not pandas rows."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

import numpy as np
import pandas as pd

from assistant.vocabulary import tokens
from index_builder.buckets import BucketScheme

RESULT_COLUMNS = ("song_id", "title", "artist", "genre", "year", "description")
"""The columns a shown result reads (``SearchResult.from_song`` and ``explain``)."""


class SongArrays:
    """Read-only look-ups over one songs table: bucket words and their codes, percentiles, years, genres, credits.

    Everything here is computed at load time; a request only indexes arrays (30,000 songs: microseconds per mask).
    """

    def __init__(self, songs: pd.DataFrame, scheme: BucketScheme) -> None:
        self.count = len(songs)
        self.bucket_words: dict[str, tuple[str, ...]] = {name: b.words for name, b in scheme.features.items()}
        self.codes: dict[str, np.ndarray] = {}
        """Per feature, each song's bucket position (-1 where the value is missing)."""
        self.words: dict[str, np.ndarray] = {}
        """Per feature, each song's bucket word (None where the value is missing)."""
        for name, buckets in scheme.features.items():
            values = songs[name].to_numpy(dtype=float, na_value=np.nan)
            codes = np.searchsorted(np.asarray(buckets.edges, dtype=float), values, side="right")
            codes = np.where(np.isfinite(values), codes, -1).astype(np.int16)
            self.codes[name] = codes
            self.words[name] = np.array([*buckets.words, None], dtype=object)[codes]
        self.percentiles: dict[str, np.ndarray] = {
            name: songs[name].rank(pct=True).to_numpy(dtype=float) for name in scheme.features
        }
        """Per feature, each song's percentile within the catalogue (NaN where the value is missing)."""
        self.years = songs["year"].to_numpy(dtype=float, na_value=np.nan)
        self.artists = songs["artist"].to_numpy(dtype=object)
        self.titles = songs["title"].astype(str).to_numpy(dtype=object)
        self.song_ids = songs["song_id"].astype(str).to_numpy(dtype=object)
        genre_texts = np.array([f" {' '.join(tokens(g))} " for g in songs["genre"]], dtype=object)
        self._genre_texts, self._genre_codes = np.unique(genre_texts, return_inverse=True)
        credited: dict[str, list[int]] = {}
        for row, (artist, title) in enumerate(zip(songs["artist"], songs["title"], strict=True)):
            for name in credited_artists(artist, title):
                credited.setdefault(name, []).append(row)
        self._credited = {name: np.asarray(rows, dtype=np.int64) for name, rows in credited.items()}
        self._rows = {str(song_id): row for row, song_id in enumerate(songs["song_id"])}
        self._columns = {name: songs[name].to_numpy(dtype=object) for name in RESULT_COLUMNS}

    def word_mask(self, feature: str, words: Collection[str], rows: np.ndarray | None = None) -> np.ndarray:
        """Whether each song's ``feature`` word is one of ``words`` (only ``rows`` when given; missing: False)."""
        table = np.array([*(w in words for w in self.bucket_words[feature]), False])
        codes = self.codes[feature] if rows is None else self.codes[feature][rows]
        return table[codes]

    def year_mask(self, low: float, high: float) -> np.ndarray:
        """Whether each song was released in ``low``-``high`` (inclusive; an unknown year: False)."""
        with np.errstate(invalid="ignore"):
            return (self.years >= low) & (self.years <= high)

    def genre_mask(self, genres: Iterable[str]) -> np.ndarray:
        """Whether each song's genre contains any of ``genres`` as whole words (``pop`` in ``dance pop``)."""
        padded = [f" {g} " for g in genres]
        table = np.array([any(g in text for g in padded) for text in self._genre_texts], dtype=bool)
        return table[self._genre_codes]

    def credited_mask(self, names: Iterable[str]) -> np.ndarray:
        """Whether any of ``names`` is credited on each song (its artist field or a ``feat.`` in its title)."""
        mask = np.zeros(self.count, dtype=bool)
        for name in {n.casefold() for n in names}:
            rows = self._credited.get(name)
            if rows is not None:
                mask[rows] = True
        return mask

    def rows_of(self, song_ids: Iterable[str]) -> np.ndarray:
        """The rows of the known ids among ``song_ids``, ascending."""
        rows = {self._rows[i] for i in map(str, song_ids) if i in self._rows}
        return np.array(sorted(rows), dtype=np.int64)

    def row_of(self, song_id: str) -> int | None:
        """The row of ``song_id``, or None when the catalogue has no such song."""
        return self._rows.get(str(song_id))

    def record(self, row: int) -> dict[str, object]:
        """The result columns of the song at ``row``."""
        return {name: values[row] for name, values in self._columns.items()}

    def song_words(self, row: int) -> dict[str, str]:
        """The bucket words of the song at ``row``."""
        return {f: words[row] for f, words in self.words.items() if words[row] is not None}


def credited_artists(artist: str, title: str) -> frozenset[str]:
    """Lower-cased artist names credited on a song: the artist field plus ``feat.``/``with`` guests in the title."""
    names = {a.strip().casefold() for a in re.split(r",|&| x | and ", artist) if a.strip()}
    names.add(artist.strip().casefold())
    for guests in re.findall(r"[(\[](?:feat\.?|ft\.?|featuring|with)\s+([^)\]]+)", title, flags=re.IGNORECASE):
        names.update(g.strip().casefold() for g in re.split(r",|&| and ", guests) if g.strip())
    return frozenset(names)
