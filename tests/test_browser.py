"""A person's view: headless Chromium (Debian's package, driven by Playwright) chats with the app.

The page may only reach the app itself; every other request is refused, so nothing leaves the machine. The
screenshot lands in ``test-artifacts/chat.png``. Without Chromium the test fails under CI (``.ci/run`` installs
it) and is skipped elsewhere.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

import app as moodring_app
from index_builder.settings import PROJECT_ROOT
from tests.helpers import SPOTIFY_HEADER, SPOTIFY_ROWS, free_port, write_csv

CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
REPLY_WAIT_MS = 120_000


@pytest.fixture(scope="module")
def chromium_path() -> Path:
    if not CHROMIUM.is_file():
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="module")
def served(bundled_engine):
    """The app's URL: a free localhost port, in this process, over the session's already built engine."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = moodring_app.create_app(bundled_engine)
    url = moodring_app.launch(app, port=port, block=False)
    yield url.rstrip("/")
    app.close()


@pytest.fixture(scope="module")
def browser(chromium_path):
    """Headless Debian Chromium under Playwright (imported here: without Chromium the module only skips)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def refused() -> list[str]:
    """Addresses outside the app that the page tried to reach (each test checks it stays empty)."""
    return []


@pytest.fixture
def page(browser, served, refused):
    """A fresh page (a new Gradio session) that may reach only the app."""
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    page = context.new_page()

    def local_only(route) -> None:
        if route.request.url.startswith(served):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", local_only)
    page.goto(served)
    yield page
    context.close()


def test_chat_in_a_browser_shows_songs(page, refused):
    box = page.locator("#message textarea")
    box.fill("give me 5 upbeat workout songs, nothing before 2015")
    box.press("Enter")
    page.locator("#chat .bot", has_text="Looking for").first.wait_for(timeout=REPLY_WAIT_MS)
    first = page.locator("#chat .bot").first.inner_text()
    assert "high energy, workout; 2015 or later" in first
    assert first.count("matches:") == 5

    box.fill("no Kesha, only after 2016")
    box.press("Enter")
    page.locator("#chat .bot", has_text="excluding Kesha").first.wait_for(timeout=REPLY_WAIT_MS)
    page.wait_for_timeout(500)  # let the new message finish rendering before the picture
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)
    last = page.locator("#chat .bot", has_text="excluding Kesha").first.inner_text()
    assert "2017 or later" in last and last.count("matches:") == 5
    assert "Kesha" not in last.split("Changed the last request.")[-1]
    assert (ARTIFACTS / "chat.png").stat().st_size > 10_000
    assert refused == [], f"the page tried to reach outside the app: {refused}"


def test_example_upload_error_and_start_over_in_a_browser(page, refused, tmp_path):
    page.get_by_text("songs for a rainy heartbreak").click()
    page.locator("#chat .bot", has_text="Looking for").first.wait_for(timeout=REPLY_WAIT_MS)
    assert "heartbreak" in page.locator("#chat .bot").first.inner_text()

    bad = tmp_path / "bad.csv"
    bad.write_text("label,energy\nx,0.1\n", encoding="utf-8")
    page.locator("#catalogue input[type=file]").set_input_files(str(bad))
    error = page.locator("#chat .bot", has_text="I could not use bad.csv")
    error.first.wait_for(timeout=REPLY_WAIT_MS)
    assert "missing required column(s): title, artist" in error.first.inner_text()
    assert "Traceback" not in page.locator("#chat").inner_text()

    page.get_by_role("button", name="Start over").click()
    page.wait_for_function("document.querySelectorAll('#chat .bot').length === 0", timeout=REPLY_WAIT_MS)
    assert refused == [], f"the page tried to reach outside the app: {refused}"


def test_discover_tab_follows_an_uploaded_catalogue(page, refused, tmp_path):
    upload = write_csv(tmp_path / "mine.csv", SPOTIFY_HEADER, SPOTIFY_ROWS)
    page.locator("#catalogue input[type=file]").set_input_files(str(upload))
    page.locator("#chat .bot", has_text="Now searching").first.wait_for(timeout=REPLY_WAIT_MS)

    page.get_by_role("tab", name="Discover").click()
    page.get_by_label("Request (optional)").fill("happy songs")
    page.get_by_role("button", name="Search with filters").click()
    results = page.locator("#discover-results")
    results.get_by_text("Block Party").wait_for(timeout=REPLY_WAIT_MS)
    listed = results.inner_text()
    assert all(title in listed for title in ("Block Party", "Gym Rush", "Sunny Drive"))
    assert "Shape of You" not in listed and "edm" in listed  # the upload's songs, not the bundled ones
    page.get_by_label("Genres (any of)").click()
    assert page.get_by_role("option", name="folk (1)").is_visible()  # the choices follow the upload too
    assert refused == [], f"the page tried to reach outside the app: {refused}"


@pytest.fixture(scope="module")
def hostile_served(hostile_engine):
    """The app over the catalogue whose titles, artists and genres carry markup, formulas and links."""
    app = moodring_app.create_app(hostile_engine)
    url = moodring_app.launch(app, port=free_port(), block=False)
    yield url.rstrip("/")
    app.close()


def test_catalogue_markup_formulas_and_links_show_as_text(browser, hostile_served):
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    page = _local_only(context.new_page(), hostile_served)
    page.goto(hostile_served)
    box = page.locator("#message textarea")
    box.fill("songs for a road trip")
    box.press("Enter")
    page.locator("#chat .bot", has_text="Looking for").first.wait_for(timeout=REPLY_WAIT_MS)
    box.fill(r"why $$\color{red}{\Huge Y}$$ https://evil.example www.evil.example a@b.co")
    box.press("Enter")
    page.locator("#chat .bot", has_text="I did not show").first.wait_for(timeout=REPLY_WAIT_MS)
    page.wait_for_timeout(1000)  # KaTeX renders after the Markdown
    messages = page.locator("#chat .bot .message-content")
    for tag in (".katex", "a", "svg", "rect", "img"):
        assert messages.locator(tag).count() == 0, tag
    listing = messages.first.inner_text()
    assert r"$$\color{red}{\Huge X}$$" in listing and "Line one 2. injected item - another" in listing
    assert "Visit https://evil.example/path or www.evil.example now" in listing
    assert "https://evil.example www.evil.example a@b.co" in messages.last.inner_text()
    context.close()


def test_an_upload_is_not_readable_by_another_user(browser, bundled_engine, tmp_path):
    import httpx

    from tests.helpers import spotify_catalogue

    app = moodring_app.create_app(bundled_engine)
    url = moodring_app.launch(app, port=free_port(), auth=("moodring", "s3cret"), block=False).rstrip("/")
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 1400})
        assert context.request.post(f"{url}/login", form={"username": "moodring", "password": "s3cret"}).ok
        page = _local_only(context.new_page(), url)
        page.goto(url)
        with page.expect_response(lambda r: r.request.method == "POST" and "/gradio_api/upload" in r.url) as uploaded:
            page.locator("#catalogue input[type=file]").set_input_files(str(spotify_catalogue(tmp_path, "mine.csv")))
        path = uploaded.value.json()[0]
        page.locator("#chat .bot", has_text="Now searching mine.csv").first.wait_for(timeout=REPLY_WAIT_MS)

        with httpx.Client(base_url=url, timeout=30) as other:  # another person, logged in with their own session
            assert other.post("/login", data={"username": "moodring", "password": "s3cret"}).status_code == 200
            assert other.get(f"/gradio_api/file={path}").status_code in (403, 404)
        assert not Path(path).exists()

        box = page.locator("#message textarea")  # the uploader still searches their own catalogue
        box.fill("quiet acoustic songs")
        box.press("Enter")
        page.locator("#chat .bot", has_text="Quiet Rain").first.wait_for(timeout=REPLY_WAIT_MS)
        context.close()
    finally:
        app.close()


def _local_only(page, base: str):
    """``page``, allowed to reach only the app at ``base``."""
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base) else route.abort())
    return page
