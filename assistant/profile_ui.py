"""The page's feedback and profile controls and their named API endpoints: a like, dislike or block for each song
of the last answer, the Profile tab (view, personal blend, export, forget me), and ``/feedback``, ``/profile``,
``/personal_blend`` and ``/forget_me``.

Whose profile: under ``--auth`` the login name's; else a random id the browser keeps in ``gr.BrowserState`` (set
when the page loads), or for an API client the ``profile_id`` it passes (``/profile`` returns the one it was given).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr

from assistant.api_arguments import text_argument
from assistant.chat import ChatSession, rate_song, session_engine
from assistant.discovery_ui import DiscoverTab, exports_root
from assistant.engine import SearchEngine
from assistant.escaping import plain_text
from assistant.export_folders import export_folder, remove_export_folder
from assistant.feedback import Feedback
from assistant.profile_store import BLEND_CHOICES, ProfileStore
from assistant.profiles import (
    browser_secret,
    new_browser_id,
    owner_key,
    profile_markdown,
    save_listening_taste,
    taste_seeds,
)
from index_builder.atomic import write_json_atomic
from index_builder.errors import MoodringError, QueryError

BROWSER_KEY = "moodring-profile-id"
"""The browser's localStorage key for its profile id."""
API_NAMES = ("feedback", "profile", "personal_blend", "forget_me")
RATE_BUTTONS = (("like", "👍 Like", "like-song"), ("dislike", "👎 Not for me", "dislike-song"))


@dataclass(frozen=True)
class RatingRow:
    """The controls under the chat: the last answer's songs, and a like and a dislike for the one picked."""

    group: gr.Column
    """Hidden until an answer lists songs."""
    song: gr.Radio
    buttons: dict[str, gr.Button]
    block: gr.Button


def add_rating_row() -> RatingRow:
    """Lay out the rating controls where the ``gr.Blocks`` being built is (under the chat)."""
    with gr.Column(visible=False, elem_id="rate") as group:
        song = gr.Radio([], label="Rate a song from the last answer", elem_id="rate-song")
        with gr.Row():
            buttons = {verdict: gr.Button(text, size="sm", elem_id=eid) for verdict, text, eid in RATE_BUTTONS}
            block = gr.Button("🚫 Never this artist", size="sm", elem_id="block-artist")
    return RatingRow(group, song, buttons, block)


def song_choices(session: object) -> tuple[gr.Column, gr.Radio]:
    """The rating row for the last answer: shown when it lists songs, its choices ``#3 Title - Artist`` (valued by
    their number)."""
    page = session.dialogue.last_page if isinstance(session, ChatSession) else ()
    choices = [(f"#{r.rank} {r.title} - {r.artist}", str(r.rank)) for r in page]
    return gr.Column(visible=bool(page)), gr.Radio(choices=choices, value=None)


def add_profile_tab(
    app: gr.Blocks,
    engine: SearchEngine,
    store: ProfileStore,
    session: gr.State,
    chatbot: gr.Chatbot,
    rating: RatingRow,
    discover: DiscoverTab,
) -> Callable[[object], tuple[gr.Column, gr.Radio]]:
    """Add the Profile tab, wire the rating row and Discover's "start from my profile", and name the endpoints.

    Returns the handler that refreshes the rating row after each answer.
    """
    settings = engine.settings
    min_likes = settings.personal_blend_min_likes
    browser_id = gr.BrowserState("", storage_key=BROWSER_KEY, secret=browser_secret(settings.data_dir))

    def owned(state: ChatSession, request: gr.Request | None, profile_id: object = None) -> ChatSession:
        """The session with its owner: the login, else ``profile_id`` (an API client's), else its own or a new id."""
        username = getattr(request, "username", None) if request is not None else None
        if username:
            owner = owner_key(username, None)
        elif profile_id not in (None, ""):
            owner = owner_key(None, text_argument(profile_id, "profile_id"))
        else:
            owner = state.owner or owner_key(None, new_browser_id())
        return state if owner == state.owner else dataclasses.replace(state, owner=owner)

    def page_owned(state: ChatSession, request: gr.Request, stored_id: object) -> ChatSession:
        """The session with its owner; on the page, one set before the page finished loading is the browser's id."""
        if state.owner:
            return state
        try:
            return owned(state, request, stored_id or None)
        except QueryError:
            return owned(state, request)

    def summary(state: ChatSession) -> str:
        return profile_markdown(store.profile(state.owner), min_likes) if state.owner else ""

    def blend_value(state: ChatSession) -> bool:
        return bool(state.owner) and store.profile(state.owner).blend_on(min_likes)

    with gr.Tab("Profile"):
        gr.Markdown(
            "What you liked, turned down and blocked, kept on this server for your login (or, without one, for this "
            "browser). Liked songs pull later answers towards them; disliked songs and blocked artists never come back."
        )
        profile_view = gr.Markdown(elem_id="profile-summary")
        blend = gr.Checkbox(label="Lean every answer towards my liked songs (personal blend)", elem_id="blend")
        with gr.Row():
            refresh = gr.Button("Refresh", size="sm")
            export = gr.Button("Export my profile (JSON)", size="sm", elem_id="profile-export")
            forget = gr.Button("Forget me", variant="stop", size="sm", elem_id="forget-me")
        exported = gr.File(label="Your profile as JSON", visible=False, elem_id="profile-file")
        exports = gr.State(None, delete_callback=remove_export_folder)

    def on_load(stored_id: object, state: ChatSession, request: gr.Request) -> tuple:
        bid = stored_id if isinstance(stored_id, str) and stored_id else new_browser_id()
        try:
            state = owned(state, request, bid)
        except QueryError:  # a stored id that is not one of ours: start a new one
            bid = new_browser_id()
            state = owned(state, request, bid)
        return bid, state, summary(state), blend_value(state)

    def on_export(state: ChatSession, folder: object, request: gr.Request) -> tuple:
        """The profile as a JSON file in the session's export folder (one file, replaced by the next export)."""
        state = owned(state, request)
        folder = export_folder(folder, exports_root(), settings.export_max_age_s)
        target = folder / "moodring-profile.json"
        write_json_atomic(target, store.profile(state.owner).to_json())
        return state, gr.File(value=str(target), visible=True), str(folder)

    def rate(verdict: str) -> Callable[..., tuple]:
        def run(
            choice: str | None, history: list[dict], state: ChatSession, stored_id: object, request: gr.Request
        ) -> tuple:
            state = page_owned(state, request, stored_id)
            if not choice:
                reply = "Pick a song from the last answer first, then press like or not for me."
            else:
                try:
                    reply, state, _ = rate_song(verdict, f"#{choice}", state, engine, store)
                except MoodringError as error:
                    reply = str(error)
            history = [*history, {"role": "assistant", "content": reply}]
            return history, state, summary(state), blend_value(state)

        return run

    rated = [chatbot, session, profile_view, blend]
    for verdict, button in (*rating.buttons.items(), ("block", rating.block)):
        button.click(
            rate(verdict), [rating.song, chatbot, session, browser_id], rated, api_visibility="private", queue=False
        )

    def on_blend(on: bool, state: ChatSession, request: gr.Request) -> tuple:
        state = owned(state, request)
        store.set_blend(state.owner, "on" if on else "off")
        return state, summary(state)

    def on_refresh(state: ChatSession, request: gr.Request) -> tuple:
        state = owned(state, request)
        return state, summary(state), blend_value(state)

    def on_forget(state: ChatSession, request: gr.Request) -> tuple:
        state = owned(state, request)
        store.forget(state.owner)
        dialogue = dataclasses.replace(state.dialogue, feedback=Feedback(), saved=Feedback(), seen=())
        state = dataclasses.replace(state, dialogue=dialogue)
        return state, "Forgotten: nothing about you is kept any more.", False, gr.File(value=None, visible=False)

    def on_from_profile(state: ChatSession, request: gr.Request) -> tuple[gr.Dropdown, str]:
        state = owned(state, request)
        current = session_engine(state, engine)
        labels, said = taste_seeds(store.profile(state.owner), current.catalogue, settings.taste_max_liked)
        return gr.Dropdown(value=labels), said

    def on_history_to_profile(taste: object, state: ChatSession, request: gr.Request) -> tuple[ChatSession, str, str]:
        """Save the listening history read on the Discover tab as likes (the default catalogue's songs only)."""
        state = owned(state, request)
        if session_engine(state, engine) is not engine:
            said = "Songs of an uploaded catalogue are not saved to your profile (their ids belong to that upload)."
            return state, said, summary(state)
        songs = tuple(taste) if isinstance(taste, (tuple, list)) else ()
        try:
            said = save_listening_taste(store, state.owner, songs, engine.catalogue, settings.taste_max_liked)
        except MoodringError as error:
            said = str(error)
        return state, said, summary(state)

    private = {"api_visibility": "private"}
    blend.input(on_blend, [blend, session], [session, profile_view], **private)
    refresh.click(on_refresh, [session], [session, profile_view, blend], **private)
    export.click(on_export, [session, exports], [session, exported, exports], **private)
    forget.click(on_forget, [session], [session, profile_view, blend, exported], **private)
    discover.history_to_profile.click(
        on_history_to_profile,
        [discover.history_taste, session],
        [session, discover.history_to_profile_note, profile_view],
        **private,
    )
    discover.from_profile.click(on_from_profile, [session], [discover.liked, discover.from_profile_note], **private)
    app.load(on_load, [browser_id, session], [browser_id, session, profile_view, blend], queue=False, **private)
    _add_endpoints(engine, store, session, owned)
    return song_choices


def _add_endpoints(engine: SearchEngine, store: ProfileStore, session: gr.State, owned: Callable) -> None:
    """``/feedback``, ``/profile``, ``/personal_blend``, ``/forget_me``: hidden inputs and outputs of their own, the
    session as state (so ``#3`` means this client's last answer), arguments checked as sent."""
    with gr.Column(visible=False):
        song_box = gr.Textbox(label="song")
        verdict_box = gr.Textbox(label="verdict", value="like")
        profile_box = gr.Textbox(label="profile_id", value="")
        blend_box = gr.Textbox(label="blend", value="auto")
        out = gr.JSON(label="result")
        buttons = {name: gr.Button() for name in API_NAMES}

    def profile_json(state: ChatSession) -> dict:
        return store.profile(state.owner).to_json()

    def feedback_endpoint(song, verdict, profile_id, state, request: gr.Request) -> tuple:
        """Like, dislike, block or unblock a song of this client's last answer (``3``, ``#3``) or a title."""
        try:
            state = owned(state, request, profile_id)
            target = text_argument(song, "song", max_chars=300)
            kind = text_argument(verdict, "verdict", default="like").strip().casefold()
            reply, state, taken = rate_song(kind, target if not target.strip().isdigit() else f"#{target}", state,
                                            engine, store)  # fmt: skip
        except MoodringError as error:
            raise gr.Error(str(error), print_exception=False) from None
        if not taken:
            raise gr.Error(plain_text(reply), print_exception=False)
        return {"message": plain_text(reply), "profile": profile_json(state)}, state

    def profile_endpoint(profile_id, state, request: gr.Request) -> tuple:
        """This client's saved profile (or ``profile_id``'s) as JSON: likes, dislikes, blocked artists, shown."""
        try:
            state = owned(state, request, profile_id)
        except MoodringError as error:
            raise gr.Error(str(error), print_exception=False) from None
        return profile_json(state), state

    def blend_endpoint(blend, profile_id, state, request: gr.Request) -> tuple:
        """Turn the personal blend on, off, or back to auto (on once there are enough likes)."""
        try:
            state = owned(state, request, profile_id)
            choice = text_argument(blend, "blend", default="auto").strip().casefold()
            if choice not in BLEND_CHOICES:
                raise QueryError(f"blend must be one of {', '.join(BLEND_CHOICES)}; got {choice[:40]!r}.")
            store.set_blend(state.owner, choice)
        except MoodringError as error:
            raise gr.Error(str(error), print_exception=False) from None
        return profile_json(state), state

    def forget_endpoint(profile_id, state, request: gr.Request) -> tuple:
        """Delete this client's saved profile (or ``profile_id``'s) and its feedback in this conversation."""
        try:
            state = owned(state, request, profile_id)
            forgotten = store.forget(state.owner)
        except MoodringError as error:
            raise gr.Error(str(error), print_exception=False) from None
        dialogue = dataclasses.replace(state.dialogue, feedback=Feedback(), saved=Feedback(), seen=())
        message = "Forgotten: nothing about you is kept any more." if forgotten else "There was nothing to forget."
        return {"forgotten": forgotten, "message": message}, dataclasses.replace(state, dialogue=dialogue)

    handlers = {
        "feedback": (feedback_endpoint, [song_box, verdict_box, profile_box, session]),
        "profile": (profile_endpoint, [profile_box, session]),
        "personal_blend": (blend_endpoint, [blend_box, profile_box, session]),
        "forget_me": (forget_endpoint, [profile_box, session]),
    }
    for name, (handler, inputs) in handlers.items():
        buttons[name].click(
            handler,
            inputs,
            [out, session],
            api_name=name,
            api_description=(handler.__doc__ or "").strip(),
            preprocess=False,
            concurrency_id="profile",
            concurrency_limit=None,
        )
