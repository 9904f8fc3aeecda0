"""Fields derived from a song's own columns that both the catalogue view and a store's filters read."""

from __future__ import annotations

import re
import unicodedata


def credited_artists(artist: str, title: str) -> frozenset[str]:
    """Artist names credited on a song (as ``credit_name`` writes them): the artist field (split at ``,``, ``&``,
    ``x``, ``and`` and ``feat.``) plus ``feat.``/``with`` guests in the title."""
    names = {credit_name(a) for a in re.split(r",|&| x | and |\s(?:feat\.?|ft\.?|featuring)\s", artist) if a.strip()}
    names.add(credit_name(artist))
    for guests in re.findall(r"[(\[](?:feat\.?|ft\.?|featuring|with)\s+([^)\]]+)", title, flags=re.IGNORECASE):
        names.update(credit_name(g) for g in re.split(r",|&| and ", guests) if g.strip())
    return frozenset(names)


def credit_name(name: str) -> str:
    """An artist name for comparing credits: lower case, accents dropped (a title's ``feat. Beyoncé`` credits the
    artist column's ``Beyonce``)."""
    decomposed = unicodedata.normalize("NFKD", name.strip().casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
