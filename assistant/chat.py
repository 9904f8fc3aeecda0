"""One person's chat session and the plain functions the app wires up: chat, catalogue upload, JSON search.

A ``ChatSession`` is everything that belongs to one user: the dialogue state, the user messages it has
answered, and the engine of a catalogue they uploaded. The app keeps it in ``gr.State``, so two people never
share one; nothing here is a module-level global.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistant.dialogue import DialogueState, refine, respond
from assistant.dialogue.feedback import VERDICTS, Found, find_artist, find_song, give_feedback
from assistant.dialogue.reading import reference_number
from assistant.engine import SearchEngine, validate_query
from assistant.escaping import escape_markdown
from assistant.profile_store import ProfileStore
from assistant.profiles import save_turn, with_profile
from assistant.titles import known_name
from assistant.understanding import QueryIntent
from index_builder.build import build_index, current_key, load_checked_folder
from index_builder.catalogue import CatalogueLimits, load_catalogue
from index_builder.embedding import Encoder
from index_builder.errors import CatalogueError, IndexMismatch, MoodringError, QueryError
from index_builder.index_cache import IndexCache
from index_builder.index_store import SongIndex
from index_builder.settings import Settings
from index_builder.text_checks import TextRepairs
from index_builder.vector_store import VectorStore

log = logging.getLogger("moodring")

COPY_BLOCK_BYTES = 1 << 20
"""An upload is copied and hashed a mebibyte at a time."""
_MAX_PART_DEPTH = 3
"""How deep message content parts may nest (a list of parts is one level) before the rest is skipped."""
MAX_UPLOAD_SONGS = 5000
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
"""Uploads larger than this are refused before they are read (the server refuses them too)."""
"""The most songs an uploaded catalogue may hold: embedding runs at about 16 songs/s on a 2-core CPU, so this is
about five minutes. Larger catalogues are built once with ``python -m index_builder`` and served with
``python app.py --catalogue``."""


@dataclass(frozen=True)
class ChatSession:
    """What one user's conversation owns."""

    dialogue: DialogueState = field(default_factory=DialogueState)
    turns: tuple[str, ...] = ()
    """The user messages ``dialogue`` has answered, in order; a history that differs is replayed."""
    engine: SearchEngine | None = None
    """The engine over the user's own uploaded catalogue; None means the app's catalogue."""
    catalogue_name: str | None = None
    workspace: Path | None = None
    """The temporary folder holding the uploaded catalogue and its index, removed with the session."""
    owner: str | None = None
    """Whose saved profile this conversation reads and writes (``assistant/profiles.py``); None: no saved profile."""


def chat(
    message: str,
    history: Sequence[object] | None,
    session: ChatSession,
    default_engine: SearchEngine,
    k: int | None = None,
    profiles: ProfileStore | None = None,
) -> tuple[str, ChatSession]:
    """The reply to ``message`` and the session after it.

    With ``profiles`` and a session ``owner``, the owner's saved profile steers the answer (``with_profile``), and
    what the turn said about songs, and the songs it showed, are saved before the reply is returned.

    ``history`` is the conversation so far (Gradio messages or ``[user, bot]`` pairs); None continues the
    session's own conversation. When the history's user messages are not the ones the session answered (the chat
    was cleared, or an API caller sent its own history), the dialogue is rebuilt by replaying them.
    """
    engine = session_engine(session, default_engine)
    turns = session.turns if history is None else user_turns(history)
    note = ""
    if turns == session.turns:
        dialogue = session.dialogue
    else:
        replayed = latest_turns(turns, engine.settings.max_history_turns, engine.settings.max_history_chars)
        dialogue = replay(replayed, engine, k)
        if len(replayed) < len(turns):
            note = (
                f"_Only your last {len(replayed)} of {len(turns)} earlier messages were read again: a history sent "
                f"with a request is replayed from at most {engine.settings.max_history_turns} messages and "
                f"{engine.settings.max_history_chars:,} characters._\n\n"
            )
    saving = profiles is not None and session.owner is not None and engine is default_engine
    if saving:
        dialogue = with_profile(dialogue, profiles, session.owner, engine.settings.personal_blend_min_likes)
    before = dialogue
    reply, dialogue = respond(message, dialogue, engine, k)
    if saving:
        save_turn(profiles, session.owner, before, dialogue, engine.catalogue)
    return note + reply, dataclasses.replace(session, dialogue=dialogue, turns=(*turns, str(message)))


def rate_song(
    verdict: str,
    target: str,
    session: ChatSession,
    default_engine: SearchEngine,
    profiles: ProfileStore | None = None,
) -> tuple[str, ChatSession, bool]:
    """Feedback from a click or the ``/feedback`` endpoint: ``verdict`` (like, dislike, block, unblock) on ``target``
    (a number in the last answer, a title, or for block and unblock an artist or a number), as "love #2" would be.

    Returns the reply, the session after it, and whether the feedback was taken; when it was not, the reply is the
    one sentence saying why and nothing changed. With ``profiles`` and an owner, it is saved before returning.
    """
    if verdict not in VERDICTS:
        raise QueryError(f"verdict must be one of {', '.join(VERDICTS)}; got {str(verdict)[:40]!r}.")
    engine = session_engine(session, default_engine)
    saving = profiles is not None and session.owner is not None and engine is default_engine
    dialogue = session.dialogue
    if saving:
        dialogue = with_profile(dialogue, profiles, session.owner, engine.settings.personal_blend_min_likes)
    found = find_song(target, dialogue, engine.catalogue, strong=True)
    if verdict in ("block", "unblock"):
        if found is not None and found.row is not None:
            found = Found(artist=str(engine.catalogue.artists[found.row]))
        if reference_number(target, dialogue) is None and target.strip():
            found = find_artist(target, engine.vocabulary.artists, strong=True)
    assert found is not None  # a strong cue always finds something or says why not
    if found.reply is not None:
        return found.reply, session, False
    reply, after = give_feedback(verdict, found, dialogue, engine.catalogue)
    if saving:
        save_turn(profiles, session.owner, dialogue, after, engine.catalogue)
    return reply, dataclasses.replace(session, dialogue=after), True


def replay(turns: Iterable[str], engine: SearchEngine, k: int | None = None) -> DialogueState:
    """The dialogue state after answering ``turns`` from the start."""
    state = DialogueState()
    for turn in turns:
        _, state = respond(turn, state, engine, k)
    return state


def latest_turns(turns: Sequence[str], max_turns: int, max_chars: int) -> tuple[str, ...]:
    """The latest of ``turns`` that fit in ``max_turns`` messages and ``max_chars`` characters, in order.

    Replaying a turn is a search, so this bounds what a supplied history can cost, whatever it holds.
    """
    kept: list[str] = []
    budget = max_chars
    for turn in reversed(turns[-max_turns:] if max_turns > 0 else ()):
        if len(turn) > budget:
            break
        kept.append(turn)
        budget -= len(turn)
    return tuple(reversed(kept))


def user_turns(history: Sequence[object]) -> tuple[str, ...]:
    """The user's messages in a chat history, in order, as plain text."""
    turns = []
    for item in history:
        if isinstance(item, dict):
            if item.get("role") == "user":
                turns.append(_text_of(item.get("content")))
        elif isinstance(item, list | tuple) and item and item[0] is not None:
            turns.append(_text_of(item[0]))
    return tuple(turns)


def _text_of(content: object, depth: int = 0) -> str:
    """Message content as text: a string, a ``{"type": "text", "text": ...}`` part, or a list of parts.

    Parts nested inside parts more than a few levels deep are not text anyone typed, and are skipped.
    """
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or "")
    if isinstance(content, list | tuple) and depth < _MAX_PART_DEPTH:
        return " ".join(part for part in (_text_of(c, depth + 1) for c in content) if part)
    return ""


def open_catalogue(
    path: str | Path | None,
    history: Sequence[object],
    session: ChatSession,
    settings: Settings,
    encoder: Encoder,
    max_songs: int = MAX_UPLOAD_SONGS,
    on_embedded: Callable[[int, int], None] | None = None,
) -> tuple[str, ChatSession]:
    """Switch the session to the catalogue at ``path`` (None: back to the app's), with a message for the chat.

    The file is copied into a fresh temporary folder (removed with the session). Its index comes from the upload
    cache when the same bytes were indexed before (``IndexCache``, checked like any index), else it is built in that
    folder, ``on_embedded(done, total)`` hearing of each batch, and then cached. A file that cannot be used leaves
    the session as it was and the message says why, in one sentence.
    """
    turns = user_turns(history)
    if path is None:
        if session.engine is None:
            return "", session
        release(session)
        reset = ChatSession(turns=turns)
        return "Back to the app's own catalogue. What are you in the mood for?", reset
    source = Path(path)
    size = source.stat().st_size if source.is_file() else 0
    if size > MAX_UPLOAD_BYTES:
        limit = MAX_UPLOAD_BYTES // (1024 * 1024)
        name = escape_markdown(source.name)
        return f"I could not use {name}: it is {size / 1e6:.0f} MB; uploads are limited to {limit} MB.", session
    workspace = Path(tempfile.mkdtemp(prefix="moodring-upload-"))
    try:
        copy = workspace / source.name
        digest = copy_with_sha256(source, copy)
        # Limits checked while the file streams in: a small .gz that expands to gigabytes stops early.
        upload = settings.with_changes(
            catalogue_path=copy,
            index_dir=workspace / "index",
            show_progress=False,
            max_catalogue_rows=2 * max_songs + 1_000,  # rows before repeats merge; the song count is checked below
            max_catalogue_bytes=MAX_UPLOAD_BYTES,
            milvus_uri="",  # an upload's index lives in its temporary folder (and the upload cache), never in Milvus
        )
        cache = IndexCache.from_settings(settings)
        index = _cached_index(cache, digest, upload, encoder)
        if index is None:
            index = _build_upload(upload, encoder, max_songs, on_embedded)
            cache.store(digest, upload.resolved_index_dir)
        if len(index) > max_songs:
            raise CatalogueError(_too_many(source.name, len(index), max_songs))
        engine = SearchEngine(index, encoder, upload)
    except (MoodringError, OSError) as error:
        shutil.rmtree(workspace, ignore_errors=True)
        return f"I could not use {escape_markdown(source.name)}: {escape_markdown(str(error))}", session
    release(session)
    notes = "".join(f"\n- {escape_markdown(note)}" for note in index.manifest.get("load_report", []))
    message = (
        f"Now searching **{escape_markdown(source.name)}**: {len(engine.songs)} songs from "
        f"{index.manifest.get('rows_read')} rows.{notes}\n\nWhat are you in the mood for?"
    )
    return message, ChatSession(turns=turns, engine=engine, catalogue_name=source.name, workspace=workspace)


def copy_with_sha256(source: Path, target: Path) -> str:
    """Copy ``source`` to ``target`` and return the sha256 of the bytes copied (one read of the file)."""
    digest = hashlib.sha256()
    with open(source, "rb") as reader, open(target, "wb") as writer:
        while block := reader.read(COPY_BLOCK_BYTES):
            digest.update(block)
            writer.write(block)
    return digest.hexdigest()


def _cached_index(cache: IndexCache, digest: str, upload: Settings, encoder: Encoder) -> SongIndex | None:
    """The cached index of the file whose sha256 is ``digest``, if there is one and it passes every check."""
    folder = cache.lookup(digest)
    if folder is None:
        return None
    try:
        return load_checked_folder(folder, current_key(upload, encoder), upload)
    except IndexMismatch as problem:  # built before a template, thresholds or model change, or damaged: built again
        log.info(f"Not using the cached index of an upload: {problem}")
        return None


def _build_upload(
    upload: Settings, encoder: Encoder, max_songs: int, on_embedded: Callable[[int, int], None] | None
) -> VectorStore:
    """Check the uploaded catalogue within the upload limits, then build its index in the session's folder."""
    catalogue = load_catalogue(
        upload.catalogue_path,
        limits=CatalogueLimits.from_settings(upload),
        repairs=TextRepairs.from_file(upload.text_repairs_path),
    )
    if len(catalogue) > max_songs:
        raise CatalogueError(_too_many(Path(upload.catalogue_path).name, len(catalogue), max_songs))
    return build_index(upload, encoder, on_embedded=on_embedded)


def _too_many(name: str, songs: int, max_songs: int) -> str:
    return (
        f"{name} has {songs} songs; the app embeds at most {max_songs} on upload. Build its index with "
        "`python -m index_builder --catalogue FILE` and start the app with `--catalogue FILE`."
    )


def release(session: ChatSession) -> None:
    """Delete the session's uploaded catalogue and index (Gradio calls this when the session ends)."""
    if isinstance(session, ChatSession) and session.workspace is not None:
        shutil.rmtree(session.workspace, ignore_errors=True)


def session_engine(session: object, default_engine: SearchEngine) -> SearchEngine:
    """The engine a session searches: its uploaded catalogue's, else the app's."""
    engine = session.engine if isinstance(session, ChatSession) else None
    return engine or default_engine


def catalogue_status(session: ChatSession, default_engine: SearchEngine) -> str:
    """One line for the page: which catalogue the chat searches, and its size."""
    if session.engine is not None:
        name = escape_markdown(session.catalogue_name or "upload")
        return f"Searching your catalogue **{name}** ({len(session.engine.songs)} songs)."
    name = Path(default_engine.settings.catalogue_path).name
    return f"Searching **{escape_markdown(name)}** ({len(default_engine.songs)} songs)."


def search_songs(
    engine: SearchEngine,
    query: str,
    k: int | None = None,
    year_min: int | None = None,
    year_max: int | None = None,
    genres: Sequence[str] = (),
    exclude_genres: Sequence[str] = (),
    artists: Sequence[str] = (),
    exclude_artists: Sequence[str] = (),
    relax: bool = False,
) -> list[dict[str, object]]:
    """Results as JSON-ready dicts (the CLI's ``--json`` fields), with filters on top of what the query says.

    Explicit filters win over the query's own words where they disagree. When nothing meets every condition the
    list is empty, unless ``relax`` asks for the nearest songs without the condition that emptied it.
    """
    text = validate_query(query)
    if year_min is not None and year_max is not None and year_min > year_max:
        raise QueryError(f"year_min {year_min} is after year_max {year_max}.")
    vocabulary = engine.vocabulary
    change = QueryIntent(
        text="",
        genres=[known_name(g, vocabulary.genres, "genre") for g in genres],
        excluded_genres=[known_name(g, vocabulary.genres, "genre") for g in exclude_genres],
        artists=[known_name(a, vocabulary.artists, "artist") for a in artists],
        excluded_artists=[known_name(a, vocabulary.artists, "artist") for a in exclude_artists],
        year_min=year_min,
        year_max=year_max,
    )
    intent, _ = refine(engine.understand(text), change)
    response = engine.search_intent(intent, k)
    if response.relaxed is not None and not relax:
        return []
    return [result.to_dict() for result in response.results]


def playlist_response(
    engine: SearchEngine,
    query: str,
    minutes: int | None = None,
    order: str | None = None,
    clean: bool | None = None,
    all_versions: bool | None = None,
    k: int | None = None,
) -> dict[str, object]:
    """A playlist as a JSON-ready response (``query, understood, notes, relaxed, total_s, results``): the
    request's own length, order, "clean" and "include remixes" words, each overridden by the argument given
    (``minutes`` to fill, an ``order`` of ``assistant/ordering.py``, ``clean`` to leave explicit songs out,
    ``all_versions`` to keep remixes and live versions)."""
    intent = engine.understand(validate_query(query))
    if minutes is not None:
        intent.length_s = minutes * 60.0
    if order is not None:
        intent.order = order
    if clean is not None:
        intent.clean = clean
    if all_versions is not None:
        intent.all_versions = all_versions
    return engine.search_intent(intent, k).to_dict()
