"""How well listening-history plays find their songs: a synthetic history drawn from the catalogue, with the noise
real files carry (casing, ``feat.`` credits, "Remastered" suffixes, accents, typos), plus plays of songs the
catalogue lacks, matched by ``assistant.listening.matching.match_plays``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from assistant.catalogue_view import CatalogueView
from assistant.listening.matching import match_plays
from assistant.titles import normalize_name

NOISE = ("exact", "casing", "feat. credit", "remaster suffix", "no accents", "title typo", "artist typo")
ABSENT = ("absent title, known artist", "absent title and artist")
_WORDS = ("velvet", "harbor", "neon", "paper", "summer", "ghost", "river", "static", "golden", "midnight", "echo")


@dataclass(frozen=True)
class MatchingFigures:
    """Per kind of play: how many, how many matched, how many matched the right song."""

    rows: list[tuple[str, int, int, int]]

    def table_rows(self) -> list[list[object]]:
        """``kind, plays, matched, right song`` (for absent songs every match is a wrong one: right is ``-``)."""
        return [
            [kind, count, matched / count, "-" if kind in ABSENT else right / count]
            for kind, count, matched, right in self.rows
        ]


def synthetic_history(space: CatalogueView, per_kind: int, seed: int = 7) -> pd.DataFrame:
    """``per_kind`` plays of each noise kind (songs drawn from the catalogue) and of each absent kind; the
    ``truth`` column is the song's row (-1 for absent songs)."""
    rng = np.random.default_rng(seed)
    titles, artists = space.titles, space.artists
    known = {normalize_name(t) for t in titles}
    rows: list[dict[str, object]] = []
    for kind in NOISE:
        for row in rng.choice(space.count, size=per_kind, replace=False):
            title, artist = str(titles[row]), str(artists[row])
            rows.append({"kind": kind, "title": _noisy(kind, title, rng, artists), "artist": _artist(kind, artist, rng),
                         "truth": int(row)})  # fmt: skip
    for kind in ABSENT:
        made = 0
        while made < per_kind:
            title = " ".join(rng.choice(_WORDS, size=3)).title()
            if normalize_name(title) in known:
                continue
            artist = str(artists[rng.integers(space.count)]) if kind == ABSENT[0] else f"The {title.split()[0]}s Band"
            rows.append({"kind": kind, "title": title, "artist": artist, "truth": -1})
            made += 1
    plays = pd.DataFrame(rows)
    return plays.assign(track_id="", played_at=pd.NaT, ms_played=np.nan, skipped=False, plays=1, source="synthetic")


def matching_figures(space: CatalogueView, per_kind: int, fuzzy_ratio: float) -> MatchingFigures:
    """Match a synthetic history and count, per kind, matches and right matches (the same title and artist as the
    drawn song count as right: a catalogue can list one song twice)."""
    plays = synthetic_history(space, per_kind)
    matched = match_plays(space, plays, fuzzy_ratio).plays
    same = np.array(
        [
            row >= 0 and truth >= 0 and _key(space, row) == _key(space, truth)
            for row, truth in zip(matched["row"], matched["truth"], strict=True)
        ]
    )
    found = matched["row"].to_numpy() >= 0
    rows = [
        (kind, int(mask.sum()), int(found[mask].sum()), int(same[mask].sum()))
        for kind in (*NOISE, *ABSENT)
        for mask in [(matched["kind"] == kind).to_numpy()]
    ]
    return MatchingFigures(rows)


def _key(space: CatalogueView, row: int) -> tuple[str, str]:
    return normalize_name(space.titles[row]), normalize_name(space.artists[row])


def _noisy(kind: str, title: str, rng: np.random.Generator, artists: np.ndarray) -> str:
    if kind == "casing":
        return title.upper() if rng.random() < 0.5 else title.lower()
    if kind == "feat. credit":
        return f"{title} (feat. {artists[rng.integers(len(artists))]})"
    if kind == "remaster suffix":
        return f"{title} - Remastered {rng.integers(1995, 2021)}"
    if kind == "no accents":
        return normalize_name(title).title()
    if kind == "title typo":
        return _typo(title, rng)
    return title


def _artist(kind: str, artist: str, rng: np.random.Generator) -> str:
    if kind == "casing":
        return artist.lower()
    if kind == "no accents":
        return normalize_name(artist).title()
    if kind == "artist typo":
        return _typo(artist, rng)
    return artist


def _typo(text: str, rng: np.random.Generator) -> str:
    """One letter dropped, doubled or swapped with its neighbour, somewhere past the first letter."""
    letters = [i for i, ch in enumerate(text) if ch.isalpha() and i > 0]
    if len(letters) < 4:
        return text
    i = int(rng.choice(letters[:-1]))
    change = rng.integers(3)
    if change == 0:
        return text[:i] + text[i + 1 :]
    if change == 1:
        return text[:i] + text[i] + text[i:]
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
