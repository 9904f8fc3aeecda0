"""The open vocabulary: request words no phrase covers, read as the concept whose examples they are closest to.

Every concept's phrases and examples (``prompts/query_concepts.toml``) are embedded once with the query model and
cached beside it, keyed by the model's weights and the texts. A request's uncovered words are embedded in the
same single model call as the request itself, so reading them costs no extra call; a word or two-word phrase
whose best similarity to a concept reaches ``Settings.concept_match_threshold`` adds that concept as a soft wish,
and "Looking for" says how it was read (``angry -> aggressive``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from assistant.understanding import QueryIntent, covered_words, negation_start, settle_conflicts
from assistant.vocabulary import Concept, Vocabulary, load_concepts, tokens
from index_builder.atomic import atomic_path, write_json_atomic
from index_builder.buckets import load_bucket_spec
from index_builder.embedding import Encoder
from index_builder.settings import Settings

log = logging.getLogger("moodring")

CACHE_PREFIX = "concept-vectors-"
CONCEPTS_FILE = "query_concepts.toml"
MAX_PHRASES = 6
"""At most this many uncovered word pairs and words are read per request (each one lengthens the request's single
model call: padded to the request's length, six cost about as much again as the request alone)."""


@dataclasses.dataclass(frozen=True)
class Reading:
    """One uncovered phrase read as a concept."""

    phrase: str
    concept: str
    similarity: float
    negated: bool = False
    """Said after a negator ("calm but not sleepy"): the concept is what the songs must not be."""


class ConceptReader:
    """Reads uncovered request words as concepts, by cosine similarity to the concepts' embedded examples."""

    def __init__(self, concepts: dict[str, Concept], owners: list[str], vectors: np.ndarray, threshold: float) -> None:
        self.concepts = concepts
        order = np.argsort(np.asarray(owners, dtype=object), kind="stable")  # each concept's examples side by side
        self.owners = np.asarray(owners, dtype=object)[order]
        self.vectors = np.ascontiguousarray(vectors[order])
        self.threshold = threshold
        self._names, self._starts = np.unique(self.owners, return_index=True)

    @classmethod
    def build(cls, vocabulary: Vocabulary, encoder: Encoder, cache_dir: Path, threshold: float) -> ConceptReader:
        """Embed every concept's phrases and examples, or read them from the cache beside the model, or from the
        ones shipped in ``encoder.shipped_dir`` (``data/model/``) when they are for this encoder and these texts."""
        texts, owners = concept_texts(vocabulary.concepts.values())
        key = concept_key(encoder, texts)
        vectors = _read_cache(Path(cache_dir), key, len(texts), encoder.dimension)
        if vectors is None and encoder.shipped_dir is not None:
            vectors = _read_cache(Path(encoder.shipped_dir), key, len(texts), encoder.dimension)
        if vectors is None:
            vectors = np.asarray(encoder.encode_phrases(texts), dtype=np.float32)
            _write_cache(Path(cache_dir), key, vectors)
        return cls(dict(vocabulary.concepts), owners, vectors, threshold)

    def uncovered(self, intent: QueryIntent, vocabulary: Vocabulary) -> list[str]:
        """The request's words (and adjacent pairs) that no concept, genre or artist explains, to be read."""
        lists = vocabulary.words
        covered = covered_words(intent)
        ignored = lists.stopwords | lists.follow_up_filler | lists.negators
        words = [w.rstrip("!") or w for w in tokens(intent.content_text)]  # "promoted!" (P!nk keeps its "!")
        # a feature word that describes the next word ("a long drive") says nothing of the songs
        ignored |= {w for w, after in itertools.pairwise(words) if after in lists.describes_other.get(w, ())}
        open_words = [
            w if (w not in covered and w not in ignored and not w.isdigit() and len(w) > 2) else None for w in words
        ]
        pairs = [(a, b) for a, b in itertools.pairwise(open_words) if a and b]
        paired = {w for pair in pairs for w in pair}
        phrases = [f"{a} {b}" for a, b in pairs] + [w for w in open_words if w and w not in paired]
        # the request's own words as a whole ("on top of the world", "songs that slap"): free when no phrase was
        # found (it is the text the search embeds anyway), worth a row of the batch when two words or more are read
        whole = intent.content_text if len(words) > 1 else ""
        if whole and (len(phrases) > 1 or (phrases and whole == intent.semantic_text)):
            phrases.append(whole)
        return list(dict.fromkeys(phrases))[:MAX_PHRASES]

    @staticmethod
    def negated(intent: QueryIntent, vocabulary: Vocabulary) -> set[str]:
        """The request's words that stand after a negator ("not sleepy", "nothing that sounds like a club")."""
        words = tokens(intent.content_text)
        return {w for i, w in enumerate(words) if negation_start(words, i, vocabulary.words) is not None}

    def read(self, phrases: list[str], vectors: np.ndarray, negated: set[str] = frozenset()) -> list[Reading]:
        """The concepts the phrases mean (best first, one reading per concept), above the threshold; a phrase
        whose first word is ``negated`` reads as a concept to avoid."""
        if not phrases:
            return []
        best = np.maximum.reduceat(vectors @ self.vectors.T, self._starts, axis=1)  # phrase x concept
        readings: dict[str, Reading] = {}
        read_words: set[str] = set()
        for phrase, row in zip(phrases, best, strict=True):
            words = set(phrase.split())
            if len(words) <= 2 and words <= read_words:
                continue  # a phrase whose words were read already
            name, similarity = str(self._names[row.argmax()]), float(row.max())
            if similarity >= self.threshold and (name not in readings or readings[name].similarity < similarity):
                readings[name] = Reading(phrase, name, similarity, negated=phrase.split()[0] in negated)
                read_words |= words
        return sorted(readings.values(), key=lambda r: -r.similarity)


def add_readings(
    intent: QueryIntent,
    readings: list[Reading],
    concepts: dict[str, Concept],
    bucket_words: Mapping[str, Sequence[str]],
) -> None:
    """Add each read concept to ``intent`` as a soft wish (never a filter), unless it is there already; where it
    and a stated concept want different things of a feature, the more direct kind decides (a tie goes to the
    words the person typed). Record how each kept concept was read."""
    read = []
    for reading in readings:
        concept = concepts[reading.concept]
        if any(c.name == concept.name for c in (*intent.concepts, *intent.excluded_concepts)):
            continue
        if reading.negated:
            intent.excluded_concepts.append(dataclasses.replace(concept, constraint=False))
            intent.readings[concept.name] = f"{reading.phrase} → {concept.label}"
            continue
        intent.concepts.append(dataclasses.replace(concept, constraint=False))
        read.append(reading)
    intent.concepts = settle_conflicts(intent.concepts, read={r.concept for r in read})
    kept = {c.name: c for c in intent.concepts}
    for reading in read:
        if reading.concept in kept:
            concept = kept[reading.concept]
            intent.readings[concept.name] = f"{reading.phrase} → {concept.label}: {_gist(concept, bucket_words)}"


def _gist(concept: Concept, bucket_words: Mapping[str, Sequence[str]]) -> str:
    """The two heaviest features a concept wants, the middle of its wanted words each: ``intense energy, sad mood``."""
    features = sorted(concept.wants, key=lambda f: -concept.weight(f))[:2]
    words = []
    for feature in features:
        order = list(bucket_words.get(feature, ()))
        wanted = sorted(concept.wants[feature], key=lambda w: order.index(w) if w in order else 0)
        words.append(wanted[len(wanted) // 2])
    return ", ".join(words)


def concept_texts(concepts: Iterable[Concept]) -> tuple[list[str], list[str]]:
    """Every concept's phrases and examples, and the concept each belongs to, in the order they are embedded."""
    texts, owners = [], []
    for concept in concepts:
        for text in dict.fromkeys([*concept.phrases, *concept.examples]):
            texts.append(text)
            owners.append(concept.name)
    return texts, owners


def concept_key(encoder: Encoder, texts: Sequence[str]) -> str:
    """What the concept vectors depend on: how queries are embedded (``Encoder.query_identity``) and the texts."""
    return hashlib.sha256("\n".join([encoder.query_identity, *texts]).encode()).hexdigest()


def prompt_concepts(settings: Settings) -> list[Concept]:
    """The concepts of ``prompts/query_concepts.toml``, their feature words checked against the thresholds file."""
    spec = load_bucket_spec(settings.feature_words_path)
    return load_concepts(settings.prompts_dir / CONCEPTS_FILE, {k: v["words"] for k, v in spec.items()})


def ship_concept_vectors(settings: Settings, encoder: Encoder, folder: Path) -> Path:
    """Embed the concepts' texts with ``encoder`` (the fast one: its default queries are what the app runs) into
    ``folder``, replacing the vectors shipped for other texts, and return the vectors' path."""
    texts, _ = concept_texts(prompt_concepts(settings))
    key = concept_key(encoder, texts)
    vectors = np.asarray(encoder.encode_phrases(texts), dtype=np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(f"{CACHE_PREFIX}*"):
        stale.unlink()
    _write_cache(folder, key, vectors)
    if _read_cache(folder, key, len(texts), encoder.dimension) is None:
        raise OSError(f"Could not write the concept vectors into {folder}.")
    return folder / f"{CACHE_PREFIX}{key[:16]}.npy"


def _read_cache(folder: Path, key: str, rows: int, dimension: int) -> np.ndarray | None:
    """The cached vectors for ``key``, if the file is there, whole, and of the expected shape and values."""
    meta_path, data_path = folder / f"{CACHE_PREFIX}{key[:16]}.json", folder / f"{CACHE_PREFIX}{key[:16]}.npy"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        data = data_path.read_bytes()
        if meta.get("key") != key or meta.get("sha256") != hashlib.sha256(data).hexdigest():
            return None
        vectors = np.load(data_path, allow_pickle=False)
    except (OSError, ValueError, json.JSONDecodeError):
        return None
    if vectors.shape != (rows, dimension) or not np.isfinite(vectors).all():
        return None
    return vectors.astype(np.float32, copy=False)


def _write_cache(folder: Path, key: str, vectors: np.ndarray) -> None:
    """Save the vectors and their checksum atomically; a folder that cannot be written only costs the cache."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        data_path = folder / f"{CACHE_PREFIX}{key[:16]}.npy"
        with atomic_path(data_path) as temporary, open(temporary, "wb") as handle:
            np.save(handle, vectors, allow_pickle=False)
        digest = hashlib.sha256(data_path.read_bytes()).hexdigest()
        write_json_atomic(folder / f"{CACHE_PREFIX}{key[:16]}.json", {"key": key, "sha256": digest})
    except OSError as error:
        log.warning("Could not cache the concept vectors in %s: %s", folder, error)
