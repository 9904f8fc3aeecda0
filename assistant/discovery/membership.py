"""Which songs share playlists: a playlists x songs 0/1 matrix (``scipy.sparse``) and item-item co-occurrence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse


@dataclass(frozen=True)
class Membership:
    """Playlist membership over a catalogue's rows (row i = song i)."""

    matrix: sparse.csr_matrix
    """Playlists x songs, 1 where the song is in the playlist."""
    playlist_ids: tuple[str, ...]
    playlist_names: tuple[str, ...]

    @classmethod
    def from_pairs(cls, pairs: pd.DataFrame, song_ids: Sequence[str]) -> Membership:
        """From ``(playlist_id, playlist_name, song_id)`` rows; songs not in ``song_ids`` are left out."""
        position = {str(s): i for i, s in enumerate(song_ids)}
        songs = pairs["song_id"].astype(str).map(position)
        pairs = pairs[songs.notna()]
        songs = songs[songs.notna()].astype(np.int64).to_numpy()
        codes, ids = pd.factorize(pairs["playlist_id"].astype(str))
        names = pairs.groupby(codes)["playlist_name"].first().astype(str)
        matrix = sparse.csr_matrix(
            (np.ones(len(songs), dtype=np.float64), (codes, songs)), shape=(len(ids), len(song_ids))
        )
        matrix.data[:] = 1.0  # a pair listed twice is still one membership
        return cls(matrix, tuple(str(i) for i in ids), tuple(names.tolist()))

    @property
    def song_playlists(self) -> np.ndarray:
        """How many playlists each song is in."""
        return np.asarray(self.matrix.sum(axis=0)).ravel()

    def cooccurrence(self, seeds: Sequence[int]) -> np.ndarray:
        """Each song's item-item score against the seeds: the sum over seeds of shared playlists, divided by the
        square root of both songs' playlist counts (cosine between their membership columns)."""
        counts = self.song_playlists
        weights = np.zeros(self.matrix.shape[1])
        seeds = np.asarray(list(seeds), dtype=np.int64)
        with np.errstate(divide="ignore"):
            weights[seeds] = np.where(counts[seeds] > 0, 1.0 / np.sqrt(counts[seeds]), 0.0)
        per_playlist = self.matrix @ weights
        scores = self.matrix.T @ per_playlist
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(counts > 0, scores / np.sqrt(counts), 0.0)

    def shared_playlists(self, seeds: Sequence[int], row: int) -> np.ndarray:
        """For each seed, how many playlists it shares with the song at ``row``."""
        columns = self.matrix[:, list(seeds)]
        return np.asarray(columns.T @ self.matrix[:, [row]].toarray()).ravel()

    def rows_of(self, playlist: int) -> np.ndarray:
        """The songs of one playlist (by position)."""
        return self.matrix[playlist].indices.copy()

    def find(self, name: str) -> int | None:
        """The playlist named ``name`` (any case) or with that id, or None."""
        wanted = name.strip().casefold()
        for position, (pid, pname) in enumerate(zip(self.playlist_ids, self.playlist_names, strict=True)):
            if wanted in (pid.casefold(), pname.casefold()):
                return position
        return None
