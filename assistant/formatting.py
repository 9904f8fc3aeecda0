"""Render a search response as plain text (CLI) or Markdown (chat)."""

from __future__ import annotations

from assistant.escaping import escape_markdown
from assistant.results import SearchResponse


def response_as_text(response: SearchResponse) -> str:
    """A numbered list for the terminal, with what was understood and any notes first."""
    lines = []
    if response.understood:
        lines.append(f"Looking for: {response.understood}")
    lines += [f"Note: {note}" for note in response.notes]
    if not response.results:
        lines.append("No songs found.")
    for result in response.results:
        year = f", {result.year}" if result.year else ""
        lines.append(f"{result.rank:>2}. {result.title} - {result.artist} ({result.genre}{year})  [{result.score:.3f}]")
        lines.append(f"    {result.explanation}")
    return "\n".join(lines)


def response_as_markdown(response: SearchResponse) -> str:
    """A chat reply: what was understood, any notes, then a numbered list with one explanation line each."""
    header = []
    if response.understood:
        header.append(f"**Looking for:** {escape_markdown(response.understood)}")
    header += [f"_{escape_markdown(note)}_" for note in response.notes]
    items = [
        f"{r.rank}. **{escape_markdown(r.title)}** by {escape_markdown(r.artist)} "
        f"({escape_markdown(r.genre)}{f', {r.year}' if r.year else ''})  \n   {escape_markdown(r.explanation)}"
        for r in response.results
    ]
    if not items:
        items = ["No songs found. Try fewer conditions."]
    return "\n\n".join([*header, "\n".join(items)])


def format_value(feature: str, value: float, unit: bool = True) -> str:
    """A feature value as people read it: ``128 BPM``, ``-7 dB``, ``3:45``, ``0.91``, ``76`` (popularity)."""
    value = float(value)
    if feature == "tempo":
        return f"{value:.0f}" + (" BPM" if unit else "")
    if feature == "loudness":
        return f"{value:.0f}" + (" dB" if unit else "")
    if feature == "duration_s":
        return f"{int(value) // 60}:{int(value) % 60:02d}"
    if feature == "popularity":
        return f"{value:.0f}"
    return f"{value:.2f}"
