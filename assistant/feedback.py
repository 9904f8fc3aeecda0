"""A listener's feedback (liked songs with weights, disliked songs, blocked artists) and how it moves a search: a
Rocchio blend of the query embedding and of a standardized audio target, and a preference direction in audio space
learned from the liked against the disliked songs, trusted more as consistent judgements accumulate. The arithmetic
takes plain arrays."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from index_builder.song_fields import credit_name


@dataclass(frozen=True)
class Feedback:
    """What a listener said about songs: ``likes`` as ``(song id, weight)``, ``dislikes`` as song ids, ``blocked``
    as artist names. A song is liked or disliked, never both; the latest word wins."""

    likes: tuple[tuple[str, float], ...] = ()
    dislikes: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()

    @property
    def like_ids(self) -> tuple[str, ...]:
        return tuple(song_id for song_id, _ in self.likes)

    def __bool__(self) -> bool:
        return bool(self.likes or self.dislikes or self.blocked)

    def like(self, song_id: str, weight: float = 1.0) -> Feedback:
        """This feedback with ``song_id`` liked (no longer disliked)."""
        likes = (*((s, w) for s, w in self.likes if s != song_id), (song_id, float(weight)))
        return Feedback(likes, tuple(s for s in self.dislikes if s != song_id), self.blocked)

    def dislike(self, song_id: str) -> Feedback:
        """This feedback with ``song_id`` disliked (no longer liked)."""
        dislikes = (*(s for s in self.dislikes if s != song_id), song_id)
        return Feedback(tuple((s, w) for s, w in self.likes if s != song_id), dislikes, self.blocked)

    def block(self, artist: str) -> Feedback:
        """This feedback with ``artist`` blocked."""
        key = credit_name(artist)
        return Feedback(self.likes, self.dislikes, (*(a for a in self.blocked if credit_name(a) != key), artist))

    def unblock(self, artist: str) -> Feedback:
        """This feedback without ``artist`` blocked."""
        key = credit_name(artist)
        return Feedback(self.likes, self.dislikes, tuple(a for a in self.blocked if credit_name(a) != key))

    def merged(self, other: Feedback) -> Feedback:
        """Both at once; where they disagree about a song, ``other`` (the later word) wins."""
        merged = self
        for artist in other.blocked:
            merged = merged.block(artist)
        for song_id in other.dislikes:
            merged = merged.dislike(song_id)
        for song_id, weight in other.likes:
            merged = merged.like(song_id, weight)
        return merged

    def added_since(self, earlier: Feedback) -> Feedback:
        """What this feedback says that ``earlier`` did not (what a turn added, to be saved)."""
        before_likes = dict(earlier.likes)
        return Feedback(
            tuple((s, w) for s, w in self.likes if before_likes.get(s) != w),
            tuple(s for s in self.dislikes if s not in earlier.dislikes),
            tuple(a for a in self.blocked if a not in earlier.blocked),
        )


NO_FEEDBACK = Feedback()
"""Nothing said about any song."""


def rocchio(
    query: np.ndarray,
    liked: np.ndarray,
    liked_weights: Iterable[float],
    disliked: np.ndarray,
    like_weight: float,
    dislike_weight: float,
) -> np.ndarray:
    """``query + like_weight x weighted mean(liked) - dislike_weight x mean(disliked)``, L2-normalized.

    ``liked`` and ``disliked`` hold one vector per row (either may have no rows); the weights scale each liked row
    in its mean (an imported play count, say). Rocchio (1971), with the query's own weight fixed at 1.
    """
    vector = np.asarray(query, dtype=np.float64).copy()
    weights = np.asarray(list(liked_weights), dtype=np.float64)
    if len(liked) and weights.sum() > 0:
        vector += like_weight * (weights[:, None] * np.asarray(liked, dtype=np.float64)).sum(axis=0) / weights.sum()
    if len(disliked):
        vector -= dislike_weight * np.asarray(disliked, dtype=np.float64).mean(axis=0)
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


def audio_target(
    liked: np.ndarray,
    liked_weights: Iterable[float],
    disliked: np.ndarray,
    like_weight: float,
    dislike_weight: float,
) -> np.ndarray | None:
    """The direction in standardized audio space the feedback asks for (Rocchio without a query: the liked songs'
    weighted mean minus the disliked songs'), or None when there is no feedback to point anywhere."""
    if not len(liked) and not len(disliked):
        return None
    width = (liked if len(liked) else disliked).shape[1]
    target = rocchio(np.zeros(width), liked, liked_weights, disliked, like_weight, dislike_weight)
    return None if not np.any(target) else target


@dataclass(frozen=True)
class Preference:
    """A direction in standardized audio space along which the listener's likes stand above their dislikes.

    ``direction`` is scaled so that the catalogue's songs project onto it with standard deviation 1 (a song's
    ``audio @ direction`` is how many catalogue standard deviations it stands out the liked way); ``consistent`` is
    how many judgements (likes and dislikes, each counted once) fall on their own side of the midway point between
    the liked and the disliked songs' mean projections."""

    direction: np.ndarray
    consistent: int

    def scores(self, audio: np.ndarray) -> np.ndarray:
        """Each row's standing along the direction, squashed into (-1, 1) by tanh (a far outlier cannot outweigh
        the request)."""
        return np.tanh(np.asarray(audio, dtype=np.float64) @ self.direction)

    def weight(self, most: float, half: float) -> float:
        """How much this preference counts: ``most x n / (n + half)`` for ``n`` consistent judgements, so one like
        barely moves an answer and twenty consistent ones count almost ``most``."""
        return most * self.consistent / (self.consistent + half) if self.consistent else 0.0


def preference(
    liked: np.ndarray,
    liked_weights: Iterable[float],
    disliked: np.ndarray,
    covariance: np.ndarray,
    ridge: float,
) -> Preference | None:
    """Fisher's linear discriminant between the liked songs' standardized audio features and the disliked songs'
    (the catalogue's mean, 0, stands in for the disliked while there are none), with the catalogue's covariance of
    those features (``covariance``, ridge-regularized by ``ridge`` x identity) as the shared within-class scatter:
    ``direction ~ (covariance + ridge I)^-1 (weighted mean(liked) - mean(disliked))``.

    The catalogue's covariance, not the few judged songs', keeps the direction steady from the first like; dividing
    it out separates a feature the listener cares about from the ones that merely go with it (acoustic songs are
    also quiet). None without likes, or when likes and dislikes sit at the same place.
    """
    weights = np.asarray(list(liked_weights), dtype=np.float64)
    if not len(liked) or weights.sum() <= 0:
        return None
    liked = np.asarray(liked, dtype=np.float64)
    disliked = np.asarray(disliked, dtype=np.float64).reshape(-1, liked.shape[1])
    liked_mean = (weights[:, None] * liked).sum(axis=0) / weights.sum()
    disliked_mean = disliked.mean(axis=0) if len(disliked) else np.zeros(liked.shape[1])
    covariance = np.asarray(covariance, dtype=np.float64)
    direction = np.linalg.solve(covariance + ridge * np.eye(len(covariance)), liked_mean - disliked_mean)
    spread = float(np.sqrt(max(direction @ covariance @ direction, 0.0)))
    if spread < 1e-12:
        return None
    direction = direction / spread
    midway = 0.5 * (liked_mean + disliked_mean) @ direction
    consistent = int((liked @ direction > midway).sum() + (disliked @ direction < midway).sum())
    return Preference(direction, consistent)
