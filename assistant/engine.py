"""Search the index with a request: understand it, embed its semantic part, filter, re-rank and explain."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

import faiss
import numpy as np

from assistant.discovery.diversity import diverse_order
from assistant.explain import explain, nearest_song_words
from assistant.results import SearchResponse, SearchResult
from assistant.song_arrays import SongArrays
from assistant.understanding import QueryIntent, describe_years, understand
from assistant.vocabulary import Vocabulary, load_concepts
from index_builder.buckets import load_bucket_spec
from index_builder.build import open_index
from index_builder.embedding import Encoder
from index_builder.errors import IndexMismatch, QueryError
from index_builder.index_store import SongIndex
from index_builder.settings import Settings
from index_builder.vector_index import normalized, search_index, stored_vectors

MAX_QUERY_CHARS = 500
SOFT_MATCH_WEIGHT = 0.1
"""Added to the cosine score, scaled by the share of soft (mood) wishes a song meets."""
FEATURE_FIT_WEIGHT = 0.15
"""Added to the cosine score, scaled by how far a song leans the way the request asks ("high energy": the
song's energy percentile in the catalogue), so the most energetic of the high-energy songs rank first."""
RELAXED_ALL = "every condition"
"""``SearchResponse.relaxed`` when no single condition could be dropped, so every one was."""
EXACT_SEARCH_LIMIT = 50_000
"""Up to this many songs every request scores the whole catalogue, so filters never run out of candidates."""


@dataclass
class Constraint:
    """One filter from a request, named so that an empty answer can say which filter emptied it."""

    label: str
    mask: np.ndarray


class SearchEngine:
    """Answers requests over one loaded index with the encoder that built it."""

    def __init__(self, index: SongIndex, encoder: Encoder, settings: Settings) -> None:
        if not encoder.matches_manifest(index.manifest):
            raise IndexMismatch(
                f"The index was embedded by {index.manifest.get('model_name')}, not the loaded {encoder.model_name}; "
                "rebuild it."
            )
        self.index = index
        self.encoder = encoder
        self.settings = settings
        self.songs = index.songs
        self.arrays = SongArrays(self.songs, index.scheme)
        self.words: dict[str, np.ndarray] = self.arrays.words
        self.percentiles: dict[str, np.ndarray] = self.arrays.percentiles
        spec = load_bucket_spec(settings.feature_words_path)
        concepts = load_concepts(settings.prompts_dir / "query_concepts.toml", {k: v["words"] for k, v in spec.items()})
        self.vocabulary = Vocabulary.build(concepts, self.songs["genre"], self.songs["artist"])
        self._word_vectors: dict[str, np.ndarray] | None = None
        self._word_vectors_lock = threading.Lock()
        self._flat_vectors = stored_vectors(index.faiss_index)
        faiss.omp_set_num_threads(max(1, settings.faiss_threads))  # process-wide: requests search one at a time

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        encoder: Encoder | None = None,
        column_map: Mapping[str, str] | None = None,
        rebuild: bool = True,
        on_progress: Callable[[str], None] | None = None,
    ) -> SearchEngine:
        """Load the model (unless given) and the index for ``settings``, building the index if needed."""
        if encoder is None:
            encoder = Encoder.from_settings(settings)
        index = open_index(settings, encoder, column_map, rebuild=rebuild, on_progress=on_progress)
        return cls(index, encoder, settings)

    def understand(self, text: str) -> QueryIntent:
        """Parse a request against this catalogue's vocabulary."""
        return understand(text, self.vocabulary)

    def search(self, query: str, k: int | None = None) -> SearchResponse:
        """Answer one request with up to ``k`` explained results (the request's own count wins if it has one)."""
        text = validate_query(query)
        intent = self.understand(text)
        return self.search_intent(intent, k)

    def search_intent(
        self,
        intent: QueryIntent,
        k: int | None = None,
        exclude_ids: Collection[str] = (),
        like_ids: Collection[str] = (),
        diverse: bool = True,
    ) -> SearchResponse:
        """Rank the catalogue for an already parsed request; ``exclude_ids`` are never returned.

        ``diverse`` (default on) re-ranks by MMR so that no artist fills more than two places while others can.
        """
        count = self._count(intent.count if intent.count is not None else k)
        notes = list(intent.corrections)
        if intent.count is not None and count != intent.count:
            notes.append(f"showing {count}, the most one answer holds")
        query_vector = self._query_vector(intent, like_ids)
        ids, scores = self._candidates(query_vector)
        constraints = self._constraints(intent)
        allowed = np.ones(len(self.songs), dtype=bool)
        if exclude_ids:
            allowed[self.arrays.rows_of(exclude_ids)] = False
        relaxed = None
        combined = allowed.copy()
        for constraint in constraints:
            combined &= constraint.mask
        if not combined[ids].any() and constraints:
            relaxed = self._relax(constraints, allowed, ids)
            if relaxed is not None:
                combined = allowed.copy()
                for constraint in constraints:
                    if constraint.label != relaxed:
                        combined &= constraint.mask
                notes.append(
                    f"Nothing matches '{relaxed}' together with the rest; here are the nearest songs without it."
                )
            else:
                notes.append("Nothing in the catalogue matches all of that; here are the nearest songs overall.")
                combined = allowed
                relaxed = RELAXED_ALL
        keep = combined[ids]
        ids, scores = ids[keep], scores[keep]
        scores = scores + SOFT_MATCH_WEIGHT * self._soft_match_share(intent, ids)
        scores = scores + FEATURE_FIT_WEIGHT * self._feature_fit(intent, ids)
        order = diverse_order(scores, self.arrays.artists[ids], count, diverse=diverse)
        results = [
            self._result(rank, int(ids[i]), float(scores[i]), intent, query_vector) for rank, i in enumerate(order, 1)
        ]
        return SearchResponse(
            query=intent.text, understood=intent.describe(), results=results, notes=notes, relaxed=relaxed
        )

    # ---- internals ------------------------------------------------------------------------------------

    def _count(self, k: int | None) -> int:
        if k is None:
            return self.settings.top_k
        if k < 1:
            raise QueryError("Ask for at least one song.")
        return min(int(k), self.settings.max_k)

    def _query_vector(self, intent: QueryIntent, like_ids: Collection[str]) -> np.ndarray:
        text = intent.semantic_text or intent.describe() or "songs"
        vector = self.encoder.encode_query(text)
        if like_ids:
            rows = self.arrays.rows_of(like_ids)
            if len(rows):
                song_vectors = np.stack([self.index.faiss_index.reconstruct(int(r)) for r in rows])
                vector = song_vectors.mean(axis=0) * 0.7 + vector * 0.3
                vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
        return vector.astype(np.float32)

    def _candidates(self, query_vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every song, for catalogues up to EXACT_SEARCH_LIMIT (unsorted from a flat index); else a deep over-fetch."""
        total = self.index.faiss_index.ntotal
        if total <= EXACT_SEARCH_LIMIT and self._flat_vectors is not None:
            # One matrix-vector product: FAISS would also heap-sort all of them (30,000 songs: 7 ms against 12+).
            return np.arange(total), self._flat_vectors @ normalized(query_vector)[0]
        fetch = total if total <= EXACT_SEARCH_LIMIT else max(2000, total // 20)
        scores, ids = search_index(self.index.faiss_index, query_vector[None, :], fetch)
        valid = ids[0] >= 0
        return ids[0][valid], scores[0][valid]

    def _constraints(self, intent: QueryIntent) -> list[Constraint]:
        constraints = []
        arrays = self.arrays
        if intent.year_min is not None or intent.year_max is not None:
            low = intent.year_min if intent.year_min is not None else -10_000
            high = intent.year_max if intent.year_max is not None else 10_000
            mask = arrays.year_mask(low, high)
            constraints.append(Constraint(f"the years {describe_years(intent.year_min, intent.year_max)}", mask))
        if intent.genres:
            constraints.append(Constraint("genre " + " or ".join(intent.genres), arrays.genre_mask(intent.genres)))
        if intent.excluded_genres:
            mask = ~arrays.genre_mask(intent.excluded_genres)
            constraints.append(Constraint("excluding genre " + ", ".join(intent.excluded_genres), mask))
        if intent.artists:
            constraints.append(Constraint("by " + " or ".join(intent.artists), arrays.credited_mask(intent.artists)))
        if intent.excluded_artists:
            mask = ~arrays.credited_mask(intent.excluded_artists)
            constraints.append(Constraint("excluding " + ", ".join(intent.excluded_artists), mask))
        for feature, words in intent.required_words().items():
            if feature in self.words:
                constraints.append(Constraint(" or ".join(sorted(words)), arrays.word_mask(feature, words)))
        for feature, words in intent.excluded_words().items():
            if feature in self.words:
                mask = ~arrays.word_mask(feature, words)
                constraints.append(Constraint("not " + " or ".join(sorted(words)), mask))
        return constraints

    def _relax(self, constraints: list[Constraint], allowed: np.ndarray, ids: np.ndarray) -> str | None:
        """The label of the single constraint whose removal brings results back (latest-stated first)."""
        for dropped in reversed(constraints):
            mask = allowed.copy()
            for constraint in constraints:
                if constraint is not dropped:
                    mask &= constraint.mask
            if mask[ids].any():
                return dropped.label
        return None

    def _feature_fit(self, intent: QueryIntent, ids: np.ndarray) -> np.ndarray:
        """Mean over the features the request leans on of the song's percentile in the wanted direction."""
        leanings = []
        for feature, words in intent.wanted_words().items():
            direction = self._direction(feature, words)
            if direction:
                percentile = self.percentiles[feature][ids]
                leanings.append(percentile if direction > 0 else 1.0 - percentile)
        if not leanings or len(ids) == 0:
            return np.zeros(len(ids), dtype=np.float32)
        return np.nan_to_num(np.mean(leanings, axis=0), nan=0.0).astype(np.float32)

    def _direction(self, feature: str, words: set[str]) -> int:
        """+1 when ``words`` are the feature's upper buckets, -1 for the lower ones, 0 for the middle."""
        buckets = self.index.scheme.features.get(feature)
        if buckets is None:
            return 0
        positions = [buckets.words.index(word) for word in words if word in buckets.words]
        if not positions:
            return 0
        lean = float(np.mean(positions)) - (len(buckets.words) - 1) / 2
        return 0 if abs(lean) < 0.5 else int(np.sign(lean))

    def _soft_match_share(self, intent: QueryIntent, ids: np.ndarray) -> np.ndarray:
        soft = {f: w for c in intent.concepts if not c.constraint for f, w in c.wants.items() if f in self.words}
        if not soft or len(ids) == 0:
            return np.zeros(len(ids), dtype=np.float32)
        hits = sum(self.arrays.word_mask(f, w, ids).astype(np.float32) for f, w in soft.items())
        return hits / len(soft)

    def song_words(self, row: int) -> dict[str, str]:
        """The bucket words of the song at ``row``."""
        return self.arrays.song_words(row)

    def row_of(self, song_id: str) -> int | None:
        """The row of ``song_id`` in the songs table, or None when there is no such song."""
        return self.arrays.row_of(song_id)

    def _result(self, rank: int, row: int, score: float, intent: QueryIntent, query_vector: np.ndarray) -> SearchResult:
        song = self.arrays.record(row)
        words = self.song_words(row)
        nearest = nearest_song_words(query_vector, words, self.word_vectors())
        explanation, matched = explain(song, words, intent, nearest)
        return SearchResult.from_song(rank, song, score, explanation, matched)

    def word_vectors(self) -> dict[str, np.ndarray]:
        """Embeddings of every bucket word (about fifty), computed once on first use."""
        with self._word_vectors_lock:  # a request arriving during warm_up waits for it instead of repeating it
            if self._word_vectors is None:
                words = sorted({w for buckets in self.index.scheme.features.values() for w in buckets.words})
                vectors = self.encoder.encode_phrases(words)
                self._word_vectors = dict(zip(words, vectors, strict=True))
            return self._word_vectors

    def warm_up(self) -> None:
        """Load the query model and embed the bucket words now, so that the first request does not wait for them."""
        self.word_vectors()


def validate_query(query: object) -> str:
    """The cleaned request text, or a QueryError that tells the person what to type instead."""
    if not isinstance(query, str):
        raise QueryError("A request must be text, like 'upbeat songs for a run'.")
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in query).strip()
    if not text:
        raise QueryError("Tell me a mood, an activity or a few songs you like, for example 'calm songs for studying'.")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"That request is {len(text)} characters long; please keep it under {MAX_QUERY_CHARS}.")
    if not any(ch.isalnum() for ch in text):
        raise QueryError("I could not find any words in that. Try a mood or an activity, like 'happy summer songs'.")
    return text
