"""Repair text where Windows-1252 bytes were read as GBK and saved as UTF-8 (``Can抰`` for ``Can’t``).

Each damaged character is one CJK character whose two GBK bytes are really two Windows-1252 characters: a
typographic quote or an accented Latin letter, then the ASCII character that followed it. A character is
repaired only when it sits next to Latin text and decodes to that shape, so genuine Chinese, Japanese or
Korean titles are left alone.

A closing quote followed by a space (bytes 0x94 0x20) is no GBK character at all and was saved as ``?``; where a
repaired opening quote is left unclosed, a ``?`` squeezed between two words is read as that lost ``” ``.
"""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LOST_CLOSING_QUOTE = re.compile(r"(?<=[A-Za-z])\?(?=[A-Z])")
_PLAUSIBLE_FIRST = set("‘’“”–—…") | {chr(code) for code in range(0xC0, 0x100)}


def _decoded(char: str) -> str | None:
    """The two Windows-1252 characters hidden in ``char``, or None if it does not look like mojibake."""
    try:
        raw = char.encode("gbk")
    except UnicodeEncodeError:
        return None
    if len(raw) != 2 or not 0x20 <= raw[1] < 0x7F:
        return None
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        return None
    return text if text[0] in _PLAUSIBLE_FIRST else None


def repair_mojibake(text: str) -> str:
    """Return ``text`` with GBK-misread Windows-1252 characters restored; other text is unchanged."""
    if not _CJK.search(text):
        return text
    chars = list(text)
    for position, char in enumerate(chars):
        if not _CJK.fullmatch(char):
            continue
        before = chars[position - 1] if position > 0 else " "
        after = chars[position + 1] if position + 1 < len(chars) else " "
        if _CJK.fullmatch(before) or _CJK.fullmatch(after):
            continue  # part of a run of real CJK text
        if not (before.isascii() or after.isascii()):
            continue
        replacement = _decoded(char)
        if replacement is not None:
            chars[position] = replacement
    repaired = "".join(chars)
    if repaired.count("“") > repaired.count("”") and "“" not in text:
        repaired = _LOST_CLOSING_QUOTE.sub("” ", repaired, count=repaired.count("“") - repaired.count("”"))
    return repaired
