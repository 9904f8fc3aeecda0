"""One escaping function for everything untrusted that reaches Markdown: it shows as written and does nothing.

The catalogue in tests/helpers.py (HOSTILE_ROWS) carries markup, formulas, links and line breaks in its titles,
artists and genres; the chat and the Discover tab must show them as text."""

from __future__ import annotations

import html
import re

import gradio as gr
import pytest

from assistant.chat import ChatSession, chat
from assistant.discovery_ui import add_discovery_tabs
from assistant.escaping import escape_markdown
from tests.helpers import BROKEN_TITLE, FORMULA_TITLE, HOSTILE_ROWS, LINK_TITLE, LISTED, MATH_TITLE, SVG_GENRE


def shown(markdown: str) -> str:
    """What a reader sees of escaped text: backslash escapes and entities undone."""
    return html.unescape(re.sub(r"\\(.)", r"\1", markdown))


@pytest.mark.parametrize(
    ("text", "forbidden"),
    [
        (SVG_GENRE, ["<", ">"]),
        ("<b>*Loud*</b> [x](y) `code` # heading | ~strike~ _it_", ["<"]),
        (MATH_TITLE, ["$"]),
        ("why $\\frac{1}{2}$ and $$x$$", ["$"]),
        (LINK_TITLE, ["://", "www."]),
        ("HTTP://EVIL.EXAMPLE and ftp://x.example", ["://"]),
        ("mail a@b.co", ["@"]),
        (BROKEN_TITLE, ["\n", "\r"]),
        ("a\u2028b\u2029c\x0bd\x0ce\x85f", ["\u2028", "\u2029", "\x0b", "\x0c", "\x85"]),
        ("- list item", []),
        ("2. numbered", []),
        ("=1+1", []),
        ("lone \ud800 surrogate", ["\ud800"]),
        (FORMULA_TITLE, ["://"]),
    ],
)
def test_untrusted_text_renders_as_written(text, forbidden):
    escaped = escape_markdown(text)
    for token in forbidden:
        assert token not in escaped, (token, escaped)
    assert not re.search(r"(?<!\\)[*\[\]`_|~]", escaped), escaped  # every formatting character escaped
    assert not re.match(r"^\s*(?:[-+=>#]|\d+[.)])", escaped), escaped  # never starts a list, heading or quote
    expected = " ".join(re.split(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+", text)).replace("\ud800", "\ufffd")
    assert shown(escaped) == expected


def test_plain_text_is_unchanged():
    assert escape_markdown("Bad Romance by Lady Gaga (dance pop, 2010): 120 BPM, 3:45") == (
        "Bad Romance by Lady Gaga (dance pop, 2010): 120 BPM, 3:45"
    )


@pytest.fixture(scope="module")
def discover(hostile_engine):
    """The Discover tab over the hostile catalogue (not served: its handlers are called directly)."""
    with gr.Blocks(analytics_enabled=False) as demo:
        add_discovery_tabs(hostile_engine, gr.State(ChatSession()))
    return demo


def _handler(app: gr.Blocks, name: str):
    return next(block.fn for block in app.fns.values() if getattr(block.fn, "__name__", "") == name)


def test_taste_summary_shows_catalogue_genres_as_text(discover):
    taste = _handler(discover, "on_taste")
    summary, _, _, markdown, *_ = taste(["Quiet Rain", "Math Crew"], None, 2012, 2019, 3, True, None)
    assert "Top genres" in summary
    for text in (summary, markdown):
        assert "<svg" not in text and "<a " not in text and "$$" not in text, text
    assert "&lt;svg" in summary


def test_discover_errors_show_did_you_mean_as_text(discover):
    similar = _handler(discover, "on_similar")
    message, *_ = similar(r"$$\color{blue}{\Huge Z}$$", None, 2012, 2019, 3, True, None)
    assert "Did you mean" in message and "Math Crew" in message
    assert "$" not in message


def test_chat_lists_hostile_songs_one_line_each(hostile_engine):
    reply, _ = chat("songs for a road trip", None, ChatSession(), hostile_engine, len(HOSTILE_ROWS))
    listed = [line for line in reply.splitlines() if LISTED.match(line)]
    assert len(listed) == len(HOSTILE_ROWS), reply
    assert any("**Line one 2. injected item - another**" in line for line in listed)
    for token in ("<svg", "$$", "://", "www.", "@"):
        assert token not in reply, token
    why, _ = chat(f"why {MATH_TITLE} https://evil.example", None, ChatSession(), hostile_engine)
    assert "$" not in why and "://" not in why
