"""Markdown tables and a one-line machine description, shared by ``python -m evaluation`` and ``python -m bench``."""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Sequence
from pathlib import Path

_NUMBER = re.compile(r"^[-+]?(?:\d|\.\d|n/a|nan)")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub Markdown table; floats get three decimals, and columns that read as numbers are right-aligned."""
    cells = [[_cell(value) for value in row] for row in rows]
    numeric = [bool(cells) and all(_NUMBER.match(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(headers) + " |",
        "| " + " | ".join("---:" if n else "---" for n in numeric) + " |",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value).replace("|", "\\|")


def machine_description() -> str:
    """``AMD EPYC, 2 cores, 23.4 GiB RAM, Linux 6.1 x86_64, Python 3.11.7``, read from /proc where it exists."""
    cpu = platform.processor() or platform.machine()
    memory = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f", {int(line.split()[1]) / 1024**2:.1f} GiB RAM"
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{cpu}, {cores} cores{memory}, {platform.system()} {platform.release().split('-')[0]} "
        f"{platform.machine()}, Python {platform.python_version()}"
    )


def replace_section(text: str, name: str, section: str) -> str:
    """``text`` with the block between ``<!-- name:start -->`` and ``<!-- name:end -->`` replaced by ``section``
    (appended, with its markers, when there is none): how a second command keeps its own part of RESULTS.md."""
    block = f"<!-- {name}:start -->\n{section.rstrip()}\n<!-- {name}:end -->"
    pattern = re.compile(rf"<!-- {re.escape(name)}:start -->.*?<!-- {re.escape(name)}:end -->", re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text)
    return f"{text.rstrip()}\n\n{block}\n" if text.strip() else f"{block}\n"


def kept_sections(text: str) -> str:
    """Every marked block of ``text`` (``replace_section``), in order: what a full rewrite of RESULTS.md keeps."""
    found = re.finditer(r"<!-- (?P<name>[\w-]+):start -->.*?<!-- (?P=name):end -->", text, flags=re.DOTALL)
    return "\n\n".join(match.group(0) for match in found)
