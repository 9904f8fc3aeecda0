"""The Discover tab of the Gradio app and its named API endpoints (mood presets, browsing, more like this, taste
profile, export).

Call ``add_discovery_tabs(engine, session)`` inside the app's ``gr.Blocks`` context, next to the chat::

    with gr.Blocks(title="Moodring") as demo:
        session = gr.State(ChatSession())
        with gr.Tab("Chat"):
            ...
        discover = add_discovery_tabs(engine, session)
        upload_event.then(discover.follow_catalogue, [session], discover.catalogue_outputs)

The page's events search the catalogue of the person's session (their upload, else the app's); the named API
endpoints search the app's catalogue. The handlers are plain functions of an engine; everything a person picks
lives in the components' session values, never in module state.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import gradio as gr
import pandas as pd
from gradio.components.plot import PlotData
from gradio.processing_utils import encode_plot_to_base64
from gradio.utils import get_upload_folder

from assistant.api_arguments import (
    clean_json,
    count_argument,
    filter_arguments,
    names_argument,
    order_argument,
    text_argument,
)
from assistant.chat import session_engine
from assistant.conditions import Filters
from assistant.discovery.browse import filtered_search
from assistant.discovery.continuation import NO_MEMBERSHIP, continue_playlist
from assistant.discovery.export import (
    FORMATS,
    NOT_PLAYABLE,
    normalize_format,
    playlist_rows,
    playlist_sources,
    to_spotify_uris,
    to_text,
    write_export,
)
from assistant.discovery.presets import engine_presets, preset_search
from assistant.discovery.similar import more_like_this
from assistant.discovery.taste import radar_description, radar_figure, recommend_for_taste, taste_profile
from assistant.engine import MAX_QUERY_CHARS, SearchEngine
from assistant.escaping import escape_markdown
from assistant.export_folders import discard_upload, export_folder, remove_export_folder
from assistant.formatting import response_as_markdown
from assistant.listening.for_you import MODES, ListeningTaste, for_you, import_history
from assistant.results import SearchResponse
from assistant.titles import SongNotFound
from index_builder.errors import MoodringError, QueryError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

ORDER_CHOICES = [
    ("By rank", "rank"),
    ("Build up (calm to intense)", "build_up"),
    ("Wind down (intense to calm)", "wind_down"),
    ("Warm-up, peak, cool-down", "arc"),
    ("Smooth tempo and energy flow", "smooth"),
]
"""The Discover tab's playlist orders (``assistant/ordering.py``), as the Order control offers them."""
API_NAMES = (
    "more_like_this",
    "preset",
    "presets",
    "genres",
    "years",
    "browse",
    "taste_profile",
    "export",
    "continue_playlist",
    "playlists",
    "history",
)
"""The named endpoints this module registers (``/more_like_this`` and so on)."""


# ---- JSON handlers (the API endpoints) --------------------------------------------------------------------


def api_more_like_this(
    engine: SearchEngine,
    title: str,
    k: int = 10,
    genres: Sequence[str] | None = None,
    year_min: int | None = None,
    year_max: int | None = None,
    diverse: bool = True,
) -> dict[str, object]:
    """Songs like ``title``; a title that matches nothing gives no results, a note and ``did_you_mean``."""
    try:
        response = more_like_this(engine, title, k, Filters.of(genres, year_min, year_max), diverse)
    except SongNotFound as missing:
        empty = SearchResponse(query=str(title), understood="", results=[], notes=[str(missing)])
        return {**empty.to_dict(), "did_you_mean": missing.suggestions}
    return {**response.to_dict(), "did_you_mean": []}


def api_preset(
    engine: SearchEngine,
    preset: str,
    k: int = 10,
    genres: Sequence[str] | None = None,
    year_min: int | None = None,
    year_max: int | None = None,
    diverse: bool = True,
) -> dict[str, object]:
    """Songs for a mood preset (name or label, any case)."""
    return preset_search(engine, preset, k, Filters.of(genres, year_min, year_max), diverse).to_dict()


def api_browse(
    engine: SearchEngine,
    query: str = "",
    genres: Sequence[str] | None = None,
    year_min: int | None = None,
    year_max: int | None = None,
    k: int = 10,
    diverse: bool = True,
) -> dict[str, object]:
    """A request answered among the songs of the chosen genres and years (the most popular when it is empty)."""
    return filtered_search(engine, query, Filters.of(genres, year_min, year_max), k, diverse).to_dict()


def api_taste_profile(
    engine: SearchEngine,
    titles: Sequence[str],
    k: int = 10,
    genres: Sequence[str] | None = None,
    year_min: int | None = None,
    year_max: int | None = None,
    diverse: bool = True,
) -> dict[str, object]:
    """The taste behind the liked ``titles`` and the songs nearest it that are not among them."""
    profile = taste_profile(engine, titles)
    recommendations = recommend_for_taste(engine, profile, k, Filters.of(genres, year_min, year_max), diverse)
    return {"profile": profile.to_dict(), "recommendations": recommendations.to_dict()}


def api_continue_playlist(
    engine: SearchEngine,
    songs: Sequence[str],
    playlist: str = "",
    k: int | None = 10,
    genres: Sequence[str] | None = None,
    year_min: int | None = None,
    year_max: int | None = None,
    diverse: bool = True,
) -> dict[str, object]:
    """The songs that continue a playlist (its songs, or a catalogue playlist's name), each explained."""
    filters = Filters.of(genres, year_min, year_max)
    return continue_playlist(engine, songs, playlist, k, filters, diverse).to_dict()


def api_history(
    engine: SearchEngine, paths: Sequence[str | Path], mode: str = "discover", k: int | None = 10
) -> dict[str, object]:
    """A listening history read, matched and weighed (``taste``: song ids with weights), its profile and songs for
    you (``mode`` familiar or discover)."""
    taste = import_history(engine, paths)
    answer = taste.to_dict()
    answer["recommendations"] = for_you(engine, taste, mode, k).to_dict() if taste.profile is not None else None
    return answer


def export_file(engine: SearchEngine, fmt: str, results: object, folder: Path) -> str:
    """Write ``results`` (a result list or a response dict) as ``fmt`` into the session's ``folder``; the path."""
    rows = playlist_rows(results, engine.songs)
    return str(write_export(rows, fmt, folder))


def exports_root() -> Path:
    """Where sessions' export folders go: inside Gradio's cache, so the files are served without a copy."""
    return Path(get_upload_folder())


# ---- The UI -----------------------------------------------------------------------------------------------


class DescribedPlot(PlotData):
    """A matplotlib chart with alt text. Gradio's page writes a chart's alt as ``<chart> plot visualising provided
    data``, with ``chart`` empty ("undefined") for matplotlib, so ``chart`` carries what the chart shows."""

    chart: str

    @classmethod
    def of(cls, figure: Figure, description: str, fmt: str = "webp") -> DescribedPlot:
        """``figure`` as a picture whose alt text starts with ``description``."""
        return cls(type="matplotlib", plot=encode_plot_to_base64(figure, fmt), chart=f"{description}. Radar")


@dataclass(frozen=True)
class CatalogueChoices:
    """What the Discover tab offers from one catalogue: genres, years, songs, and its counts."""

    genres: list[tuple[str, str]]
    first_year: int
    last_year: int
    songs: list[str]
    genre_table: pd.DataFrame
    year_table: pd.DataFrame
    has_files: bool = False
    """Whether songs have file locations (an M3U of them plays)."""
    has_spotify_ids: bool = False
    """Whether songs have Spotify track ids (an M3U of URIs plays in Spotify; the URIs can be pasted)."""
    playlists: tuple[str, ...] = ()
    """The catalogue's playlist names (empty without membership)."""

    @property
    def playable(self) -> bool:
        """Whether results can become a playlist a player opens, not only a list of names."""
        return self.has_files or self.has_spotify_ids

    @property
    def export_note(self) -> str:
        """What the export section says about this catalogue's playlists."""
        if self.has_files:
            return "The M3U playlist lists each song's file, as your catalogue gives it."
        if self.has_spotify_ids:
            return "The M3U playlist and the URIs below open in Spotify (paste the URIs into a Spotify playlist)."
        return NOT_PLAYABLE

    @classmethod
    def of(cls, engine: SearchEngine) -> CatalogueChoices:
        """The choices of ``engine``'s catalogue."""
        catalogue = engine.catalogue
        counts = catalogue.genre_counts()
        years = engine.songs["year"].dropna().astype(int)
        first, last = (int(years.min()), int(years.max())) if len(years) else (1900, 2100)
        has_files, has_spotify_ids = playlist_sources(engine.songs)
        membership = catalogue.membership
        return cls(
            genres=[(f"{g['genre']} ({g['count']})", str(g["genre"])) for g in counts],
            first_year=first,
            last_year=max(last, first + 1),  # a slider needs two ends: a one-year catalogue gets the next year too
            songs=sorted({catalogue.label(row) for row in range(catalogue.count)}, key=str.casefold),
            genre_table=pd.DataFrame(counts),
            year_table=pd.DataFrame(catalogue.year_counts()),
            has_files=has_files,
            has_spotify_ids=has_spotify_ids,
            playlists=tuple(sorted(set(membership.playlist_names), key=str.casefold)) if membership else (),
        )

    def filters(self, genres: list[str] | None, low: float | None, high: float | None) -> Filters:
        """The page's filters; a year range spanning the whole catalogue filters nothing."""
        low = None if low is None or low <= self.first_year else low
        high = None if high is None or high >= self.last_year else high
        return Filters.of(genres, low, high)


@dataclass(frozen=True)
class DiscoverTab:
    """The Discover tab's components that follow the session's catalogue, and the handler that updates them."""

    catalogue_outputs: list[gr.components.Component]
    follow_catalogue: Callable[[object], tuple]
    liked: gr.Dropdown
    """The taste profile's liked songs (``Title - Artist``), which a saved profile can fill."""
    from_profile: gr.Button
    """"Start from my profile": the app wires it to the saved likes (``assistant/profile_ui.py``)."""
    from_profile_note: gr.Markdown
    """What "start from my profile" took, or why it took nothing."""
    history_taste: gr.State
    """The last listening history read on the tab: its taste, ``(song id, weight)`` heaviest first (None before)."""
    history_to_profile: gr.Button
    """"Add these songs to my profile's likes": the app wires it to the saved profile (``assistant/profile_ui.py``)."""
    history_to_profile_note: gr.Markdown
    """What that button saved, or why it saved nothing."""


def add_discovery_tabs(default_engine: SearchEngine, session: gr.State) -> DiscoverTab:
    """Add the Discover tab and the named API endpoints to the ``gr.Blocks`` being built.

    The tab's events search the catalogue of ``session`` (a ``ChatSession``: the person's upload, else
    ``default_engine``); call ``follow_catalogue`` after an upload so its choices follow. The named endpoints
    search ``default_engine``.
    """
    engine = default_engine
    presets = engine_presets(engine)
    choices = CatalogueChoices.of(engine)

    def engine_of(state: object) -> tuple[SearchEngine, CatalogueChoices]:
        current = session_engine(state, default_engine)
        return current, (choices if current is default_engine else CatalogueChoices.of(current))

    def session_folder(current: object) -> Path:
        return export_folder(current, exports_root(), engine.settings.export_max_age_s)

    def shown(
        current: SearchEngine, offered: CatalogueChoices, response: SearchResponse, folder: object, order: str
    ) -> tuple[str, str | None, str | None, str, str, object]:
        """The results in ``order`` as Markdown, their exports in the same order (files in the session's export
        folder): CSV, an M3U only where it plays, the plain list of names and the Spotify URIs to paste."""
        response = current.order_response(response, order_argument(order))
        rows = playlist_rows([r.to_dict() for r in response.results], current.songs)
        if not rows:
            return response_as_markdown(response), None, None, "", "", folder
        folder = session_folder(folder)
        csv_path = str(write_export(rows, "csv", folder))
        m3u_path = str(write_export(rows, "m3u", folder)) if offered.playable else None
        uris = to_spotify_uris(rows) if any(row["spotify_uri"] for row in rows) else ""
        return response_as_markdown(response), csv_path, m3u_path, to_text(rows), uris, folder

    def failed(error: MoodringError, folder: object) -> tuple[str, None, None, str, str, object]:
        return escape_markdown(error), None, None, "", "", folder

    with gr.Tab("Discover"):
        gr.Markdown(
            "Pick a mood, browse by genre and years, find songs like one you love, or describe your taste from "
            "songs you like. The filters apply to every search on this tab."
        )
        with gr.Row():
            genre_box = gr.Dropdown(
                choices.genres, multiselect=True, label="Genres (any of)", info="empty: every genre", scale=3
            )
            first, last = choices.first_year, choices.last_year
            year_low = gr.Slider(first, last, value=first, step=1, label="From year", scale=1)
            year_high = gr.Slider(first, last, value=last, step=1, label="To year", scale=1)
        with gr.Row():
            count = gr.Slider(1, engine.settings.max_k, value=engine.settings.top_k, step=1, label="Songs")
            diverse = gr.Checkbox(True, label="Diverse: at most two songs per artist")
            order_box = gr.Dropdown(ORDER_CHOICES, value="rank", label="Order", info="the export keeps it")
        filter_inputs = [genre_box, year_low, year_high, count, diverse, session, order_box]

        with gr.Tabs():
            with gr.Tab("Moods"):
                with gr.Row():
                    preset_buttons = [
                        (gr.Button(p.label, size="sm", min_width=90), name) for name, p in presets.items()
                    ]
                with gr.Row():
                    query = gr.Textbox(
                        label="Request (optional)",
                        placeholder="e.g. songs for a rainy evening; leave empty to list the most popular",
                        scale=4,
                    )
                    browse_button = gr.Button("Search with filters", variant="primary", scale=1)
                with gr.Accordion("Genres and years in the catalogue", open=False), gr.Row():
                    genre_table = gr.Dataframe(choices.genre_table, label="Genres", interactive=False)
                    year_table = gr.Dataframe(choices.year_table, label="Years", interactive=False)
            with gr.Tab("More like this"):
                seed = gr.Dropdown(
                    choices.songs,
                    value=None,
                    allow_custom_value=True,
                    filterable=True,
                    label="A song from the catalogue (type to search; near misses get a 'did you mean')",
                )
                similar_button = gr.Button("More like this", variant="primary")
                with gr.Accordion("Continue a playlist", open=False):
                    playlist_songs = gr.Dropdown(
                        choices.songs,
                        multiselect=True,
                        filterable=True,
                        allow_custom_value=True,
                        label="The playlist's songs (type to search; titles or Spotify track ids)",
                    )
                    playlist_name = gr.Dropdown(
                        list(choices.playlists),
                        value=None,
                        label="...or one of the catalogue's playlists",
                        visible=bool(choices.playlists),
                    )
                    playlist_note = gr.Markdown("" if choices.playlists else NO_MEMBERSHIP)
                    continue_button = gr.Button("Continue the playlist", variant="primary")
            with gr.Tab("Taste profile"):
                liked = gr.Dropdown(
                    choices.songs, multiselect=True, filterable=True, label="Songs you like", elem_id="taste-liked"
                )
                from_profile = gr.Button("Start from my profile's likes", size="sm", elem_id="taste-from-profile")
                from_profile_note = gr.Markdown(elem_id="taste-from-profile-note")
                taste_button = gr.Button("Describe my taste", variant="primary")
                with gr.Row():  # side by side where both fit, one above the other on a phone
                    taste_summary = gr.Markdown(min_width=300)
                    radar = gr.Plot(
                        label="Your feature profile against the catalogue average",
                        show_label=False,  # the chart draws its own title; a label badge would cover it
                        min_width=340,
                        elem_id="taste-radar",
                    )
                taste_table = gr.Dataframe(label="Average and spread of each feature", interactive=False)
                with gr.Accordion("Or from your listening history", open=False):
                    history_files = gr.File(
                        elem_id="discover-history",
                        file_count="multiple",
                        file_types=[".json", ".csv"],
                        label="Listening history: Spotify StreamingHistory / Streaming_History_Audio JSON, a Last.fm "
                        "scrobble CSV, or a CSV of title, artist[, plays]",
                    )
                    history_mode = gr.Radio(
                        list(MODES),
                        value="discover",
                        label="For you",
                        info="discover leaves out what you played a lot; familiar may bring back songs you know",
                    )
                    history_button = gr.Button("Read my history", variant="primary")
                    history_report = gr.Markdown(elem_id="history-report")
                    history_to_profile = gr.Button(
                        "Add these songs to my profile's likes", size="sm", elem_id="history-to-profile"
                    )
                    history_to_profile_note = gr.Markdown(elem_id="history-to-profile-note")
                    history_taste = gr.State(None)
                    with gr.Row():
                        history_summary = gr.Markdown(min_width=300)
                        history_radar = gr.Plot(
                            label="Your listening against the catalogue average",
                            show_label=False,
                            min_width=340,
                            elem_id="history-radar",
                        )

        results = gr.Markdown(label="Results", elem_id="discover-results")
        with gr.Accordion("Export these results", open=False):
            export_note = gr.Markdown(choices.export_note, elem_id="export-note")
            with gr.Row():
                csv_button = gr.DownloadButton("Download CSV", value=None)
                m3u_button = gr.DownloadButton("Download M3U playlist", value=None, visible=choices.playable)
            uri_list = gr.Textbox(
                label="Spotify track URIs, one per line (paste into a Spotify playlist)",
                lines=6,
                buttons=["copy"],
                interactive=False,
                visible=choices.has_spotify_ids,
            )
            text_list = gr.Textbox(label="Plain list of names", lines=6, buttons=["copy"], interactive=False)
        exports = gr.State(None, delete_callback=remove_export_folder)
        outputs = [results, csv_button, m3u_button, text_list, uri_list, exports]

        def on_preset(name: str) -> Callable[..., tuple]:
            def run(genres, low, high, k, diverse_on, state, order="rank", folder=None) -> tuple:
                current, offered = engine_of(state)
                try:
                    filters = offered.filters(genres, low, high)
                    return shown(
                        current, offered, preset_search(current, name, int(k), filters, diverse_on), folder, order
                    )
                except MoodringError as error:
                    return failed(error, folder)

            return run

        for button, name in preset_buttons:
            button.click(on_preset(name), [*filter_inputs, exports], outputs, api_visibility="private")

        def on_browse(text, genres, low, high, k, diverse_on, state, order="rank", folder=None) -> tuple:
            current, offered = engine_of(state)
            try:
                filters = offered.filters(genres, low, high)
                return shown(
                    current, offered, filtered_search(current, text, filters, int(k), diverse_on), folder, order
                )
            except MoodringError as error:
                return failed(error, folder)

        browse_button.click(on_browse, [query, *filter_inputs, exports], outputs, api_visibility="private")
        query.submit(on_browse, [query, *filter_inputs, exports], outputs, api_visibility="private")

        def on_similar(title, genres, low, high, k, diverse_on, state, order="rank", folder=None) -> tuple:
            current, offered = engine_of(state)
            try:
                filters = offered.filters(genres, low, high)
                return shown(
                    current, offered, more_like_this(current, title, int(k), filters, diverse_on), folder, order
                )
            except MoodringError as error:
                return failed(error, folder)

        similar_button.click(on_similar, [seed, *filter_inputs, exports], outputs, api_visibility="private")

        def on_taste(titles, genres, low, high, k, diverse_on, state, order="rank", folder=None) -> tuple:
            current, offered = engine_of(state)
            try:
                profile = taste_profile(current, titles or [])
                response = recommend_for_taste(current, profile, int(k), offered.filters(genres, low, high), diverse_on)
            except MoodringError as error:
                return (escape_markdown(error), None, None, *failed(error, folder))
            table = pd.DataFrame(
                [
                    {
                        "feature": s.label,
                        "your average": s.mean,
                        "your spread (std)": s.std,
                        "in words": s.word,
                        "spread": s.spread,
                        "catalogue average": s.catalogue_mean,
                    }
                    for s in profile.features
                ]
            ).round(3)
            notes = (f"_{escape_markdown(note)}_" for note in profile.notes)
            summary = "\n\n".join([f"**{escape_markdown(profile.summary)}**", *notes])
            figure = radar_figure(current.catalogue, profile)
            chart = DescribedPlot.of(figure, radar_description(current.catalogue, profile), radar.format)
            return (summary, chart, table, *shown(current, offered, response, folder, order))

        taste_button.click(
            on_taste,
            [liked, *filter_inputs, exports],
            [taste_summary, radar, taste_table, *outputs],
            api_visibility="private",
        )

        def on_history(files, mode, genres, low, high, k, diverse_on, state, order="rank", folder=None) -> tuple:
            current, offered = engine_of(state)
            paths = _upload_paths(files)
            try:
                taste = import_history(current, paths)
                report = history_markdown(taste)
                if taste.profile is None:
                    error = QueryError("No play matched a song of this catalogue.")
                    return (None, report, "", None, *failed(error, folder))
                filters = offered.filters(genres, low, high)
                response = for_you(current, taste, mode, int(k), filters, diverse_on)
            except MoodringError as error:
                return (None, escape_markdown(error), "", None, *failed(error, folder))
            finally:
                for path in paths:
                    discard_upload(path)  # read once; a history is nobody else's to fetch from the cache
            profile = taste.profile
            figure = radar_figure(current.catalogue, profile, f"Your listening: {len(profile.rows)} songs")
            chart = DescribedPlot.of(figure, radar_description(current.catalogue, profile), history_radar.format)
            summary = f"**{escape_markdown(profile.summary)}**"
            return (tuple(taste.taste()), report, summary, chart, *shown(current, offered, response, folder, order))

        history_button.click(
            on_history,
            [history_files, history_mode, *filter_inputs, exports],
            [history_taste, history_report, history_summary, history_radar, *outputs],
            api_visibility="private",
        )

        def on_continue(songs, playlist, genres, low, high, k, diverse_on, state, order="rank", folder=None) -> tuple:
            current, offered = engine_of(state)
            try:
                filters = offered.filters(genres, low, high)
                response = continue_playlist(current, songs or [], playlist or "", int(k), filters, diverse_on)
                return shown(current, offered, response, folder, order)
            except MoodringError as error:
                return failed(error, folder)

        continue_button.click(
            on_continue, [playlist_songs, playlist_name, *filter_inputs, exports], outputs, api_visibility="private"
        )

        # Named JSON endpoints for gradio_client; their parameters come from the type hints, and each argument is
        # checked at the door (assistant/api_arguments.py), since a client may send any JSON value.
        def checked(k: object, genres: object, year_min: object, year_max: object, diverse: object) -> tuple:
            """``k, genres, year_min, year_max, diverse`` as the Discover handlers take them, or a QueryError."""
            return filter_arguments(k, genres, year_min, year_max, diverse, engine.settings.max_argument_items)

        def more_like_this_endpoint(
            title: str,
            k: int = 10,
            genres: list[str] | None = None,
            year_min: int | None = None,
            year_max: int | None = None,
            diverse: bool = True,
        ) -> dict:
            """Songs like one in the catalogue (fuzzy title; 'did_you_mean' when nothing is close enough)."""
            return _guarded(
                lambda: api_more_like_this(
                    engine, _text(title, "title"), *checked(k, genres, year_min, year_max, diverse)
                )
            )

        def preset_endpoint(
            preset: str,
            k: int = 10,
            genres: list[str] | None = None,
            year_min: int | None = None,
            year_max: int | None = None,
            diverse: bool = True,
        ) -> dict:
            """Songs for a mood preset: energetic, chill, happy, melancholic, party, focused, romantic, ..."""
            return _guarded(
                lambda: api_preset(engine, _text(preset, "preset"), *checked(k, genres, year_min, year_max, diverse))
            )

        def presets_endpoint() -> list:
            """Every mood preset with its query words and feature targets."""
            return [p.to_dict() for p in engine_presets(engine).values()]

        def genres_endpoint() -> list:
            """Every genre with its number of songs, most songs first."""
            return engine.catalogue.genre_counts()

        def years_endpoint() -> list:
            """Every release year with its number of songs."""
            return engine.catalogue.year_counts()

        def browse_endpoint(
            query: str = "",
            genres: list[str] | None = None,
            year_min: int | None = None,
            year_max: int | None = None,
            k: int = 10,
            diverse: bool = True,
        ) -> dict:
            """A request answered among the chosen genres and years; the most popular songs when it is empty."""

            def run() -> dict:
                count, names, low, high, spread = checked(k, genres, year_min, year_max, diverse)
                return api_browse(engine, _text(query, "query", ""), names, low, high, count, spread)

            return _guarded(run)

        def taste_profile_endpoint(
            titles: list[str],
            k: int = 10,
            genres: list[str] | None = None,
            year_min: int | None = None,
            year_max: int | None = None,
            diverse: bool = True,
        ) -> dict:
            """The taste behind liked titles (averages, spreads, words, genres, eras) and songs nearest it."""
            return _guarded(
                lambda: api_taste_profile(
                    engine,
                    _titles(titles, "titles", engine.settings.taste_max_liked),
                    *checked(k, genres, year_min, year_max, diverse),
                )
            )

        def continue_playlist_endpoint(
            songs: list[str] | None = None,
            playlist: str = "",
            k: int = 10,
            genres: list[str] | None = None,
            year_min: int | None = None,
            year_max: int | None = None,
            diverse: bool = True,
        ) -> dict:
            """Songs that continue a playlist: its songs (titles or Spotify track ids), or a catalogue playlist's
            name; each explained by the playlist's sound and the playlists the song shares with it."""

            def run() -> dict:
                wanted = names_argument(songs, "songs", engine.settings.continuation_max_seeds)
                name = _text(playlist, "playlist", "")
                return api_continue_playlist(engine, wanted, name, *checked(k, genres, year_min, year_max, diverse))

            return _guarded(run)

        def playlists_endpoint() -> list:
            """The catalogue's playlists with their number of songs (empty when it has no membership)."""
            membership = engine.catalogue.membership
            if membership is None:
                return []
            sizes = membership.matrix.getnnz(axis=1)
            return [
                {"playlist_id": pid, "name": name, "songs": int(size)}
                for pid, name, size in zip(membership.playlist_ids, membership.playlist_names, sizes, strict=True)
            ]

        gr.api(continue_playlist_endpoint, api_name="continue_playlist")
        gr.api(playlists_endpoint, api_name="playlists")
        gr.api(more_like_this_endpoint, api_name="more_like_this")
        gr.api(preset_endpoint, api_name="preset")
        gr.api(presets_endpoint, api_name="presets")
        gr.api(genres_endpoint, api_name="genres")
        gr.api(years_endpoint, api_name="years")
        gr.api(browse_endpoint, api_name="browse")
        gr.api(taste_profile_endpoint, api_name="taste_profile")

        # /export returns a file, so it needs components: hidden ones, reachable only through the API.
        with gr.Group(visible=False):
            export_format = gr.Textbox(value="csv", label="format", info=" / ".join(FORMATS))
            export_results = gr.JSON(label="results")
            export_output = gr.File(label="playlist")
            export_trigger = gr.Button("export")

        def export_endpoint(fmt: str, results: object, folder: object = None) -> tuple[str, object]:
            try:
                fmt = normalize_format(_text(fmt, "format", "csv"))
                folder = session_folder(folder)
                return export_file(engine, fmt, clean_json(results, "results"), folder), folder
            except MoodringError as error:
                raise gr.Error(str(error), print_exception=False) from None

        export_trigger.click(
            export_endpoint,
            [export_format, export_results, exports],
            [export_output, exports],
            api_name="export",
            api_description="Results (a list, or a response with 'results') as a csv, m3u or txt file.",
        )

        # /history takes files, so it needs components too.
        with gr.Group(visible=False):
            history_upload = gr.File(file_count="multiple", label="files")
            history_api_mode = gr.Textbox(value="discover", label="mode", info="familiar / discover")
            # any JSON (count_argument checks it); the default as JSON text, which gr.JSON takes without a warning
            history_api_k = gr.JSON(value=json.dumps(engine.settings.top_k), label="k")
            history_output = gr.JSON(label="history")
            history_trigger = gr.Button("history")

        def history_endpoint(files: object, mode: object, k: object) -> dict:
            paths = [
                str(getattr(f, "name", f)) for f in (files if isinstance(files, list) else [files] if files else [])
            ]
            try:
                return api_history(engine, paths, _text(mode, "mode", "discover"), count_argument(k))
            except MoodringError as error:
                raise gr.Error(str(error), print_exception=False) from None
            finally:
                for path in paths:
                    discard_upload(path)

        history_trigger.click(
            history_endpoint,
            [history_upload, history_api_mode, history_api_k],
            history_output,
            api_name="history",
            api_description="Listening-history files (Spotify JSON, Last.fm or plain CSV): what matched and why not, "
            "the taste as song ids with weights, its profile, and songs for you (mode familiar or discover).",
        )

    def follow_catalogue(state: object) -> tuple:
        """New choices for the session's catalogue: genres, years, songs and counts; the filters reset."""
        _, offered = engine_of(state)
        first, last = offered.first_year, offered.last_year
        return (
            gr.Dropdown(choices=offered.genres, value=[]),
            gr.Slider(minimum=first, maximum=last, value=first),
            gr.Slider(minimum=first, maximum=last, value=last),
            gr.Dropdown(choices=offered.songs, value=None),
            gr.Dropdown(choices=offered.songs, value=[]),
            offered.genre_table,
            offered.year_table,
            "",
            offered.export_note,
            gr.DownloadButton(value=None, visible=offered.playable),
            gr.Textbox(value="", visible=offered.has_spotify_ids),
            "",
            gr.Dropdown(choices=offered.songs, value=[]),
            gr.Dropdown(choices=list(offered.playlists), value=None, visible=bool(offered.playlists)),
            "" if offered.playlists else NO_MEMBERSHIP,
        )

    return DiscoverTab(
        [
            *(genre_box, year_low, year_high, seed, liked, genre_table, year_table, results),
            *(export_note, m3u_button, uri_list, text_list),
            *(playlist_songs, playlist_name, playlist_note),
        ],
        follow_catalogue,
        liked,
        from_profile,
        from_profile_note,
        history_taste,
        history_to_profile,
        history_to_profile_note,
    )


def history_markdown(taste: ListeningTaste) -> str:
    """What the import read and matched, for the page (every name escaped)."""
    read = "; ".join(
        f"{escape_markdown(f['file'])}: {f['plays']:,} plays ({escape_markdown(f['format'])})"
        for f in taste.history.files
    )
    lines = [f"Read {read}."] + [f"- {escape_markdown(error)}" for error in taste.history.errors]
    return "\n".join([*lines, "", taste.matched.report.as_markdown()])


def _upload_paths(files: object) -> list[str]:
    """The paths of uploaded files (Gradio gives paths, or objects with a ``name``); nothing for anything else."""
    items = files if isinstance(files, list | tuple) else [files] if files else []
    return [str(getattr(item, "name", item)) for item in items if isinstance(item, str) or hasattr(item, "name")]


def _guarded(call: Callable[[], object]) -> dict:
    """Check the arguments and run a JSON handler, turning Moodring's errors into a gr.Error (one clear sentence)."""
    try:
        return call()  # type: ignore[return-value]
    except MoodringError as error:
        raise gr.Error(str(error), print_exception=False) from None


def _text(value: object, name: str, default: str | None = None) -> str:
    return text_argument(value, name, default, max_chars=MAX_QUERY_CHARS)


def _titles(value: object, name: str, most: int) -> list[str]:
    if value is None:
        raise QueryError(f"{name} must be a list of song titles, like ['Shape of You'].")
    return names_argument(value, name, max_items=most)
