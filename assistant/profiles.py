"""A listener's saved profile as the conversation sees it: whose it is, what it lends a turn (dislikes and blocks
always, likes with the personal blend), what a turn saves back, and the profile in words for the page."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import secrets
import tempfile
from collections.abc import Sequence
from pathlib import Path

from assistant.catalogue_view import CatalogueView
from assistant.dialogue.state import DialogueState
from assistant.escaping import escape_markdown
from assistant.feedback import Feedback
from assistant.profile_store import Profile, ProfileError, ProfileStore, Song
from index_builder.errors import QueryError

BROWSER_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
"""A browser-local id (and a ``profile_id`` an API client passes without a login): 16 to 64 letters, digits, - or _."""
SECRET_FILE = "browser_state.key"


def new_browser_id() -> str:
    """A fresh random id for a browser (or an API client) that has none: 128 bits, URL-safe."""
    return secrets.token_urlsafe(16)


def browser_secret(data_dir: Path) -> str:
    """The key ``gr.BrowserState`` encrypts the browser-local id with, kept in ``data_dir`` so that an id stored
    before a restart still reads after it (Gradio's default is a new random key each start). Made once, atomically:
    when two processes race, the first file written wins and both read it."""
    path = Path(data_dir) / SECRET_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mode 0600
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as tmp:
                tmp.write(secrets.token_urlsafe(32))
            with contextlib.suppress(FileExistsError):
                os.link(name, path)  # whole file or nothing, and never over another process's key
        finally:
            os.unlink(name)
    secret = path.read_text(encoding="utf-8").strip()
    if len(secret) < 32:
        raise ProfileError(f"{path} does not hold a usable key; delete it and a new one is made.")
    return secret


def session_id_of(session: object) -> str:
    """The browser id in a session's owner key (``browser:<id>``), or a new one when it has none."""
    owner = getattr(session, "owner", None)
    if isinstance(owner, str) and owner.startswith("browser:"):
        return owner.removeprefix("browser:")
    return new_browser_id()


def owner_key(username: str | None, browser_id: object) -> str:
    """Whose profile this is: ``user:<login>`` under ``--auth`` (the login wins), else ``browser:<id>``."""
    if username:
        return f"user:{username}"
    if not isinstance(browser_id, str) or not BROWSER_ID.match(browser_id):
        raise QueryError("profile_id must be 16 to 64 letters, digits, '-' or '_', as /profile returns it.")
    return f"browser:{browser_id}"


def saved_feedback(profile: Profile, min_likes: int) -> Feedback:
    """What a saved profile lends each turn: its dislikes and blocks always, its likes when the blend is on."""
    feedback = profile.feedback
    if profile.blend_on(min_likes):
        return feedback
    return Feedback((), feedback.dislikes, feedback.blocked)


def with_profile(state: DialogueState, store: ProfileStore, owner: str, min_likes: int) -> DialogueState:
    """The conversation state with the owner's saved profile lent to it (read fresh, so another tab's words count)."""
    return dataclasses.replace(state, saved=saved_feedback(store.profile(owner), min_likes))


def save_turn(
    store: ProfileStore, owner: str, before: DialogueState, after: DialogueState, catalogue: CatalogueView
) -> None:
    """Save what one turn changed: new likes, dislikes and blocks, lifted blocks, and the songs it showed."""
    added = after.feedback.added_since(before.feedback)
    songs = {song_id: song_of(song_id, catalogue) for song_id, _ in added.likes}
    songs.update({song_id: song_of(song_id, catalogue) for song_id in added.dislikes})
    store.save(owner, added, songs)
    lifted = set(before.taste.blocked) - set(after.taste.blocked)
    if lifted:
        store.unblock(owner, lifted)
    if after.last_page and after.last_page != before.last_page:
        store.mark_shown(owner, [Song(r.song_id, r.title, r.artist) for r in after.last_page])


def song_of(song_id: str, catalogue: CatalogueView, weight: float = 1.0) -> Song:
    """A catalogue song as a profile stores it (an unknown id keeps its id alone)."""
    row = catalogue.row_of(song_id)
    if row is None:
        return Song(song_id, weight=weight)
    return Song(song_id, str(catalogue.titles[row]), str(catalogue.artists[row]), weight)


def taste_seeds(profile: Profile, catalogue: CatalogueView, most: int) -> tuple[list[str], str]:
    """The Discover tab's taste profile started from a saved profile: the labels (``Title - Artist``) of its latest
    ``most`` liked songs that ``catalogue`` has, and one sentence saying what was taken, or why nothing was."""
    rows = [row for row in (catalogue.row_of(s.song_id) for s in profile.likes) if row is not None]
    labels = [catalogue.label(row) for row in rows[-most:]] if most > 0 else []
    if not profile.likes:
        return [], (
            "Your profile has no liked songs yet: like songs in the chat (*love #2*, or 👍 under an answer), then "
            "start from them."
        )
    if not labels:
        if len(profile.likes) == 1:
            return [], "The song your profile likes is not in this catalogue."
        return [], f"None of the {len(profile.likes)} songs your profile likes is in this catalogue."
    said = f"Started from {len(labels)} of your profile's liked songs"
    if len(labels) == len(profile.likes):
        said = f"Started from your profile's {len(labels)} liked song{'s' * (len(labels) != 1)}"
    missing = len(profile.likes) - len(rows)
    if missing:
        said += f" ({missing} not in this catalogue)"
    elif len(labels) < len(rows):
        said += f" (the latest {len(labels)})"
    return labels, said + "; press *Describe my taste*."


def save_listening_taste(
    store: ProfileStore, owner: str, taste: Sequence[tuple[str, float]], catalogue: CatalogueView, most: int
) -> str:
    """Save a listening history's taste (``ListeningTaste.taste()``: song ids with play weights) as likes: the
    ``most`` heaviest songs of ``catalogue`` with a positive weight, each weighing its share of the heaviest (the
    most played counts as much as a liked click, the rest less). One sentence saying what was saved, or why nothing
    was; a full profile is a ProfileError."""
    if not taste:
        return "Read a listening history first, then add its songs to your profile."
    found = [(str(song_id), float(weight)) for song_id, weight in taste if catalogue.row_of(str(song_id)) is not None]
    liked = sorted(((s, w) for s, w in found if w > 0), key=lambda pair: -pair[1])[: max(most, 0)]
    if not liked:
        return "No song of that history was heard more than skipped in this catalogue, so there is nothing to like."
    heaviest = liked[0][1]
    store.like(owner, [song_of(song_id, catalogue, weight / heaviest) for song_id, weight in liked])
    left = len([w for _, w in found if w > 0]) - len(liked)
    said = f"Added the {len(liked)} song{'s' * (len(liked) != 1)} you played most to your profile's likes"
    said += f" ({left} played less left out)" if left else ""
    return said + "; the most played counts as much as a like, the rest by how much you played them."


def profile_markdown(profile: Profile, min_likes: int) -> str:
    """The profile in words for the page: likes, dislikes, blocked artists, songs shown, the blend."""

    def songs(entries: tuple[Song, ...]) -> str:
        shown = ", ".join(f"*{escape_markdown(s.title or s.song_id)}* by {escape_markdown(s.artist)}" for s in entries)
        return shown or "none yet"

    blend = "on" if profile.blend_on(min_likes) else "off"
    how = {"auto": f"on by itself once you like {min_likes} songs", "on": "turned on", "off": "turned off"}
    lines = [
        f"**Liked ({len(profile.likes)}):** {songs(profile.likes)}",
        f"**Not for you ({len(profile.dislikes)}):** {songs(profile.dislikes)}",
        "**Blocked artists:** " + (", ".join(escape_markdown(a) for a in profile.blocked) or "none"),
        f"**Songs shown so far:** {len(profile.shown)}",
        f"**Personal blend:** {blend} ({how[profile.blend]})",
    ]
    return "\n\n".join(lines)
