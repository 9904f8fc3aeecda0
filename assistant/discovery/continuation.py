"""Playlist continuation: the songs that continue a playlist, explained.

The score blends two things. Content: ``similar_audio_weight`` x cosine to the playlist's average standardized audio
features + the rest x cosine to its average description embedding (as more-like-this and the taste profile do).
Co-occurrence, where the catalogue has playlist membership: how often a song shares playlists with the playlist's
songs (``membership.Membership.cooccurrence``). Each is scaled to 0-1 over the candidates, then
``continuation_cooccurrence_weight`` of the score is co-occurrence. Without membership the content alone ranks,
and the answer says so. ``python -m evaluation.continuation`` measures each part and chose the weight.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.catalogue_view import CatalogueView
from assistant.conditions import Filters
from assistant.discovery.membership import Membership
from assistant.engine import SearchEngine
from assistant.results import SearchResponse
from assistant.titles import SongNotFound
from index_builder.errors import QueryError

_URI = re.compile(r"^spotify:track:([0-9A-Za-z]{22})$")
_FITTING_WORDS = ("energy", "valence", "danceability", "acousticness", "speechiness", "instrumentalness")
"""Features whose shared words an explanation may name, besides tempo."""
NO_MEMBERSHIP = "This catalogue has no playlists, so songs are chosen by sound and description alone."


@dataclass(frozen=True)
class Seeds:
    """The playlist's songs as catalogue rows, what it was called, and notes on names read or missed."""

    rows: list[int]
    label: str
    notes: list[str]


def resolve_seeds(space: CatalogueView, songs: Sequence[str], playlist: str = "", most: int = 200) -> Seeds:
    """The rows of a playlist given as a catalogue playlist's name or id, or as songs (track ids, Spotify URIs or
    titles, typos allowed); names that match nothing become notes. QueryError when nothing matches."""
    membership = space.membership
    if playlist.strip():
        found = membership.find(playlist) if membership is not None else None
        if found is None:
            where = "" if membership is not None else " (this catalogue has no playlists)"
            raise QueryError(f"There is no playlist called '{playlist.strip()}' in this catalogue{where}.")
        name = membership.playlist_names[found]
        return Seeds([int(r) for r in membership.rows_of(found)], f"the playlist {name}", [])
    wanted = [str(s).strip() for s in songs if str(s or "").strip()]
    if not wanted:
        raise QueryError("Name the songs of the playlist (titles or Spotify track ids), or a playlist's name.")
    if len(wanted) > most:
        raise QueryError(f"A playlist to continue may list up to {most} songs; {len(wanted)} were given.")
    if len(wanted) == 1 and membership is not None and membership.find(wanted[0]) is not None:
        return resolve_seeds(space, [], wanted[0], most)
    rows: list[int] = []
    notes: list[str] = []
    for text in wanted:
        uri = _URI.match(text)
        row = space.row_of(uri.group(1) if uri else text)
        if row is None:
            try:
                match = space.title_index.find(text)
            except SongNotFound as missing:
                notes.append(str(missing))
                continue
            row = match.row
            if match.note:
                notes.append(match.note)
        if row not in rows:
            rows.append(row)
    if not rows:
        raise QueryError(" ".join(notes) or "None of those songs is in the catalogue.")
    return Seeds(rows, f"your {len(rows)} songs" if len(rows) > 1 else space.label(rows[0]), notes)


def content_scores(space: CatalogueView, seeds: Sequence[int], audio_weight: float) -> np.ndarray:
    """Audio and description similarity of every song to the playlist's average (more-like-this's hybrid)."""
    with_audio = [r for r in seeds if space.has_audio[r]]
    audio_target = space.audio[with_audio].mean(axis=0) if with_audio else None
    return space.hybrid_similarity(audio_target, space.vectors[list(seeds)].mean(axis=0), audio_weight)


def blend(content: np.ndarray, together: np.ndarray | None, weight: float, candidates: np.ndarray) -> np.ndarray:
    """``(1 - weight)`` x content + ``weight`` x co-occurrence, each scaled to 0-1 over ``candidates``."""
    scaled = _unit(content, candidates)
    if together is None or weight <= 0.0:
        return scaled
    return (1.0 - weight) * scaled + weight * _unit(together, candidates)


def _unit(values: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """``values`` scaled so the candidates run from 0 to 1 (all 0 when they are all alike)."""
    if len(candidates) == 0:
        return np.zeros_like(values)
    low, high = float(values[candidates].min()), float(values[candidates].max())
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def continue_playlist(
    engine: SearchEngine,
    songs: Sequence[str] = (),
    playlist: str = "",
    k: int | None = None,
    filters: Filters | None = None,
    diverse: bool = True,
) -> SearchResponse:
    """The songs that continue a playlist (songs or a catalogue playlist's name), best first, each explained."""
    space = engine.catalogue
    settings = engine.settings
    seeds = resolve_seeds(space, songs, playlist, settings.continuation_max_seeds)
    filters = filters or Filters()
    allowed = filters.mask(space)
    allowed[seeds.rows] = False
    candidates = np.flatnonzero(allowed)
    if len(candidates) == 0:
        raise QueryError(f"No song outside the playlist is {filters.describe() or 'left in the catalogue'}.")
    membership = space.membership
    notes = list(seeds.notes)
    together = membership.cooccurrence(seeds.rows) if membership is not None else None
    if membership is None:
        notes.append(NO_MEMBERSHIP)
    elif not together[candidates].any():
        notes.append("None of these songs is in the catalogue's playlists, so songs are chosen by sound alone.")
        together = None
    content = content_scores(space, seeds.rows, settings.similar_audio_weight)
    scores = blend(content, together, settings.continuation_cooccurrence_weight, candidates)
    order = engine.pick(scores[candidates], candidates, engine.result_count(k), diverse)
    fit = PlaylistFit.of(space, seeds.rows)
    results = []
    for rank, position in enumerate(order, 1):
        row = int(candidates[position])
        explanation, matched = fit.explain(row, membership if together is not None else None)
        results.append(space.result(rank, row, scores[row], explanation, matched))
    understood = "; ".join(p for p in (f"songs that continue {seeds.label}", filters.describe()) if p)
    return SearchResponse(query=seeds.label, understood=understood, results=results, notes=notes)


@dataclass(frozen=True)
class PlaylistFit:
    """What a playlist's songs have in common, for explaining a song that continues it."""

    space: CatalogueView
    seeds: list[int]
    tempo: tuple[float, float] | None
    """The middle half of the playlist's tempos (BPM), if it has tempos."""
    words: dict[str, str]
    """Feature -> the word most of the playlist's songs share (and few songs of the catalogue have)."""

    @classmethod
    def of(cls, space: CatalogueView, seeds: list[int]) -> PlaylistFit:
        tempos = space.raw["tempo"].to_numpy()[seeds] if "tempo" in space.raw else np.array([])
        tempos = tempos[np.isfinite(tempos) & (tempos > 0)]
        tempo = tuple(float(t) for t in np.percentile(tempos, [25, 75])) if len(tempos) else None
        words: dict[str, str] = {}
        for feature in _FITTING_WORDS:
            if feature not in space.words:
                continue
            counted = Counter(w for w in space.words[feature][seeds] if w is not None)
            if counted:
                word, count = counted.most_common(1)[0]
                share = space.word_share(feature, word)
                if count >= 0.5 * len(seeds) and share <= space.settings.similar_telling_share:
                    words[feature] = word
        return cls(space, seeds, tempo, words)  # type: ignore[arg-type]

    def explain(self, row: int, membership: Membership | None) -> tuple[str, tuple[str, ...]]:
        """``fits the playlist: tempo 120-128 BPM and sad mood; often together with X in 3 playlists``."""
        space = self.space
        fits: list[str] = []
        tempo = space.raw["tempo"].iat[row] if "tempo" in space.raw else np.nan
        if self.tempo is not None and np.isfinite(tempo):
            low, high = self.tempo
            slack = space.settings.similar_tempo_close_bpm / 2
            if low - slack <= tempo <= high + slack:
                fits.append(f"tempo {low:.0f}-{high:.0f} BPM" if round(high) > round(low) else f"tempo {low:.0f} BPM")
        song_words = space.song_words(row)
        shared = [word for feature, word in self.words.items() if song_words.get(feature) == word]
        fits += shared[:2]
        parts = [f"fits the playlist: {' and '.join(fits)}"] if fits else []
        if membership is not None:
            counts = membership.shared_playlists(self.seeds, row)
            if counts.max(initial=0) > 0:
                best = int(np.argmax(counts))
                seed = self.seeds[best]
                times = int(counts[best])
                name = f"{space.titles[seed]} by {space.artists[seed]}"
                where = "another playlist" if times == 1 else f"{times} playlists"
                parts.append(f"often together with {name} in {where}" if times > 1 else f"with {name} in {where}")
        return "; ".join(parts) or "closest to the playlist's overall sound and descriptions", tuple(shared[:2])
