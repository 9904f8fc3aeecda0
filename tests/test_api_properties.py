"""Property-based: every named endpoint of a running app, given arbitrary JSON for its arguments through
gradio_client, answers or refuses with a sentence; never Gradio's generic error, never a dropped connection."""

from __future__ import annotations

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

GENERIC_FAILURE = "has not enabled verbose error reporting"
PARAMETERS = {
    "/chat": ("message", "history", "k"),
    "/search": (
        "query", "k", "year_min", "year_max", "genres", "exclude_genres", "artists", "exclude_artists", "relax",
    ),
    "/playlist": ("query", "minutes", "order", "clean", "all_versions", "k"),
    "/more_like_this": ("title", "k", "genres", "year_min", "year_max", "diverse"),
    "/preset": ("preset", "k", "genres", "year_min", "year_max", "diverse"),
    "/browse": ("query", "genres", "year_min", "year_max", "k", "diverse"),
    "/taste_profile": ("titles", "k", "genres", "year_min", "year_max", "diverse"),
    "/export": ("fmt", "results"),
    "/continue_playlist": ("songs", "playlist", "k", "genres", "year_min", "year_max", "diverse"),
    "/history": ("files", "mode", "k"),
    "/feedback": ("song", "verdict", "profile_id"),
    "/profile": ("profile_id",),
    "/personal_blend": ("blend", "profile_id"),
    "/forget_me": ("profile_id",),
}  # fmt: skip
"""Each endpoint's parameters, the required ones first."""
REQUIRED = {"/export": 2, "/history": 3, "/profile": 0, "/forget_me": 0, "/personal_blend": 0}
"""How many leading parameters have no default (one unless said here)."""
NO_ARGUMENTS = ("/presets", "/genres", "/years", "/playlists")

PLAUSIBLE = st.sampled_from(
    ["10", "2015", "abc", "", " ", "pop", "dance pop", "Adele", "Hello", "chill", "csv", "m3u", "true", "no", "-1",
     "1e9", "NaN", "happy songs", "why #1", "show more", "<b>x</b>", "$$x$$", "=1+1", [], {}, [[]], ["pop"],
     [{"role": "user", "content": "sad songs"}], [{"title": "Hello", "artist": "Adele"}],
     [{"title": "Hello", "rank": "first", "year": "soon"}], 0, -5, 2.5, 10**20]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40)
)
"""JSON scalars (gradio_client cannot send NaN or infinity; tests/test_hostile.py sends them raw)."""
JSON = st.one_of(
    PLAUSIBLE,
    st.recursive(
        SCALARS,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=12,
    ),
)

RESULT_LISTS = st.lists(
    st.dictionaries(st.sampled_from(["title", "artist", "rank", "year", "score", "song_id", "genre"]), JSON),
    max_size=3,
)
"""Lists shaped like search results, with any JSON in their fields."""
MESSAGE_LISTS = st.lists(
    st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant"]) | JSON, "content": JSON}) | JSON,
    max_size=4,
)
"""Lists shaped like chat histories, with any JSON in their messages."""
STRATEGIES = {
    "results": st.one_of(JSON, RESULT_LISTS),
    "history": st.one_of(JSON, MESSAGE_LISTS),
    "files": st.none() | st.just([]),  # files travel as uploads; tests/test_continuation.py sends real ones
}


@pytest.fixture(scope="module")
def client(app_url):
    """One gradio_client session for every example, once PARAMETERS is checked to cover every named endpoint."""
    client = Client(app_url, verbose=False, download_files=False)
    named = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert set(named) == set(PARAMETERS) | set(NO_ARGUMENTS)  # those take nothing that could be wrong
    for api_name, names in PARAMETERS.items():
        assert tuple(p["parameter_name"] for p in named[api_name]["parameters"]) == names
    return client


def _answered(client: Client, api_name: str, arguments: dict[str, object]) -> None:
    """Call the endpoint; a result or an AppError with a sentence passes, anything else fails the example."""
    try:
        client.predict(**arguments, api_name=api_name)
    except AppError as error:
        assert str(error).strip() and GENERIC_FAILURE not in str(error), (api_name, arguments, str(error))


@pytest.mark.parametrize("api_name", list(PARAMETERS))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_endpoint_answers_any_json(client, api_name, data):
    names = PARAMETERS[api_name]
    required, optional = names[: REQUIRED.get(api_name, 1)], names[REQUIRED.get(api_name, 1) :]
    chosen = data.draw(st.lists(st.sampled_from(optional), unique=True)) if optional else []
    arguments = {name: data.draw(STRATEGIES.get(name, JSON), label=name) for name in (*required, *chosen)}
    _answered(client, api_name, arguments)
