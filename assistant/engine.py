"""Search the index with a request: understand it, embed its semantic part, filter, re-rank and explain."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Collection, Mapping

import numpy as np

from assistant.catalogue_view import CatalogueView
from assistant.conditions import Constraint, request_constraints, unmet_condition_notes
from assistant.explain import explain, liked_reason, nearest_song_words, standouts
from assistant.feedback import Feedback, audio_target, preference, rocchio
from assistant.open_reading import ConceptReader, add_readings, prompt_concepts
from assistant.ordering import order_positions
from assistant.playlist_length import length_note, take_length
from assistant.playlist_words import PLAYLIST_WORDS_FILE, load_playlist_words
from assistant.ranking import best_of_each, diverse_order, fit_bonus, leading_order
from assistant.results import SearchResponse, SearchResult
from assistant.understanding import QueryIntent, describe_length, understand
from assistant.vocabulary import Vocabulary, load_known_words
from assistant.word_lists import WORDS_FILE, load_word_lists
from index_builder.build import open_index, searchable_by
from index_builder.embedding import Encoder
from index_builder.errors import IndexMismatch, QueryError
from index_builder.settings import Settings
from index_builder.vector_store import VectorStore, Where, all_of

MAX_QUERY_CHARS = 500
FILL_OFFSET = 10.0
"""Added to the scores of songs that meet every wish while ranking, so songs that only fill an answer come after."""
RELAXED_ALL = "every condition"
"""``SearchResponse.relaxed`` when no single condition could be dropped, so every one was."""


class SearchEngine:
    """Answers requests over one loaded index (the FAISS folder or a Milvus collection) with the encoder that built
    it."""

    def __init__(self, index: VectorStore, encoder: Encoder, settings: Settings) -> None:
        if not searchable_by(encoder, index.manifest):
            raise IndexMismatch(
                f"The index was embedded by {index.manifest.get('model_name')}, not the loaded {encoder.model_name}; "
                "rebuild it."
            )
        self.index = index
        self.encoder = encoder
        self.settings = settings
        self.songs = index.songs
        self.catalogue = CatalogueView(self.songs, index.scheme, index, settings)
        self.vocabulary = Vocabulary.build(
            prompt_concepts(settings),
            self.songs["genre"],
            self.songs["artist"],
            words=load_word_lists(settings.prompts_dir / WORDS_FILE),
            known_words=load_known_words(encoder.location.path),
            playlist=load_playlist_words(settings.prompts_dir / PLAYLIST_WORDS_FILE),
        )
        self._word_vectors: dict[str, np.ndarray] | None = None
        self._reader: ConceptReader | None = None
        self._word_vectors_lock = threading.Lock()

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
        """Parse a request against this catalogue's vocabulary, then read the words no phrase covers in the open
        vocabulary (embedded in one call with the request itself, which the search then finds in the cache)."""
        intent = understand(text, self.vocabulary)
        reader = self.concept_reader()
        phrases = reader.uncovered(intent, self.vocabulary)
        if phrases:
            vectors = self.encoder.encode_queries([intent.semantic_text, *phrases])
            readings = reader.read(phrases, vectors[1:], reader.negated(intent, self.vocabulary))
            add_readings(intent, readings, self.vocabulary.concepts, self.catalogue.bucket_words)
        return intent

    def concept_reader(self) -> ConceptReader:
        """The open-vocabulary reader, its concept examples embedded once (or read from the cache by the model)."""
        with self._word_vectors_lock:
            if self._reader is None:
                self._reader = ConceptReader.build(
                    self.vocabulary, self.encoder, self.settings.model_cache_dir, self.settings.concept_match_threshold
                )
            return self._reader

    def search(self, query: str, k: int | None = None, feedback: Feedback | None = None) -> SearchResponse:
        """Answer one request with up to ``k`` explained results (the request's own count wins if it has one),
        steered by a listener's ``feedback`` when given."""
        text = validate_query(query)
        intent = self.understand(text)
        return self.search_intent(intent, k, feedback=feedback)

    def search_intent(
        self,
        intent: QueryIntent,
        k: int | None = None,
        exclude_ids: Collection[str] = (),
        like_ids: Collection[str] = (),
        diverse: bool = True,
        allowed: np.ndarray | None = None,
        feedback: Feedback | None = None,
    ) -> SearchResponse:
        """Rank the catalogue for an already parsed request; ``exclude_ids`` are never returned.

        ``like_ids`` ("more like #2") replace most of the query embedding by the songs'; ``feedback`` (a listener's
        likes and dislikes) then moves it by Rocchio, adds the same blend in standardized audio features to every
        score, and keeps its disliked songs and blocked artists out.

        ``allowed`` (a mask over the catalogue, from the page's or the API's filters) is never relaxed, unlike the
        request's own conditions. ``diverse`` (default on) re-ranks by MMR so that no artist fills more than two
        places while others can.
        """
        notes = list(intent.corrections)
        length_s = self._length_target(intent, notes)
        count = self.result_count(intent.count if intent.count is not None else k)
        if intent.count is not None and count != intent.count and length_s is None:
            notes.append(f"showing {count}, the most one answer holds")
        wanted = count if length_s is None else self._songs_for(length_s)
        notes += unmet_condition_notes(intent, self.catalogue)
        feedback = feedback or Feedback()
        query_vector = self._query_vector(intent, like_ids, feedback)
        constraints = request_constraints(intent, self.catalogue, self.vocabulary.words.genre_families)
        allowed = np.ones(len(self.songs), dtype=bool) if allowed is None else allowed.copy()
        exclude_ids = {*exclude_ids, *feedback.dislikes}
        if exclude_ids:
            allowed[self.catalogue.rows_of(exclude_ids)] = False
        if feedback.blocked:
            allowed &= ~self.catalogue.credited_mask(feedback.blocked)
        strict = [c for c in constraints if c.strict]
        soft = [c for c in constraints if not c.strict]
        allowed_where = self.catalogue.rows_where(allowed) if self.index.pushes_down else None
        ids, scores = self._candidates(query_vector, all_of([allowed_where, *(c.where for c in strict)]))
        relaxed = None
        passing = _all_of(allowed, strict)
        if not passing[ids].any() and strict:
            if self.index.pushes_down:  # nothing passed the filter: fetch without the request's conditions to relax
                ids, scores = self._candidates(query_vector, allowed_where)
            relaxed = self._relax(strict, allowed, ids)
            if relaxed is not None:
                passing = _all_of(allowed, [c for c in strict if c.label != relaxed])
                notes.append(
                    f"Nothing matches '{relaxed}' together with the rest; here are the nearest songs without it."
                )
            else:
                notes.append("Nothing in the catalogue matches all of that; here are the nearest songs overall.")
                passing = allowed
                relaxed = RELAXED_ALL
        matching = _all_of(passing, soft)[ids]
        keep = matching.copy()
        if soft and int(matching.sum()) < wanted:
            keep = passing[ids]  # a wish the request only implies never empties an answer: the nearest fill it
            if keep.sum() > matching.sum():
                notes.append(_fill_note(int(matching.sum()), " and ".join(c.label for c in soft)))
        ids, scores, matching = ids[keep], scores[keep], matching[keep]
        settings = self.settings
        scores = scores + fit_bonus(
            intent, self.catalogue, ids, settings.soft_match_weight, settings.feature_fit_weight
        )
        scores = scores + self._feedback_bonus(feedback, ids)
        ranked = scores + FILL_OFFSET * matching
        one_version = not intent.all_versions
        total_s = None
        if length_s is None:
            order = self.pick(ranked, ids, count, diverse, one_version)
        else:
            order, total_s = self._fill_length(ranked, ids, length_s, wanted, diverse, one_version)
            notes.insert(0, length_note(total_s, len(order), length_s))
        order = order[self.playlist_order(intent.order, ids[order])]
        standing = standouts(self.catalogue.feature_values(ids[order]), self.catalogue.std)
        reasons = self._liked_reasons(feedback, ids[order])
        results = [
            self._result(rank, int(ids[i]), float(scores[i]), intent, query_vector, standout, reason)
            for rank, (i, standout, reason) in enumerate(zip(order, standing, reasons, strict=True), 1)
        ]
        return SearchResponse(
            query=intent.text,
            understood=intent.describe(),
            results=results,
            notes=notes,
            relaxed=relaxed,
            total_s=total_s,
        )

    def order_response(self, response: SearchResponse, order: str | None) -> SearchResponse:
        """``response`` with its songs laid out in ``order`` and ranked by place (None: as it is)."""
        if order is None or not response.results:
            return response
        rows = np.array([self.catalogue.row_of(r.song_id) for r in response.results], dtype=np.int64)
        placed = [response.results[int(i)] for i in self.playlist_order(order, rows)]
        results = [dataclasses.replace(result, rank=rank) for rank, result in enumerate(placed, 1)]
        return dataclasses.replace(response, results=results)

    def playlist_order(self, order: str | None, rows: np.ndarray) -> np.ndarray:
        """Positions into ``rows`` (songs in rank order) laid out in ``order`` (``assistant/ordering.py``)."""
        raw = self.catalogue.raw
        missing = np.full(len(rows), np.nan)
        energy = raw["energy"].to_numpy()[rows] if "energy" in raw else missing
        tempo = raw["tempo"].to_numpy()[rows] if "tempo" in raw else missing
        return order_positions(order, energy, tempo, self.settings.playlist_arc_peak)

    # ---- internals ------------------------------------------------------------------------------------

    def result_count(self, k: int | None) -> int:
        """How many results to return: ``k``, else the settings' top_k, at most max_k."""
        if k is None:
            return self.settings.top_k
        if int(k) < 1:
            raise QueryError("Ask for at least one song.")
        return min(int(k), self.settings.max_k)

    def pick(
        self, scores: np.ndarray, rows: np.ndarray, count: int, diverse: bool = True, one_version: bool = True
    ) -> np.ndarray:
        """Positions into ``scores`` (of the songs at ``rows``) of the ``count`` to show, best first (MMR when
        ``diverse``: no artist takes more than ``diversity_max_per_artist`` places, nor an album more than
        ``diversity_max_per_album``, while others can). With ``one_version`` a song's remixes, live and feat.
        versions count once: only the best of them is a candidate (among the leading candidates, where picks come
        from)."""
        settings = self.settings
        positions = np.arange(len(scores), dtype=np.int64)
        if one_version and len(scores):
            lead = max(count * settings.diversity_pool_factor * 4, 400)
            positions = np.sort(leading_order(scores, lead))
            keys = self.catalogue.version_keys(rows[positions])
            codes = np.unique(keys, return_inverse=True)[1]
            positions = positions[best_of_each(scores[positions], codes)]
        chosen_rows = rows[positions]
        albums = self.catalogue.album_codes[chosen_rows]
        order = diverse_order(
            scores[positions],
            self.catalogue.artists[chosen_rows],
            count,
            diverse=diverse,
            max_per_artist=settings.diversity_max_per_artist,
            relevance_weight=settings.diversity_relevance_weight,
            pool_factor=settings.diversity_pool_factor,
            albums=albums if (albums >= 0).any() else None,
            max_per_album=settings.diversity_max_per_album,
        )
        return positions[order]

    def _length_target(self, intent: QueryIntent, notes: list[str]) -> float | None:
        """The playlist length to fill, in seconds, at most ``playlist_max_minutes`` (with a note); None when the
        request states none, or the catalogue has no song lengths (with a note)."""
        if intent.length_s is None:
            return None
        if "duration_s" not in self.catalogue.raw:
            notes.append(
                f"This catalogue has no song lengths, so I cannot fill {describe_length(intent.length_s)}; "
                "here is a list by count instead."
            )
            return None
        most = self.settings.playlist_max_minutes * 60.0
        if intent.length_s > most:
            notes.append(f"A playlist holds at most {describe_length(most)}; here is one that long.")
            return most
        return float(intent.length_s)

    def _fill_length(
        self, scores: np.ndarray, rows: np.ndarray, length_s: float, wanted: int, diverse: bool, one_version: bool
    ) -> tuple[np.ndarray, float]:
        """Positions of the songs, best first, whose lengths add up to ``length_s`` (``playlist_length``) and their
        total: picked as an answer of twice the songs it should take, or of ``playlist_max_songs`` when those fall
        short."""
        lengths = self.catalogue.raw["duration_s"].to_numpy()
        most = self.settings.playlist_max_songs
        for count in dict.fromkeys((min(most, 2 * wanted + 5), most)):
            order = self.pick(scores, rows, count, diverse, one_version)
            durations = lengths[rows[order]]
            if np.nansum(durations) >= length_s or len(order) < count:
                break
        chosen = take_length(durations, length_s)
        return order[chosen], float(durations[chosen].sum())

    def _songs_for(self, length_s: float) -> int:
        """About how many songs of this catalogue's median length fill ``length_s`` (at most
        ``playlist_max_songs``)."""
        median = float(np.nanmedian(self.catalogue.raw["duration_s"].to_numpy()))
        return int(min(self.settings.playlist_max_songs, max(1, np.ceil(length_s / max(median, 1.0)))))

    def _query_vector(self, intent: QueryIntent, like_ids: Collection[str], feedback: Feedback) -> np.ndarray:
        text = intent.semantic_text or intent.describe() or "songs"
        vector = self.encoder.encode_query(text)
        if like_ids:
            rows = self.catalogue.rows_of(like_ids)
            if len(rows):
                song_vectors = self.index.vectors(rows)
                weight = self.settings.like_song_weight
                vector = song_vectors.mean(axis=0) * weight + vector * (1.0 - weight)
                vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
        if feedback.likes or feedback.dislikes:
            liked, weights = self._liked_rows(feedback)
            disliked = self.catalogue.rows_of(feedback.dislikes)
            vector = rocchio(
                vector,
                self.index.vectors(liked) if len(liked) else np.zeros((0, len(vector))),
                weights,
                self.index.vectors(disliked) if len(disliked) else np.zeros((0, len(vector))),
                self.settings.feedback_like_weight,
                self.settings.feedback_dislike_weight,
            )
        return vector.astype(np.float32)

    def _liked_rows(self, feedback: Feedback) -> tuple[np.ndarray, list[float]]:
        """The rows of the liked songs this catalogue has, and their weights."""
        found = [(self.catalogue.row_of(song_id), weight) for song_id, weight in feedback.likes]
        kept = [(row, weight) for row, weight in found if row is not None]
        return np.asarray([row for row, _ in kept], dtype=np.int64), [weight for _, weight in kept]

    def _feedback_bonus(self, feedback: Feedback, ids: np.ndarray) -> np.ndarray:
        """Per candidate, from its standardized audio features (zeros without likes or dislikes):
        ``feedback_audio_weight`` x its cosine with the feedback's Rocchio audio target (like the liked songs), plus
        the learned preference's weight (growing with the consistent judgements, up to ``feedback_preference_weight``)
        x its standing along the preference direction (``assistant/feedback.py``)."""
        if not (feedback.likes or feedback.dislikes) or len(ids) == 0 or not self.catalogue.audio_features:
            return np.zeros(len(ids), dtype=np.float32)
        liked, weights = self._liked_rows(feedback)
        catalogue, settings = self.catalogue, self.settings
        audio = catalogue.audio
        disliked = audio[catalogue.rows_of(feedback.dislikes)]
        bonus = np.zeros(len(ids))
        target = audio_target(
            audio[liked], weights, disliked, settings.feedback_like_weight, settings.feedback_dislike_weight
        )
        if target is not None:
            bonus += settings.feedback_audio_weight * catalogue.audio_similarity(target)[ids]
        learned = preference(
            audio[liked], weights, disliked, catalogue.audio_covariance, settings.feedback_preference_ridge
        )
        if learned is not None:
            weight = learned.weight(settings.feedback_preference_weight, settings.feedback_preference_half)
            bonus += weight * np.where(catalogue.has_audio[ids], learned.scores(audio[ids]), 0.0)
        return bonus.astype(np.float32)

    def _liked_reasons(self, feedback: Feedback, rows: np.ndarray) -> list[str | None]:
        """For each shown row, the title of the liked song it is most like, when it is like it enough (half
        description cosine, half audio cosine, at least ``feedback_explain_similarity``); else None."""
        liked, _ = self._liked_rows(feedback)
        if not len(liked) or not len(rows):
            return [None] * len(rows)
        catalogue = self.catalogue
        text = self.index.vectors(rows) @ self.index.vectors(liked).T
        if catalogue.audio_features:
            audio = catalogue.audio
            norms = np.linalg.norm(audio[rows], axis=1)[:, None] * np.linalg.norm(audio[liked], axis=1)[None, :]
            sound = (audio[rows] @ audio[liked].T) / np.maximum(norms, 1e-12)
            similarity = 0.5 * text + 0.5 * sound
        else:
            similarity = text
        similarity = np.where(rows[:, None] == liked[None, :], -np.inf, similarity)  # not liked for itself
        best = similarity.argmax(axis=1)
        floor = self.settings.feedback_explain_similarity
        return [str(catalogue.titles[liked[b]]) if similarity[i, b] >= floor else None for i, b in enumerate(best)]

    def _candidates(self, query_vector: np.ndarray, where: Where | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Every song, up to ``exact_search_limit`` songs; else a deep over-fetch (the best 5%, at least 2,000), at
        most what one search of the store returns. A store that pushes filters down returns only songs passing
        ``where``; the folder returns the nearest regardless (unsorted when it scores every song)."""
        total = len(self.index)
        limit = self.settings.exact_search_limit
        fetch = total if total <= limit else max(2000, total // 20)
        return self.index.candidates(query_vector, min(fetch, self.index.max_fetch), where)

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

    def _result(
        self,
        rank: int,
        row: int,
        score: float,
        intent: QueryIntent,
        query_vector: np.ndarray,
        standout: str | None,
        liked_title: str | None = None,
    ) -> SearchResult:
        song = self.catalogue.record(row)
        words = self.catalogue.song_words(row)
        nearest = nearest_song_words(query_vector, words, self.word_vectors())
        explanation, matched = explain(song, words, intent, nearest, standout, self.catalogue.shown_word)
        if liked_title is not None:
            explanation = f"{explanation}; {liked_reason(liked_title)}"
        return SearchResult.from_song(rank, song, score, explanation, matched)

    def word_vectors(self) -> dict[str, np.ndarray]:
        """Embeddings of every bucket word (about fifty), computed once on first use."""
        self.concept_reader()  # every phrase requests are compared with is embedded at the same moment
        with self._word_vectors_lock:  # a request arriving during warm_up waits for it instead of repeating it
            if self._word_vectors is None:
                words = sorted({w for buckets in self.index.scheme.features.values() for w in buckets.words})
                vectors = self.encoder.encode_phrases(words)
                self._word_vectors = dict(zip(words, vectors, strict=True))
            return self._word_vectors

    def warm_up(self) -> None:
        """Load the query model and embed the bucket words and concept examples now, so that the first request does
        not wait for them."""
        self.word_vectors()


def _fill_note(matching: int, labels: str) -> str:
    """What the reply says when the nearest songs fill an answer that too few songs match."""
    if matching == 0:
        return f"No song here is {labels}; these are the nearest to it."
    verb = "is" if matching == 1 else "are"
    return f"Only {matching} song{'s' * (matching != 1)} here {verb} {labels}; the rest are the nearest to it."


def _all_of(mask: np.ndarray, constraints: list[Constraint]) -> np.ndarray:
    """``mask`` and every constraint's mask."""
    combined = mask.copy()
    for constraint in constraints:
        combined &= constraint.mask
    return combined


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
