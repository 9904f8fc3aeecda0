"""The catalogue as arrays for discovery: standardized audio features, song embeddings, and song look-up by title."""

from __future__ import annotations

import difflib
import re
import unicodedata
import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd

from assistant.engine import SearchEngine
from assistant.results import SearchResult
from index_builder.errors import QueryError
from index_builder.schema import AUDIO_FEATURES, NUMERIC_FEATURES

AUTO_MATCH_RATIO = 0.88
"""A title this close (difflib ratio on normalized text) to exactly one best song is taken as meant."""
SUGGEST_RATIO = 0.55
"""Titles at least this close are offered as "did you mean" when no title is close enough to take."""
MAX_SUGGESTIONS = 3


class SongNotFound(QueryError):
    """A title that matches no song closely enough; ``suggestions`` are the nearest titles ("did you mean")."""

    def __init__(self, message: str, suggestions: list[str]) -> None:
        super().__init__(message)
        self.suggestions = suggestions


@dataclass(frozen=True)
class SongMatch:
    """A song found by title; ``note`` says when a near miss was read as this song."""

    row: int
    note: str | None = None


class SongSpace:
    """Read-only arrays over one engine's catalogue, built once per engine (see ``song_space``).

    ``audio`` holds the catalogue's audio features standardized to mean 0 and standard deviation 1, with a missing
    value imputed as the catalogue mean (0 after standardizing); features the catalogue lacks are left out.
    ``vectors`` are the songs' L2-normalized description embeddings, row i = song row i.
    """

    def __init__(self, engine: SearchEngine) -> None:
        songs = engine.songs
        self.engine = engine
        self.songs = songs
        self.audio_features = tuple(f for f in AUDIO_FEATURES if f in songs and songs[f].notna().any())
        self.numeric_features = tuple(f for f in NUMERIC_FEATURES if f in songs and songs[f].notna().any())
        raw = songs[list(self.numeric_features)].to_numpy(dtype=np.float64, na_value=np.nan)
        self.raw = pd.DataFrame(raw, columns=list(self.numeric_features))
        self.mean = self.raw.mean(skipna=True)
        std = self.raw.std(skipna=True, ddof=0)
        self.std = std.where(std > 0, 1.0).fillna(1.0)
        audio = self.raw[list(self.audio_features)]
        self.has_audio = audio.notna().any(axis=1).to_numpy()
        self.audio = ((audio - self.mean[audio.columns]) / self.std[audio.columns]).fillna(0.0).to_numpy()
        faiss_index = engine.index.faiss_index
        self.vectors = np.asarray(faiss_index.reconstruct_n(0, faiss_index.ntotal), dtype=np.float32)
        self.artists = songs["artist"].astype(str).to_numpy()
        self._titles = [_normalize(t) for t in songs["title"]]
        self._short_titles = [_normalize(_strip_brackets(t)) for t in songs["title"]]
        self._artists_key = [_normalize(a) for a in songs["artist"]]
        self._popularity = songs["popularity"].fillna(0).to_numpy(dtype=float)
        self._word_shares = {
            feature: pd.Series(words[pd.notna(words)]).value_counts(normalize=True).to_dict()
            for feature, words in engine.words.items()
        }

    def word_share(self, feature: str, word: str) -> float:
        """The share of the catalogue whose ``feature`` has ``word`` (how telling it is that two songs share it)."""
        return float(self._word_shares.get(feature, {}).get(word, 0.0))

    def count(self, k: int | None) -> int:
        """How many results to return: ``k``, else the settings' top_k, at most max_k."""
        settings = self.engine.settings
        if k is None:
            return settings.top_k
        if int(k) < 1:
            raise QueryError("Ask for at least one song.")
        return min(int(k), settings.max_k)

    def feature_label(self, feature: str) -> str:
        """The feature's name in words (``mood`` for valence), from the bucket scheme."""
        buckets = self.engine.index.scheme.features.get(feature)
        return buckets.label if buckets is not None else feature

    def audio_similarity(self, target: np.ndarray) -> np.ndarray:
        """Cosine between every song's standardized audio features and ``target``; 0 for songs without audio."""
        norms = np.linalg.norm(self.audio, axis=1) * max(float(np.linalg.norm(target)), 1e-12)
        similarity = (self.audio @ target) / np.maximum(norms, 1e-12)
        return np.where(self.has_audio, similarity, 0.0)

    def text_similarity(self, vector: np.ndarray) -> np.ndarray:
        """Cosine between every song's description embedding and ``vector`` (normalized here)."""
        vector = np.asarray(vector, dtype=np.float32)
        vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
        return (self.vectors @ vector).astype(np.float64)

    def hybrid_similarity(
        self, audio_target: np.ndarray | None, text_vector: np.ndarray, audio_weight: float
    ) -> np.ndarray:
        """``audio_weight`` x audio cosine + the rest x text cosine; text alone when there is no audio target."""
        text = self.text_similarity(text_vector)
        if audio_target is None:
            return text
        return audio_weight * self.audio_similarity(audio_target) + (1.0 - audio_weight) * text

    def find(self, title: str) -> SongMatch:
        """The song a person means by ``title`` ("Title", "Title - Artist" or "Title by Artist"), fuzzy matched.

        Exact titles win (the most popular one when several songs share a title and no artist is given); then a
        single near miss at least AUTO_MATCH_RATIO alike; otherwise SongNotFound with up to three suggestions.
        """
        text = str(title or "").strip()
        wanted = _normalize(text)
        if not wanted:
            raise SongNotFound("Name a song from the catalogue, for example 'Shape of You'.", [])
        for title_part, artist_part in _title_artist_splits(text):
            rows = [
                r
                for r, (t, s, a) in enumerate(zip(self._titles, self._short_titles, self._artists_key, strict=True))
                if title_part in (t, s) and (artist_part is None or f" {artist_part} " in f" {a} ")
            ]
            if rows:
                return SongMatch(max(rows, key=lambda r: self._popularity[r]))
        matcher = difflib.SequenceMatcher(autojunk=False)
        matcher.set_seq2(wanted)
        ratios = np.array(
            [
                max(_ratio(matcher, t), _ratio(matcher, s), _ratio(matcher, f"{t} {a}"))
                for t, s, a in zip(self._titles, self._short_titles, self._artists_key, strict=True)
            ]
        )
        order = np.lexsort((-self._popularity, -ratios))
        best = int(order[0])
        if ratios[best] >= AUTO_MATCH_RATIO:
            song = self.songs.iloc[best]
            return SongMatch(best, f"read '{text}' as '{song['title']}' by {song['artist']}")
        suggestions = [self.label(int(r)) for r in order[:MAX_SUGGESTIONS] if ratios[r] >= SUGGEST_RATIO]
        if suggestions:
            raise SongNotFound(f"No song called '{text}'. Did you mean: {'; '.join(suggestions)}?", suggestions)
        raise SongNotFound(f"No song called '{text}' in the catalogue, and no title close to it.", [])

    def label(self, row: int) -> str:
        """``Title - Artist``, the form ``find`` reads back exactly."""
        song = self.songs.iloc[row]
        return f"{song['title']} - {song['artist']}"

    def result(self, rank: int, row: int, score: float, explanation: str, matched: tuple[str, ...]) -> SearchResult:
        """A SearchResult for the song at ``row`` (the same fields as the engine's results)."""
        return SearchResult.from_song(rank, self.songs.iloc[row], score, explanation, matched)


_SPACES: weakref.WeakKeyDictionary[SearchEngine, SongSpace] = weakref.WeakKeyDictionary()


def song_space(engine: SearchEngine) -> SongSpace:
    """The SongSpace of ``engine``, built on first use and kept as long as the engine lives."""
    space = _SPACES.get(engine)
    if space is None:
        space = _SPACES[engine] = SongSpace(engine)
    return space


def _normalize(text: object) -> str:
    """Lower case, accents and punctuation removed, spaces collapsed: ``Señorita!`` -> ``senorita``."""
    decomposed = unicodedata.normalize("NFKD", str(text).casefold().replace("’", "'").replace("&", " and "))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("'", "")
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


def _strip_brackets(title: str) -> str:
    """``Lean On (feat. MØ & DJ Snake)`` -> ``Lean On``; ``Despacito - Remix`` -> ``Despacito``."""
    return re.split(r"\s[-–]\s", re.sub(r"[(\[][^)\]]*[)\]]", " ", str(title)))[0]


def _title_artist_splits(text: str) -> list[tuple[str, str | None]]:
    """The readings of ``text`` as a title with an optional artist, the whole text as a title first."""
    readings: list[tuple[str, str | None]] = [(_normalize(text), None)]
    for separator in (" - ", " – ", " by "):
        if separator in text:
            head, _, tail = text.rpartition(separator)
            if _normalize(head) and _normalize(tail):
                readings.append((_normalize(head), _normalize(tail)))
    return readings


def _ratio(matcher: difflib.SequenceMatcher, candidate: str) -> float:
    """difflib's ratio of ``candidate`` against the matcher's text; 0 when the cheap bounds rule out a suggestion."""
    matcher.set_seq1(candidate)
    if matcher.real_quick_ratio() < SUGGEST_RATIO or matcher.quick_ratio() < SUGGEST_RATIO:
        return 0.0
    return matcher.ratio()


def format_value(feature: str, value: float, unit: bool = True) -> str:
    """A feature value as people read it: ``128 BPM``, ``-7 dB``, ``3:45``, ``0.91``, ``76`` (popularity)."""
    value = float(value)
    if feature == "tempo":
        return f"{value:.0f}" + (" BPM" if unit else "")
    if feature == "loudness":
        return f"{value:.0f}" + (" dB" if unit else "")
    if feature == "duration_s":
        return f"{int(value) // 60}:{int(value) % 60:02d}"
    if feature == "popularity":
        return f"{value:.0f}"
    return f"{value:.2f}"
