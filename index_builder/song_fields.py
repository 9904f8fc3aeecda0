"""Fields derived from a song's own columns that both the catalogue view and a store's filters read."""

from __future__ import annotations

import re


def credited_artists(artist: str, title: str) -> frozenset[str]:
    """Lower-cased artist names credited on a song: the artist field plus ``feat.``/``with`` guests in the title."""
    names = {a.strip().casefold() for a in re.split(r",|&| x | and ", artist) if a.strip()}
    names.add(artist.strip().casefold())
    for guests in re.findall(r"[(\[](?:feat\.?|ft\.?|featuring|with)\s+([^)\]]+)", title, flags=re.IGNORECASE):
        names.update(g.strip().casefold() for g in re.split(r",|&| and ", guests) if g.strip())
    return frozenset(names)
