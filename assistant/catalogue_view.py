"""The engine's one read-only view of its catalogue: masks, look-ups, vectors, audio features, titles, counts.

Search, the dialogue and every discovery feature read the catalogue through this view, so each look-up has one
home. The request path's arrays (bucket codes, percentiles, years, genres, credits) are built at load; what only
discovery needs (standardized audio features, title index, word shares) is built on first use.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from functools import cached_property

import numpy as np
import pandas as pd

from assistant.discovery.membership import Membership
from assistant.playlist_words import PLAYLIST_WORDS_FILE, load_playlist_words
from assistant.results import SearchResult
from assistant.titles import TitleIndex, version_key
from assistant.vocabulary import tokens
from index_builder.buckets import BucketScheme, load_bucket_spec
from index_builder.schema import AUDIO_FEATURES, NUMERIC_FEATURES
from index_builder.settings import Settings
from index_builder.song_fields import credit_name, credited_artists
from index_builder.vector_store import (
    CreditsAny,
    FeatureBetween,
    FeatureIn,
    GenreIn,
    Not,
    RowsIn,
    VectorStore,
    Where,
    YearBetween,
)

__all__ = ["MAX_ROWS_IN_FILTER", "RESULT_COLUMNS", "CatalogueView", "credit_name", "credited_artists"]

RELATIVE_PHRASES = {
    "popularity": (
        "less popular than most in this catalogue",
        "of middling popularity in this catalogue",
        "more popular than most in this catalogue",
        "among the most popular in this catalogue",
    ),
}
"""How explanations word each bucket of a relative feature (bottom third, middle third, up to the top tenth, top
tenth of this catalogue's popularity, as ``prompts/feature_words.toml`` cuts it); a relative feature without a row
here shows its own word followed by "for this catalogue"."""

RESULT_COLUMNS = ("song_id", "title", "artist", "genre", "year", "description")
"""The columns a shown result reads (``SearchResult.from_song`` and ``explain``)."""
MAX_ROWS_IN_FILTER = 16_384
"""The most rows a pushed-down filter names (``rows_where``); a mask that needs more is applied after the search."""


class CatalogueView:
    """Read-only look-ups over one index's songs table and vectors (row i = song i = vector i).

    ``store`` holds the vectors (the FAISS folder or a Milvus collection); None for a view over songs alone.
    """

    def __init__(
        self, songs: pd.DataFrame, scheme: BucketScheme, store: VectorStore | None, settings: Settings
    ) -> None:
        self.songs = songs
        self.scheme = scheme
        self.settings = settings
        self.count = len(songs)
        self._store = store
        self.playlists: pd.DataFrame | None = None if store is None else getattr(store, "playlists", None)
        """Playlist membership (``schema.PLAYLIST_COLUMNS``) when the index keeps it; None otherwise."""
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
        self.artists = songs["artist"].astype(str).to_numpy(dtype=object)
        self.titles = songs["title"].astype(str).to_numpy(dtype=object)
        self.song_ids = songs["song_id"].astype(str).to_numpy(dtype=object)
        genre_texts = np.array([f" {' '.join(tokens(g))} " for g in songs["genre"]], dtype=object)
        self._genre_texts, self._genre_codes = np.unique(genre_texts, return_inverse=True)
        self._genre_names = songs["genre"].astype(str).str.casefold().to_numpy(dtype=object)
        self._genre_spellings = songs["genre"].astype(str).to_numpy(dtype=object)
        credited: dict[str, list[int]] = {}
        for row, (artist, title) in enumerate(zip(songs["artist"], songs["title"], strict=True)):
            for name in credited_artists(artist, title):
                credited.setdefault(name, []).append(row)
        self._credited = {name: np.asarray(rows, dtype=np.int64) for name, rows in credited.items()}
        self._rows = {str(song_id): row for row, song_id in enumerate(songs["song_id"])}
        self._columns = {name: songs[name].to_numpy(dtype=object) for name in RESULT_COLUMNS}

    # ---- masks: which songs pass a condition ---------------------------------------------------------------

    def word_mask(self, feature: str, words: Collection[str], rows: np.ndarray | None = None) -> np.ndarray:
        """Whether each song's ``feature`` word is one of ``words`` (only ``rows`` when given; missing: False)."""
        table = np.array([*(w in words for w in self.bucket_words[feature]), False])
        codes = self.codes[feature] if rows is None else self.codes[feature][rows]
        return table[codes]

    def year_mask(self, low: float | None, high: float | None) -> np.ndarray:
        """Whether each song was released in ``low``-``high`` (inclusive, None: open; an unknown year: False)."""
        low = -np.inf if low is None else low
        high = np.inf if high is None else high
        with np.errstate(invalid="ignore"):
            return (self.years >= low) & (self.years <= high)

    def genre_mask(self, genres: Iterable[str], exact: bool = False) -> np.ndarray:
        """Whether each song's genre contains any of ``genres`` as whole words (``pop`` in ``dance pop``), or,
        with ``exact``, is one of them (any case)."""
        if exact:
            return np.isin(self._genre_names, [str(g).casefold() for g in genres])
        padded = [f" {g} " for g in genres]
        table = np.array([any(g in text for g in padded) for text in self._genre_texts], dtype=bool)
        return table[self._genre_codes]

    def credited_mask(self, names: Iterable[str]) -> np.ndarray:
        """Whether any of ``names`` is credited on each song (its artist field or a ``feat.`` in its title)."""
        mask = np.zeros(self.count, dtype=bool)
        for name in {credit_name(n) for n in names}:
            rows = self._credited.get(name)
            if rows is not None:
                mask[rows] = True
        return mask

    @cached_property
    def membership(self) -> Membership | None:
        """Which songs share playlists (built on first use); None when the catalogue has no membership."""
        if self.playlists is None or self.playlists.empty:
            return None
        return Membership.from_pairs(self.playlists, self.song_ids)

    @cached_property
    def credit_names(self) -> tuple[str, ...]:
        """Every credited artist name (``credit_name`` form), sorted: what a typed artist is matched against."""
        return tuple(sorted(self._credited))

    # ---- the same conditions as filters a store can push down (index_builder/vector_store.py) --------------

    def year_where(self, low: float | None, high: float | None) -> YearBetween:
        """``year_mask(low, high)`` as a filter (whole years: a bound of 2015.5 keeps 2016 on, as the mask does)."""
        return YearBetween(None if low is None else int(np.ceil(low)), None if high is None else int(np.floor(high)))

    def genre_where(self, mask: np.ndarray) -> GenreIn:
        """A genre mask (``genre_mask``, which depends on the genre alone) as the genres it keeps, spelled as here."""
        return GenreIn(tuple(sorted(set(self._genre_spellings[mask]))))

    def credited_where(self, names: Iterable[str]) -> CreditsAny:
        """``credited_mask(names)`` as a filter."""
        return CreditsAny(tuple(sorted({credit_name(n) for n in names})))

    def word_where(self, feature: str, words: Collection[str]) -> FeatureIn:
        """``word_mask(feature, words)`` as ranges of the raw values: word i covers ``[edges[i-1], edges[i])``."""
        edges = self.scheme.features[feature].edges
        ranges: list[tuple[float | None, float | None]] = []
        for i, word in enumerate(self.bucket_words[feature]):
            if word not in words:
                continue
            low = float(edges[i - 1]) if i > 0 else None
            high = float(edges[i]) if i < len(edges) else None
            if ranges and ranges[-1][1] is not None and ranges[-1][1] == low:
                ranges[-1] = (ranges[-1][0], high)  # neighbouring words: one range
            else:
                ranges.append((low, high))
        return FeatureIn(feature, tuple(ranges))

    def range_where(self, feature: str, low: float | None, high: float | None) -> FeatureBetween:
        """A feature's raw value in ``low``-``high`` (inclusive, None: open) as a filter."""
        return FeatureBetween(feature, None if low is None else float(low), None if high is None else float(high))

    def rows_where(self, mask: np.ndarray) -> Where | None:
        """A mask as the rows it keeps, or those it drops (whichever is fewer); None when every song passes or
        either list would be longer than MAX_ROWS_IN_FILTER (then the mask is applied after the search)."""
        dropped = np.flatnonzero(~mask)
        if len(dropped) == 0:
            return None
        kept = np.flatnonzero(mask)
        if len(kept) <= len(dropped):
            return RowsIn(tuple(int(r) for r in kept)) if len(kept) <= MAX_ROWS_IN_FILTER else None
        return Not(RowsIn(tuple(int(r) for r in dropped))) if len(dropped) <= MAX_ROWS_IN_FILTER else None

    # ---- songs by id and row ------------------------------------------------------------------------------

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

    def result(self, rank: int, row: int, score: float, explanation: str, matched: tuple[str, ...]) -> SearchResult:
        """A SearchResult for the song at ``row``."""
        return SearchResult.from_song(rank, self.record(row), score, explanation, matched)

    def label(self, row: int) -> str:
        """``Title - Artist``, the form the title index reads back exactly."""
        return self.title_index.label(row)

    @cached_property
    def title_index(self) -> TitleIndex:
        """Songs by title as people type them (30,000 titles: about half a second, on first use)."""
        popularity = self.songs["popularity"].to_numpy(dtype=float, na_value=np.nan)
        return TitleIndex(
            self.titles,
            self.artists,
            popularity,
            match_ratio=self.settings.title_match_ratio,
            suggest_ratio=self.settings.title_suggest_ratio,
            max_suggestions=self.settings.title_suggestions,
        )

    # ---- versions, albums and explicit marks -------------------------------------------------------------

    def version_keys(self, rows: np.ndarray) -> np.ndarray:
        """The version group (``titles.version_key``) of the songs at ``rows``: a remix, a live or a feat. version
        of a song shares its key with the song. Worked out on first need per song and kept."""
        markers = load_playlist_words(self.settings.prompts_dir / PLAYLIST_WORDS_FILE).version_markers
        known = self._version_keys
        keys = []
        for row in np.asarray(rows, dtype=np.int64):
            key = known.get(int(row))
            if key is None:
                key = known[int(row)] = version_key(self.titles[row], self.artists[row], markers)
            keys.append(key)
        return np.array(keys, dtype=object)

    @cached_property
    def _version_keys(self) -> dict[int, str]:
        return {}

    @cached_property
    def album_codes(self) -> np.ndarray:
        """Each song's album as a code (-1 where the catalogue names none); names compared ignoring case."""
        if "album" not in self.songs:
            return np.full(self.count, -1, dtype=np.int64)
        names = self.songs["album"].fillna("").astype(str).str.strip().str.casefold()
        codes, _ = pd.factorize(names.where(names != "", None), use_na_sentinel=True)
        return codes.astype(np.int64)

    @cached_property
    def has_albums(self) -> bool:
        """Whether the catalogue names any song's album."""
        return bool((self.album_codes >= 0).any())

    @cached_property
    def clean(self) -> np.ndarray | None:
        """Whether each song is marked not explicit (an unmarked song is not known to be clean), or None when the
        catalogue marks none (it has no explicit column)."""
        if "explicit" not in self.songs:
            return None
        marks = self.songs["explicit"].astype("boolean")
        if marks.isna().all():
            return None
        return (marks == False).fillna(False).to_numpy(dtype=bool)  # noqa: E712  (NA-aware comparison)

    # ---- vectors and audio features ----------------------------------------------------------------------

    @cached_property
    def vectors(self) -> np.ndarray:
        """The songs' L2-normalized description embeddings: a no-copy view of an exact FAISS index, else a copy
        (from a Milvus collection: read once, on first use)."""
        if self._store is None:
            raise ValueError("This catalogue view has no vectors.")
        return self._store.all_vectors()

    @cached_property
    def numeric_features(self) -> tuple[str, ...]:
        """The numeric features this catalogue has values for."""
        return tuple(f for f in NUMERIC_FEATURES if f in self.songs and self.songs[f].notna().any())

    @cached_property
    def audio_features(self) -> tuple[str, ...]:
        """The audio features this catalogue has values for."""
        return tuple(f for f in AUDIO_FEATURES if f in self.songs and self.songs[f].notna().any())

    @cached_property
    def raw(self) -> pd.DataFrame:
        """The numeric features as floats (NaN where missing), row i = song i."""
        values = self.songs[list(self.numeric_features)].to_numpy(dtype=np.float64, na_value=np.nan)
        return pd.DataFrame(values, columns=list(self.numeric_features))

    @cached_property
    def mean(self) -> pd.Series:
        """Each numeric feature's catalogue mean."""
        return self.raw.mean(skipna=True)

    @cached_property
    def std(self) -> pd.Series:
        """Each numeric feature's catalogue standard deviation (1 where it is 0 or unknown)."""
        std = self.raw.std(skipna=True, ddof=0)
        return std.where(std > 0, 1.0).fillna(1.0)

    def feature_values(self, rows: Iterable[int]) -> dict[str, np.ndarray]:
        """Each numeric feature's values (NaN where missing) for the songs at ``rows``, in that order."""
        rows = np.fromiter(rows, dtype=np.int64)
        return {name: column[rows] for name, column in self._raw_columns.items()}

    @cached_property
    def _raw_columns(self) -> dict[str, np.ndarray]:
        """``raw``'s columns as arrays, taken once (a DataFrame column lookup costs more than the indexing)."""
        return {name: self.raw[name].to_numpy() for name in self.raw.columns}

    @cached_property
    def has_audio(self) -> np.ndarray:
        """Whether each song has any audio feature."""
        return self.raw[list(self.audio_features)].notna().any(axis=1).to_numpy()

    @cached_property
    def audio(self) -> np.ndarray:
        """Audio features standardized to mean 0 and std 1; a missing value is the catalogue mean (0)."""
        audio = self.raw[list(self.audio_features)]
        return ((audio - self.mean[audio.columns]) / self.std[audio.columns]).fillna(0.0).to_numpy()

    @cached_property
    def audio_covariance(self) -> np.ndarray:
        """The covariance of the standardized audio features over the songs that have any (identity when fewer than
        two songs do)."""
        audio = self.audio[self.has_audio]
        if len(audio) < 2:
            return np.eye(self.audio.shape[1])
        return np.atleast_2d(np.cov(audio, rowvar=False))

    def audio_similarity(self, target: np.ndarray) -> np.ndarray:
        """Cosine between every song's standardized audio features and ``target``; 0 for songs without audio."""
        norms = np.linalg.norm(self.audio, axis=1) * max(float(np.linalg.norm(target)), 1e-12)
        similarity = (self.audio @ target) / np.maximum(norms, 1e-12)
        return np.where(self.has_audio, similarity, 0.0)

    def song_vectors(self, rows: Iterable[int]) -> np.ndarray:
        """The description embeddings of the songs at ``rows``, in that order (read from the index, a few at a
        time: a million songs' vectors are never copied for them)."""
        if self._store is None:
            raise ValueError("This catalogue view has no vectors.")
        return self._store.vectors(np.fromiter(rows, dtype=np.int64))

    def text_similarity(self, vector: np.ndarray) -> np.ndarray:
        """Cosine between every song's description embedding and ``vector`` (normalized here), computed where the
        index stores the vectors (``VectorStore.similarities``)."""
        if self._store is None:
            raise ValueError("This catalogue view has no vectors.")
        return np.asarray(self._store.similarities(np.asarray(vector, dtype=np.float32)), dtype=np.float64)

    def hybrid_similarity(
        self, audio_target: np.ndarray | None, text_vector: np.ndarray, audio_weight: float
    ) -> np.ndarray:
        """``audio_weight`` x audio cosine + the rest x text cosine; text alone when there is no audio target."""
        text = self.text_similarity(text_vector)
        if audio_target is None:
            return text
        return audio_weight * self.audio_similarity(audio_target) + (1.0 - audio_weight) * text

    # ---- words and counts ---------------------------------------------------------------------------------

    def feature_label(self, feature: str) -> str:
        """The feature's name in words (``mood`` for valence), from the bucket scheme."""
        buckets = self.scheme.features.get(feature)
        return buckets.label if buckets is not None else feature

    @cached_property
    def relative_features(self) -> frozenset[str]:
        """Features whose words are cut at this catalogue's own quantiles (popularity): their words compare a song
        with this catalogue's songs, not with all music."""
        spec = load_bucket_spec(self.settings.feature_words_path)
        return frozenset(name for name, entry in spec.items() if entry.get("method") == "quantile")

    def shown_word(self, feature: str, word: str) -> str:
        """A bucket word as an explanation shows it: as is, except that a relative feature's word says it is
        relative (in a catalogue of hits the bottom third of popularity is "less popular than most in this
        catalogue", not "lesser-known")."""
        if feature not in self.relative_features or feature not in self.scheme.features:
            return word
        words = self.scheme.features[feature].words
        phrases = RELATIVE_PHRASES.get(feature)
        if phrases is not None and len(phrases) == len(words) and word in words:
            return phrases[words.index(word)]
        return f"{word} for this catalogue"

    @cached_property
    def _word_shares(self) -> dict[str, dict[str, float]]:
        return {
            feature: pd.Series(words[pd.notna(words)]).value_counts(normalize=True).to_dict()
            for feature, words in self.words.items()
        }

    def word_share(self, feature: str, word: str) -> float:
        """The share of the catalogue whose ``feature`` has ``word`` (how telling it is that two songs share it)."""
        return float(self._word_shares.get(feature, {}).get(word, 0.0))

    @cached_property
    def genre_names(self) -> tuple[str, ...]:
        """Every genre as the catalogue spells it, sorted."""
        return tuple(sorted(set(self.songs["genre"].dropna().astype(str))))

    def genre_counts(self) -> list[dict[str, object]]:
        """Every genre with its number of songs, most songs first (ties by name)."""
        counts = self.songs["genre"].dropna().astype(str).value_counts()
        rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return [{"genre": genre, "count": int(count)} for genre, count in rows]

    def year_counts(self) -> list[dict[str, object]]:
        """Every release year with its number of songs, oldest first."""
        counts = self.songs["year"].dropna().astype(int).value_counts().sort_index()
        return [{"year": int(year), "count": int(count)} for year, count in counts.items()]
