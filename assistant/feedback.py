"""A listener's feedback (liked songs with weights, disliked songs, blocked artists) and how it moves a search: a
Rocchio blend of the query embedding and of a standardized audio target. The arithmetic takes plain arrays."""

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
