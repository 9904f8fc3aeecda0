"""Moodring's Gradio app: ``python app.py [--host] [--port] [--share] [--auth user:pass] [--catalogue PATH]``.

Thin by design: the chat handler, uploads and JSON search are plain functions in ``assistant/chat.py``; this
file lays out the page, names the API endpoints (``/chat``, ``/search``) and launches. The model and index are
read-only and loaded once; whatever belongs to one user (their dialogue, an uploaded catalogue) lives in
``gr.State``.
"""

from __future__ import annotations

# isort: off
import index_builder  # noqa: F401  first of all: it sets the process environment before numpy loads
import sys
from index_builder.prepare import prepare_ahead

if __name__ == "__main__":  # a fresh machine unpacks the model and rebuilds its export while gradio etc. import
    prepare_ahead(sys.argv[1:])
# isort: on

import argparse
import dataclasses
import threading
import time
from pathlib import Path

import gradio as gr
from starlette.middleware import Middleware

from assistant.api_arguments import (
    count_argument,
    flag_argument,
    history_argument,
    minutes_argument,
    names_argument,
    order_argument,
    text_argument,
    year_argument,
)
from assistant.body_limit import BodyLimit
from assistant.chat import (
    MAX_UPLOAD_BYTES,
    ChatSession,
    catalogue_status,
    chat,
    open_catalogue,
    playlist_response,
    release,
    search_songs,
)
from assistant.discovery_ui import add_discovery_tabs
from assistant.engine import SearchEngine
from assistant.escaping import escape_markdown
from assistant.export_folders import discard_upload
from assistant.login_throttle import LoginThrottle
from assistant.profile_store import ProfileStore
from assistant.profile_ui import add_profile_tab, add_rating_row
from assistant.profiles import owner_key, session_id_of
from assistant.upload_progress import EmbeddingProgress
from index_builder.cli_common import add_settings_arguments, parse_column_map, run_cli, settings_from_args
from index_builder.embedding import Encoder
from index_builder.errors import MoodringError, QueryError
from index_builder.settings import Settings

EXAMPLES = [
    "upbeat workout songs with low acousticness, nothing before 2015",
    "songs for a rainy heartbreak",
    "calm acoustic songs for studying",
    "high energy dance pop, no Pitbull",
    "hidden gems for a road trip",
]
CONCURRENCY_LIMIT = 2
"""Searches answered at once (one per CPU core on the reference machine); more wait in the queue."""
QUEUE_SIZE = 64
"""Requests that may wait in the queue before new ones are turned away."""
INTRO = (
    "# Moodring\n"
    "Describe a mood, an activity or a moment and get songs that fit, each with the reason why. Then refine: "
    "*calmer*, *older ones*, *no more Drake*, *show more*, *more like #2*, *why #3*, *start over*."
)
CHAT_HEIGHT = "calc(100dvh - 430px)"
"""The chat's height: what is left of the window under the title and tabs once the message box and the examples
have their place, so that on a phone (390 x 844) the box shows as the page opens, and on a desktop (1400 x 900)
the examples do."""
WEB = Path(__file__).resolve().parent / "assistant" / "web"
"""The page's stylesheet and head script (focus ring, plain-text message labels for screen readers)."""
THEME = gr.themes.Default(
    # Orange as text or behind white text needs the darker shades to reach 4.5:1 (orange-500 on white is 2.8:1).
    primary_hue=gr.themes.Color(
        c50="#fff7ed", c100="#ffedd5", c200="#fed7aa", c300="#fdba74", c400="#ea580c", c500="#c2410c",
        c600="#9a3412", c700="#7c2d12", c800="#6c2e12", c900="#431407", c950="#2a0c04",
    ),
).set(
    body_text_color_subdued="*neutral_600",
    input_placeholder_color="*neutral_500",
    block_label_text_color="*neutral_600",
)  # fmt: skip
"""The default theme with every text-on-colour pair at 4.5:1 or more (checked by axe in tests/test_browser.py)."""
UPLOAD_HELP = (
    "A Spotify export (`track_name`, `track_artist`, audio features on 0-1 scales, ...) or a CSV in the bundled "
    "catalogue's columns. Clear the file to go back."
)
UPLOAD_SLACK_BYTES = 1024 * 1024
"""Room for the multipart wrapping around an upload of the largest allowed file."""


def create_app(engine: SearchEngine) -> gr.Blocks:
    """The chat page and its API over one loaded engine (its model is shared with uploaded catalogues)."""
    settings = engine.settings
    profiles = ProfileStore(settings.profile_db_path, settings.profile_max_entries)

    def add_message(message: str, history: list[dict]) -> tuple[str, list[dict], str]:
        return "", [*history, {"role": "user", "content": message}], message

    def reply(message: str, history: list[dict], k: float, session: ChatSession) -> tuple[list[dict], ChatSession]:
        answer, session = chat(message, history[:-1], session, engine, int(k), profiles)
        return [*history, {"role": "assistant", "content": answer}], session

    def start_over(session: ChatSession) -> tuple[list[dict], ChatSession]:
        return [], ChatSession(
            engine=session.engine, catalogue_name=session.catalogue_name, workspace=session.workspace,
            owner=session.owner,
        )  # fmt: skip

    def upload(
        path: str | None,
        history: list[dict],
        session: ChatSession,
        progress: gr.Progress = gr.Progress(),  # noqa: B008  Gradio finds the bar by this default
    ) -> tuple[list[dict], ChatSession, str]:
        message, session = open_catalogue(
            path, history, session, settings, engine.encoder, on_embedded=EmbeddingProgress(progress)
        )
        discard_upload(path)  # the session has its own copy; Gradio's would be served to anyone given its path
        if message:
            history = [*history, {"role": "assistant", "content": message}]
        return history, session, catalogue_status(session, engine)

    def api_chat(
        message: str, history: list | None, k: float | None, session: ChatSession, request: gr.Request
    ) -> tuple[str, ChatSession]:
        try:
            text = text_argument(message, "message", default="")
            turns = history_argument(history)
            count = count_argument(k)
        except QueryError as error:
            return escape_markdown(error), session
        if session.owner is None or request.username:
            session = dataclasses.replace(session, owner=owner_key(request.username, session_id_of(session)))
        return chat(text, turns, session, engine, count or None, profiles)

    def search(
        query: str,
        k: int = settings.top_k,
        year_min: int | None = None,
        year_max: int | None = None,
        genres: list[str] | None = None,
        exclude_genres: list[str] | None = None,
        artists: list[str] | None = None,
        exclude_artists: list[str] | None = None,
        relax: bool = False,
    ) -> list[dict]:
        """Songs for a request as JSON, with optional filters; the fields are those of the CLI's --json."""
        most = settings.max_argument_items
        try:
            return search_songs(
                engine, text_argument(query, "query"), count_argument(k), year_argument(year_min, "year_min"),
                year_argument(year_max, "year_max"), names_argument(genres, "genres", most),
                names_argument(exclude_genres, "exclude_genres", most), names_argument(artists, "artists", most),
                names_argument(exclude_artists, "exclude_artists", most), flag_argument(relax, "relax", False),
            )  # fmt: skip
        except MoodringError as error:
            raise gr.Error(str(error), print_exception=False) from None

    def playlist(
        query: str,
        minutes: int | None = None,
        order: str | None = None,
        clean: bool | None = None,
        all_versions: bool | None = None,
        k: int | None = None,
    ) -> dict:
        """A playlist for a request: ``minutes`` to fill (within one song), an ``order`` (rank, build_up, wind_down,
        arc, smooth), ``clean`` (no explicit songs), ``all_versions`` (keep remixes); unset, the request's words
        decide. Returns ``{query, understood, notes, relaxed, total_s, results}``."""
        try:
            return playlist_response(
                engine, text_argument(query, "query"), minutes_argument(minutes, settings.playlist_max_minutes),
                order_argument(order), None if clean is None else flag_argument(clean, "clean", False),
                None if all_versions is None else flag_argument(all_versions, "all_versions", False),
                count_argument(k),
            )  # fmt: skip
        except MoodringError as error:
            raise gr.Error(str(error), print_exception=False) from None

    # Gradio deletes the files it served or received (exports, uploads) once older than export_max_age_s.
    delete_cache = (settings.cache_sweep_s, settings.export_max_age_s)
    with gr.Blocks(title="Moodring", analytics_enabled=False, delete_cache=delete_cache) as app:
        session = gr.State(ChatSession(), delete_callback=release)
        pending = gr.State("")
        gr.Markdown(INTRO)
        with gr.Tab("Chat"), gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Moodring",
                    height=CHAT_HEIGHT,
                    min_height=240,
                    elem_id="chat",
                    buttons=["copy"],
                    group_consecutive_messages=False,  # an upload's message is its own bubble, not part of an answer
                )
                textbox = gr.Textbox(
                    label="Message to Moodring",
                    placeholder="What are you in the mood for?",
                    show_label=False,
                    submit_btn="Send",
                    elem_id="message",
                )
                rating = add_rating_row()
                examples = gr.Examples(
                    EXAMPLES, inputs=[textbox], label="Try one", api_visibility="private", elem_id="examples"
                )
            with gr.Column(scale=1):
                k = gr.Slider(1, settings.max_k, value=settings.top_k, step=1, label="Songs per answer")
                restart = gr.Button("Start over", variant="secondary")
                status = gr.Markdown(catalogue_status(ChatSession(), engine))
                catalogue = gr.File(
                    label="Your own catalogue (.csv or .csv.gz)", file_types=[".csv", ".gz"], elem_id="catalogue"
                )
                gr.Markdown(UPLOAD_HELP)
        discover = add_discovery_tabs(engine, session)
        refresh_rating = add_profile_tab(app, engine, profiles, session, chatbot, rating, discover)
        with gr.Column(visible=False):  # the /chat endpoint's own inputs and output
            api_message = gr.Textbox(label="message")
            api_history = gr.JSON(label="history", value=[])
            api_k = gr.Number(label="k", value=settings.top_k, precision=0)
            api_reply = gr.Markdown(label="reply")
            api_button = gr.Button()

        queued_search = {"api_visibility": "private", "concurrency_id": "search"}
        for trigger in (textbox.submit, examples.load_input_event.then):
            trigger(
                add_message, [textbox, chatbot], [textbox, chatbot, pending], queue=False, api_visibility="private"
            ).then(reply, [pending, chatbot, k, session], [chatbot, session], **queued_search).then(
                refresh_rating, [session], [rating.group, rating.song], queue=False, api_visibility="private"
            )
        restart.click(start_over, [session], [chatbot, session], queue=False, api_visibility="private").then(
            refresh_rating, [session], [rating.group, rating.song], queue=False, api_visibility="private"
        )
        for event in (catalogue.upload, catalogue.clear):
            event(
                upload, [catalogue, chatbot, session], [chatbot, session, status], api_visibility="private",
                concurrency_limit=1, concurrency_id="catalogue",
            ).then(
                discover.follow_catalogue, [session], discover.catalogue_outputs, api_visibility="private", queue=False
            )  # fmt: skip
        api_button.click(
            api_chat,
            [api_message, api_history, api_k, session],
            [api_reply, session],
            api_name="chat",
            api_description="Reply to a message in this client's conversation (or in the given history).",
            concurrency_id="search",
            preprocess=False,  # api_chat checks the arguments as sent, so a wrong type gets a sentence, not a crash
        )
        gr.api(search, api_name="search", concurrency_id="search")
        gr.api(playlist, api_name="playlist", concurrency_id="search")
    app.queue(default_concurrency_limit=CONCURRENCY_LIMIT, max_size=QUEUE_SIZE)
    return app


def launch(
    app: gr.Blocks,
    host: str = "127.0.0.1",
    port: int | None = 7860,
    share: bool = False,
    auth: tuple[str, str] | None = None,
    block: bool = True,
    settings: Settings | None = None,
) -> str:
    """Serve ``app`` and return its local URL; a share link that cannot be made is one clear line, not a crash.

    In front of Gradio: request bodies over ``settings.max_request_bytes`` are refused with 413, and failed logins
    are throttled per client address (429 while an address is locked out).
    """
    settings = settings or Settings.from_env()
    middleware = [
        Middleware(BodyLimit, max_bytes=settings.max_request_bytes, upload_bytes=MAX_UPLOAD_BYTES + UPLOAD_SLACK_BYTES),
        Middleware(
            LoginThrottle,
            free_failures=settings.login_free_failures,
            lockout_s=settings.login_lockout_s,
            max_lockout_s=settings.login_max_lockout_s,
            max_clients=settings.login_tracked_clients,
        ),
    ]
    app.launch(
        server_name=host,
        server_port=port,
        share=share,
        auth=auth,
        prevent_thread_lock=True,
        show_error=False,
        max_file_size=MAX_UPLOAD_BYTES,
        theme=THEME,
        css_paths=[WEB / "page.css"],
        head_paths=[WEB / "head.html"],
        app_kwargs={"middleware": middleware},
    )
    if share and not app.share_url:
        print(
            f"Could not create a public share link (Gradio's tunnel needs internet access); the app is still "
            f"available at {app.local_url}",
            flush=True,
        )
    if block:
        app.block_thread()
    return str(app.local_url)


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``user:pass`` -> ``("user", "pass")``; the password may itself contain colons."""
    if value is None:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise argparse.ArgumentTypeError("--auth takes USER:PASSWORD")
    return user, password


def main(argv: list[str] | None = None) -> int:
    """Load the engine (building the index if needed) and serve the app until interrupted."""
    parser = argparse.ArgumentParser(prog="python app.py", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 for all)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--share", action="store_true", help="also create a public Gradio share link")
    parser.add_argument("--auth", type=parse_auth, metavar="USER:PASSWORD", help="require this login")
    add_settings_arguments(parser)
    args = parser.parse_args(argv)
    settings = settings_from_args(args)
    started = time.perf_counter()
    encoder = Encoder.from_settings(settings)
    encoder_s = time.perf_counter() - started
    engine = SearchEngine.from_settings(
        settings, encoder, parse_column_map(args.column), on_progress=None if args.quiet else _say
    )
    index_s = time.perf_counter() - started - encoder_s
    # The query model loads while the page is built and the server starts; a request arriving first waits for it.
    threading.Thread(target=_warm_up, args=(engine,), name="warm-up", daemon=True).start()
    app = create_app(engine)
    if not args.quiet:
        page_s = time.perf_counter() - started - encoder_s - index_s
        _say(f"Start-up: encoder {encoder_s:.1f} s, index {index_s:.1f} s, page {page_s:.1f} s.")
    launch(app, host=args.host, port=args.port, share=args.share, auth=args.auth, settings=settings)
    return 0


def _warm_up(engine: SearchEngine) -> None:
    """Load the query model ahead of the first request; a failure is said here and again to that request."""
    try:
        engine.warm_up()
    except MoodringError as error:
        _say(f"warning: {error}")


def _say(message: str) -> None:
    print(message, file=sys.stderr)


if __name__ == "__main__":
    run_cli(main)
