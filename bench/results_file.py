"""bench/RESULTS.md holds one section per benchmark command; each run replaces its own section only."""

from __future__ import annotations

import re
from pathlib import Path

from index_builder.atomic import atomic_path

RESULTS_PATH = Path(__file__).resolve().parent / "RESULTS.md"
SECTIONS = ("speed", "targets", "scale")
"""The order sections appear in, whichever command ran last."""


def write_section(path: Path, name: str, text: str) -> None:
    """Put ``text`` between ``<!-- name -->`` markers in ``path``, keeping the other sections, atomically.

    A file written before sections existed is taken as the ``speed`` section (``python -m bench``).
    """
    path = Path(path)
    sections = read_sections(path.read_text(encoding="utf-8")) if path.exists() else {}
    sections[name] = text.strip()
    order = [n for n in SECTIONS if n in sections] + [n for n in sections if n not in SECTIONS]
    body = "\n\n".join(f"<!-- {n} -->\n{sections[n]}\n<!-- /{n} -->" for n in order)
    with atomic_path(path) as tmp:
        tmp.write_text(body + "\n", encoding="utf-8")


def read_sections(text: str) -> dict[str, str]:
    """The sections of a results file by name (unmarked text counts as ``speed``)."""
    found = {m.group(1): m.group(2).strip() for m in re.finditer(r"<!-- ([\w-]+) -->\n(.*?)\n<!-- /\1 -->", text, re.S)}
    if not found and text.strip():
        found["speed"] = text.strip()
    return found
