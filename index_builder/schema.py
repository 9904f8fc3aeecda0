"""The internal song record and the column names that map onto it from known catalogue schemas."""

from __future__ import annotations

import re
from dataclasses import dataclass

UNIT_FEATURES = ("energy", "danceability", "valence", "liveness", "acousticness", "speechiness", "instrumentalness")
"""Features on Spotify's 0-1 scale inside Moodring (0-100 catalogues are divided by 100 on load)."""

AUDIO_FEATURES = ("tempo", "loudness", "duration_s", *UNIT_FEATURES)
"""Numeric audio features; at least MIN_AUDIO_FEATURES of them must be present in a catalogue."""

NUMERIC_FEATURES = (*AUDIO_FEATURES, "popularity")
"""Everything bucketed into words. Popularity is 0-100 in every known schema."""

MIN_AUDIO_FEATURES = 3

SONG_COLUMNS = (
    "song_id", "title", "artist", "genre", "year", "chart_years", *NUMERIC_FEATURES, "location", "album", "explicit"
)  # fmt: skip
"""Column order of the internal songs table. ``location`` is where a player finds the song (a file path or URL
from a local library's catalogue); empty when the catalogue has none. ``album`` is the album's name ("" where
unknown); ``explicit`` is True/False where the catalogue marks explicit lyrics, missing (NA) where it does not."""


@dataclass(frozen=True)
class ColumnAliases:
    """Accepted source column names for one internal field, in order of preference."""

    field: str
    names: tuple[str, ...]


ALIASES: tuple[ColumnAliases, ...] = (
    ColumnAliases("song_id", ("track_id", "id", "spotify_id", "uri", "track_uri")),
    ColumnAliases("title", ("title", "track_name", "name", "track", "song", "song_name")),
    ColumnAliases("artist", ("artist", "artists", "track_artist", "artist_name", "artist(s)_name")),
    ColumnAliases(
        "genre",
        ("genre", "the genre of the track", "top genre", "track_genre", "playlist_genre", "playlist_subgenre"),
    ),
    ColumnAliases("year", ("year", "release_date", "track_album_release_date", "album_release_date", "released_year")),
    ColumnAliases("tempo", ("tempo", "bpm", "beats.per.minute")),
    ColumnAliases("energy", ("energy", "nrgy")),
    ColumnAliases("danceability", ("danceability", "dnce")),
    ColumnAliases("loudness", ("loudness", "loudness/db", "db")),
    ColumnAliases("liveness", ("liveness", "live")),
    ColumnAliases("valence", ("valence", "val")),
    ColumnAliases("duration_s", ("duration_s", "length", "duration", "dur", "duration_ms")),
    ColumnAliases("acousticness", ("acousticness", "acous")),
    ColumnAliases("speechiness", ("speechiness", "spch")),
    ColumnAliases("instrumentalness", ("instrumentalness",)),
    ColumnAliases("popularity", ("popularity", "track_popularity", "pop")),
    ColumnAliases("album", ("album", "album_name", "track_album_name", "album_title", "release_name")),
    ColumnAliases("explicit", ("explicit", "is_explicit", "explicit_lyrics", "parental_advisory", "parental advisory")),
    ColumnAliases("location", ("location", "path", "file", "file_path", "filepath", "filename", "file_name")),
)

REQUIRED_FIELDS = ("title", "artist")

_DESCRIPTION_SEPARATOR = re.compile(r"\s+-|-\s+")


def normalize_header(header: str) -> str:
    """``'Energy- The energy of a song'`` -> ``'energy'``: lower case, descriptive tail removed."""
    text = str(header).replace("\ufeff", "").strip().lower()
    return _DESCRIPTION_SEPARATOR.split(text, maxsplit=1)[0].strip()
