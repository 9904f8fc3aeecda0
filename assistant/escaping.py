"""One way to put untrusted text (catalogue fields, user input, errors that echo them) into Markdown or HTML.

Gradio renders Markdown with GitHub extensions, HTML and KaTeX (``$$...$$``) in the chat and on the Discover tab,
so a song title can otherwise draw an ``<svg>`` with a ``javascript:`` link, a formula, a heading, a link or a
new list item. ``escape_markdown`` makes such text show exactly as written, on one line.
"""

from __future__ import annotations

import html
import re

_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "$": "&#36;", "@": "&#64;"}
"""``$`` as an entity: the rendered page never holds ``$$`` in its source, so KaTeX is never started on it.
``@`` as an entity: no bare e-mail address becomes a ``mailto:`` link."""
_BACKSLASHED = frozenset("\\`*_[]#|~")
_SPECIAL = re.compile("[" + re.escape("".join(_ENTITIES) + "".join(_BACKSLASHED)) + "]")
_AUTOLINKS = re.compile(r"(?i)(?<=[a-z0-9])(:)(?=//)|(?<![\w.])(www)(\.)")
"""``https://`` and ``www.``, which GitHub Markdown turns into links, broken with an entity that reads the same."""
_LINE_START = re.compile(r"^(\s*)(?:([-+=])|(\d+)([.)]))")
"""A list item, setext underline or numbered item if the text ever starts a line."""


def escape_markdown(text: object) -> str:
    """``text`` as Markdown that renders exactly as written: no HTML, formatting, formula, link or line break."""
    plain = _SURROGATES.sub("\ufffd", str(text))
    plain = _CONTROL.sub("", _LINE_BREAKS.sub(" ", plain))
    escaped = _SPECIAL.sub(lambda m: _ENTITIES.get(m.group()) or f"\\{m.group()}", plain)
    escaped = _AUTOLINKS.sub(lambda m: "&#58;" if m.group(1) else f"{m.group(2)}&#46;", escaped)
    return _LINE_START.sub(
        lambda m: m.group(1) + (f"\\{m.group(2)}" if m.group(2) else f"{m.group(3)}\\{m.group(4)}"), escaped
    )


_EMPHASIS = re.compile(r"(?<!\\)\*")
_BACKSLASH_ESCAPE = re.compile(r"\\(.)")


def plain_text(markdown: str) -> str:
    """A short reply written in Markdown (``escape_markdown``'d names, ``*emphasis*``) as plain text, for JSON."""
    return html.unescape(_BACKSLASH_ESCAPE.sub(r"\1", _EMPHASIS.sub("", markdown)))
