"""A person's view: headless Chromium (Debian's package, driven by Playwright) chats with the app.

The page may only reach the app itself; every other request is refused, so nothing leaves the machine. Screenshots
land in ``test-artifacts/`` (``chat.png``; ``phone.png``, ``desktop.png`` and their ``-taste`` views). At a phone's
size and a desktop's, axe-core (bundled in ``axe-playwright-python``) checks the page as it opens, with an answer
and with the taste chart, and no serious or critical violation may be left. Without Chromium the tests fail under
CI (``.ci/run`` installs it) and are skipped elsewhere.
"""

from __future__ import annotations

import json
import os
import re
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
SIZES = {"phone": (390, 844), "desktop": (1400, 900)}
"""Viewports: a common phone (CSS pixels) and a laptop window."""
MIN_CONTRAST = 4.5
"""WCAG AA for normal text."""


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


def test_a_like_click_changes_the_next_answer_and_is_remembered(page, refused):
    box = page.locator("#message textarea")
    box.fill("give me 5 songs for the weekend")
    box.press("Enter")
    choice = page.locator("#rate-song label").nth(1)  # the second song of the answer, shown with the answer
    choice.wait_for(timeout=REPLY_WAIT_MS)
    title = choice.inner_text().removeprefix("#2 ").rsplit(" - ", 1)[0]
    choice.click()
    page.get_by_role("button", name="👍 Like").click()
    page.locator("#chat .bot", has_text="Noted: you like").first.wait_for(timeout=REPLY_WAIT_MS)

    box.fill("show more")
    box.press("Enter")
    more = page.locator("#chat .bot", has_text="More of the same").first
    more.wait_for(timeout=REPLY_WAIT_MS)
    assert f"because you liked {title}" in more.inner_text()

    page.reload()  # the same browser comes back: its profile is recognised
    page.get_by_role("tab", name="Profile").click()
    summary = page.locator("#profile-summary", has_text="Liked (1)")
    summary.wait_for(timeout=REPLY_WAIT_MS)
    assert title in summary.inner_text()

    page.get_by_role("tab", name="Discover").click()  # the taste profile starts from the saved like
    page.get_by_role("tab", name="Taste profile").click()
    start = page.get_by_role("button", name="Start from my profile's likes")
    start.click()
    note = page.locator("#taste-from-profile-note", has_text="Started from your profile's 1 liked song")
    note.wait_for(timeout=REPLY_WAIT_MS)
    page.locator("#taste-liked", has_text=title).wait_for(timeout=REPLY_WAIT_MS)

    page.get_by_role("tab", name="Profile", exact=True).click()
    page.get_by_role("button", name="Forget me").click()
    page.locator("#profile-summary", has_text="Forgotten").wait_for(timeout=REPLY_WAIT_MS)
    page.get_by_role("tab", name="Discover").click()
    start.click()
    page.locator("#taste-from-profile-note", has_text="Your profile has no liked songs yet").wait_for(
        timeout=REPLY_WAIT_MS
    )
    assert refused == [], f"the page tried to reach outside the app: {refused}"


def test_a_playlist_continues_in_the_chat_and_a_history_reads_in_discover(page, refused, tmp_path):
    box = page.locator("#message textarea")
    box.fill("continue my playlist: Bad Romance, Titanium, Hello")
    box.press("Enter")
    reply = page.locator("#chat .bot", has_text="songs that continue your 3 songs").first
    reply.wait_for(timeout=REPLY_WAIT_MS)
    assert "fits the playlist" in reply.inner_text()

    plays = tmp_path / "StreamingHistory_music_0.json"
    plays.write_text(
        json.dumps(
            [
                {"endTime": "2026-11-01 20:00", "artistName": "Adele", "trackName": "Hello", "msPlayed": 295000},
                {
                    "endTime": "2026-11-02 20:00",
                    "artistName": "Adele",
                    "trackName": "Someone Like You",
                    "msPlayed": 280000,
                },
                {
                    "endTime": "2026-11-03 20:00",
                    "artistName": "Nobody",
                    "trackName": "Not A Song Here",
                    "msPlayed": 200000,
                },
            ]
        ),
        encoding="utf-8",
    )
    page.get_by_role("tab", name="Discover").click()
    page.get_by_role("tab", name="Taste profile").click()
    page.get_by_text("Or from your listening history").click()
    page.locator("#discover-history input[type=file]").set_input_files(str(plays))
    page.get_by_role("button", name="Read my history").click()
    report = page.locator("#history-report", has_text="matched")
    report.wait_for(timeout=REPLY_WAIT_MS)
    assert "Not A Song Here" in report.inner_text()  # what did not match, and why
    page.locator("#discover-results", has_text="Looking for").wait_for(timeout=REPLY_WAIT_MS)

    page.get_by_role("button", name="Add these songs to my profile's likes").click()  # the history into the profile
    added = page.locator("#history-to-profile-note", has_text="Added the 2 songs you played most")
    added.wait_for(timeout=REPLY_WAIT_MS)
    page.get_by_role("tab", name="Profile", exact=True).click()
    summary = page.locator("#profile-summary", has_text="Liked (2)")
    summary.wait_for(timeout=REPLY_WAIT_MS)
    assert "Someone Like You" in summary.inner_text() and "Hello" in summary.inner_text()
    assert refused == [], f"the page tried to reach outside the app: {refused}"


def test_example_upload_error_and_start_over_in_a_browser(page, refused, tmp_path):
    page.get_by_text("songs for a rainy heartbreak").click()
    page.locator("#chat .bot", has_text="Looking for").first.wait_for(timeout=REPLY_WAIT_MS)
    assert "heartbreak" in page.locator("#chat .bot").first.inner_text()

    bad = tmp_path / "bad.csv"
    bad.write_text("label,energy\nx,0.1\n", encoding="utf-8")
    page.locator("#catalogue input[type=file]").set_input_files(str(bad))
    error = page.locator("#chat [data-testid=bot]", has_text="I could not use bad.csv")
    error.first.wait_for(timeout=REPLY_WAIT_MS)
    assert "missing required column(s): title, artist" in error.first.inner_text()
    assert "Looking for" not in error.first.inner_text()  # its own message, not added to the answer's bubble
    answer = page.locator("#chat [data-testid=bot]", has_text="Looking for")
    assert answer.count() == 1 and "could not use" not in answer.first.inner_text()
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


# ---- phones, keyboards and screen readers ----------------------------------------------------------------------


def _serious_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [
        f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


_COLOURS_OF = """([element, pseudo]) => {
    const colour = getComputedStyle(element, pseudo).color;
    let node = element, background = "rgba(0, 0, 0, 0)";
    while (node && /rgba\\(.*, 0\\)$|transparent/.test(background)) {
        background = getComputedStyle(node).backgroundColor;
        node = node.parentElement;
    }
    return [colour, /rgba\\(.*, 0\\)$|transparent/.test(background) ? "rgb(255, 255, 255)" : background];
}"""


def _contrast(page, locator, pseudo: str | None = None) -> float:
    """WCAG contrast ratio of an element's text (or its ``::placeholder``) against the background behind it."""
    colour, background = locator.evaluate("(element, pseudo) => (" + _COLOURS_OF + ")([element, pseudo])", pseudo)

    def luminance(css: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"[\d.]+", css)[:3]]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(colour), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.fixture(params=sorted(SIZES))
def sized_page(request, browser, served, refused):
    """A fresh page at a phone's or a desktop's size that may reach only the app; yields (size name, page)."""
    width, height = SIZES[request.param]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.route("**/*", lambda route: _only_the_app(route, served, refused))
    page.goto(served)
    page.locator("#message textarea").wait_for(timeout=REPLY_WAIT_MS)
    page.wait_for_timeout(500)  # let the layout settle before measuring
    yield request.param, page
    context.close()


def _only_the_app(route, served: str, refused: list[str]) -> None:
    if route.request.url.startswith(served):
        route.continue_()
    else:
        refused.append(route.request.url)
        route.abort()


def test_the_page_works_on_a_phone_and_a_desktop(sized_page, refused):
    size, page = sized_page
    width, height = SIZES[size]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{size}.png"))

    # Where things are as the page opens.
    box = page.get_by_role("textbox", name="Message to Moodring")  # labelled, not "Textbox"
    assert box.bounding_box()["y"] + box.bounding_box()["height"] <= height, "the message box is below the fold"
    send = page.get_by_role("button", name="Send")
    assert send.is_visible()
    if size == "desktop":
        examples = page.locator("#examples button").all()
        assert len(examples) == 5
        for example in examples:
            bottom = example.bounding_box()["y"] + example.bounding_box()["height"]
            assert bottom <= height, f"the example '{example.inner_text()}' is below the fold"
    assert _serious_violations(page) == []

    # A keyboard user sees where they type; the text people read meets 4.5:1.
    box.focus()
    ring = box.evaluate("e => [getComputedStyle(e).outlineStyle, parseFloat(getComputedStyle(e).outlineWidth)]")
    assert ring[0] != "none" and ring[1] >= 2, f"no visible focus ring: {ring}"
    assert _contrast(page, box, "::placeholder") >= MIN_CONTRAST
    assert _contrast(page, page.get_by_role("tab", name="Chat")) >= MIN_CONTRAST  # the selected (orange) tab

    # An answer, read by a screen reader as its text.
    box.fill("give me 3 calm acoustic songs")
    box.press("Enter")
    answer = page.locator("#chat [data-testid=bot]", has_text="Looking for").first
    answer.wait_for(timeout=REPLY_WAIT_MS)
    page.wait_for_timeout(300)
    label = answer.get_attribute("aria-label")
    assert label.startswith("Moodring: Looking for:") and "**" not in label  # the text, not its Markdown
    assert _serious_violations(page) == []

    # Discover: every sub-tab in sight, and a readable chart with words for those who cannot see it.
    page.get_by_role("tab", name="Discover").click()
    for name in ("Moods", "More like this", "Taste profile"):
        assert page.get_by_role("tab", name=name).is_visible(), f"the {name} tab is hidden on the {size}"
    page.get_by_role("tab", name="Taste profile").click()
    liked = page.get_by_label("Songs you like")
    for title in ("Jar of Hearts", "Someone Like You"):
        liked.click()
        liked.fill(title)
        page.get_by_role("option", name=re.compile(f"^{title} - ")).first.click()
    describe = page.get_by_role("button", name="Describe my taste")
    assert _contrast(page, describe) >= MIN_CONTRAST  # white on the primary (orange) button
    describe.click()
    chart = page.locator("#taste-radar img")
    chart.wait_for(timeout=REPLY_WAIT_MS)
    assert chart.bounding_box()["width"] >= min(300, width - 60), "the chart is too small to read"
    alt = chart.get_attribute("alt")
    assert alt.startswith("Taste profile of 2 songs against the catalogue average: tempo ") and "undefined" not in alt
    assert not page.locator("#taste-radar [data-testid=block-label]").is_visible()  # nothing over the chart's title
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / f"{size}-taste.png"))
    assert _serious_violations(page) == []

    # The export says what this catalogue can give: names, not a playlist that would play nothing.
    page.get_by_text("Export these results").click()
    assert "not a playable playlist" in page.locator("#export-note").inner_text()
    assert not page.get_by_role("button", name="Download M3U playlist").is_visible()
    assert page.get_by_role("button", name="Download CSV").is_visible()
    assert refused == [], f"the page tried to reach outside the app: {refused}"


def test_an_upload_shows_progress_and_the_same_file_again_answers_at_once(browser, served, bundled_engine, tmp_path):
    from bench.synthetic import write_synthetic_catalogue

    upload = write_synthetic_catalogue(tmp_path / "progress.csv", 160, seed=1515)  # five batches to embed
    pages = []
    for _ in range(2):  # two people: two contexts, two Gradio sessions
        context = browser.new_context(viewport={"width": 1280, "height": 1400})
        page = context.new_page()
        page.goto(served)
        pages.append((context, page))
    first, second = pages[0][1], pages[1][1]
    first.locator("#catalogue input[type=file]").set_input_files(str(upload))
    first.get_by_text(re.compile(r"Embedding your catalogue: (estimating the time left|about .+ left)")).first.wait_for(
        timeout=REPLY_WAIT_MS
    )
    first.locator("#chat .bot", has_text="Now searching").first.wait_for(timeout=REPLY_WAIT_MS)
    calls = bundled_engine.encoder.model_calls
    second.locator("#catalogue input[type=file]").set_input_files(str(upload))
    second.locator("#chat .bot", has_text="Now searching").first.wait_for(timeout=REPLY_WAIT_MS)
    assert bundled_engine.encoder.model_calls == calls  # the cached index: nothing embedded
    assert "160 songs" in second.locator("#chat .bot").first.inner_text()
    for context, _ in pages:
        context.close()
