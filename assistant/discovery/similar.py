"""More like this: songs near a catalogue song by audio features and by description, with what they share."""

from __future__ import annotations

import numpy as np
import pandas as pd

from assistant.catalogue_view import CatalogueView
from assistant.conditions import Filters
from assistant.engine import SearchEngine
from assistant.results import SearchResponse
from index_builder.errors import QueryError

_CORE_WORDS = ("energy", "danceability", "valence", "acousticness", "speechiness")
"""Features whose shared words are named first; loudness, liveness, length and popularity follow."""
_OTHER_WORDS = ("loudness", "liveness", "duration_s", "popularity")


def more_like_this(
    engine: SearchEngine,
    title: str,
    k: int | None = None,
    filters: Filters | None = None,
    diverse: bool = True,
    audio_weight: float | None = None,
) -> SearchResponse:
    """Songs most like the one ``title`` names (fuzzy matched; SongNotFound says "did you mean").

        Score = ``audio_weight`` x cosine over standardized audio features + the rest x description-embedding cosine;
        ``audio_weight`` defaults to ``settings.similar_audio_weight`` (0.5). The song itself (or another version of it:
    a remix, a live or a feat. version) is never returned, and
        with ``diverse`` (default) no artist takes more than two places while others can.
    """
    space = engine.catalogue
    match = space.title_index.find(title)
    seed = match.row
    weight = engine.settings.similar_audio_weight if audio_weight is None else float(audio_weight)
    if not 0.0 <= weight <= 1.0:
        raise QueryError(f"The audio weight must lie between 0 and 1, not {weight}.")
    notes = [match.note] if match.note else []
    audio_target = space.audio[seed] if space.has_audio[seed] else None
    if audio_target is None:
        notes.append(f"'{space.titles[seed]}' has no audio features; matched on its description only.")
    scores = space.hybrid_similarity(audio_target, space.song_vectors([seed])[0], weight)
    filters = filters or Filters()
    allowed = filters.mask(space)
    allowed[seed] = False
    rows = np.flatnonzero(allowed)
    if len(rows) == 0:
        raise QueryError(f"No other song in the catalogue is {filters.describe()}.")
    count = engine.result_count(k)
    order = engine.pick(scores[rows], rows, count + 1, diverse)  # one version of each song: one may be the seed's
    seed_key = space.version_keys(np.array([seed]))[0]
    order = order[space.version_keys(rows[order]) != seed_key][:count]
    results = []
    for rank, position in enumerate(order, 1):
        row = int(rows[position])
        explanation, matched = shared_attributes(space, seed, row)
        results.append(space.result(rank, row, scores[row], explanation, matched))
    understood = "; ".join(p for p in (f"songs like {space.label(seed)}", filters.describe()) if p)
    return SearchResponse(query=str(title), understood=understood, results=results, notes=notes)


def shared_attributes(space: CatalogueView, seed: int, row: int) -> tuple[str, tuple[str, ...]]:
    """``("same dance pop genre, similar tempo 120 vs 118 BPM, both high energy", shared words)``.

    Names the genre and artist when they are the same, then up to ``similar_max_shared`` of: a tempo within
    ``similar_tempo_close_bpm``,
    the bucket words both songs have (energy, danceability, mood, acousticness and vocals before loudness, liveness,
    length and popularity; the rarest in the catalogue first; words most songs have are left out), the same year.
    """
    settings = space.settings
    songs = space.songs
    a, b = songs.iloc[seed], songs.iloc[row]
    parts: list[str] = []
    matched: list[str] = []
    if str(a["genre"]) == str(b["genre"]) and str(a["genre"]).strip():
        parts.append(f"same {b['genre']} genre")
        matched.append(str(b["genre"]))
    if str(a["artist"]).casefold() == str(b["artist"]).casefold():
        parts.append(f"also by {b['artist']}")
    extras: list[tuple[str, str | None]] = []
    tempos = (a["tempo"], b["tempo"]) if "tempo" in songs else (None, None)
    if (
        all(_present(t) for t in tempos)
        and abs(float(tempos[0]) - float(tempos[1])) <= settings.similar_tempo_close_bpm
    ):
        extras.append((f"similar tempo {float(b['tempo']):.0f} vs {float(a['tempo']):.0f} BPM", "similar tempo"))
    seed_words, song_words = space.song_words(seed), space.song_words(row)
    shared = [
        (f in _OTHER_WORDS, space.word_share(f, song_words[f]), song_words[f], f)
        for f in (*_CORE_WORDS, *_OTHER_WORDS)
        if f in seed_words
        and seed_words[f] == song_words.get(f)
        and space.word_share(f, song_words[f]) <= settings.similar_telling_share
    ]
    extras += [(f"both {space.shown_word(feature, word)}", word) for *_, word, feature in sorted(shared)]
    if _present(a["year"]) and _present(b["year"]) and int(a["year"]) == int(b["year"]):
        extras.append((f"both from {int(b['year'])}", None))
    for text, word in extras[: settings.similar_max_shared]:
        parts.append(text)
        if word is not None:
            matched.append(word)
    if not parts:
        parts.append("closest in overall sound and description")
    return ", ".join(parts), tuple(dict.fromkeys(matched))


def _present(value: object) -> bool:
    return value is not None and not pd.isna(value)  # type: ignore[arg-type]
