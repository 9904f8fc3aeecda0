"""Read a catalogue file (.csv or .csv.gz) into a table of strings, stopping at the first limit it passes.

The file is decompressed while it is read, so a small archive that inflates past ``max_bytes`` is refused
before it is parsed; the header line is checked on its own, so an absurd column count is refused before any row
is parsed; rows are parsed a chunk at a time and counted, so the parse stops once ``max_rows`` is passed.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from index_builder.errors import CatalogueError
from index_builder.settings import Settings

GZIP_MAGIC = b"\x1f\x8b"
SNIFF_BYTES = 8192
"""The first bytes looked at to tell a binary file from text."""
HEADER_BYTES = 1 << 20
"""The most of the header line read to count its columns (enough for 100,000 short names)."""
PARSE_CHUNK_ROWS = 50_000
"""Rows parsed at a time (fewer when the row limit is lower), so the parse stops soon after the limit."""


@dataclass(frozen=True)
class CatalogueLimits:
    """How much of a catalogue file Moodring reads; defaults and meanings are the ``Settings`` fields of these names."""

    max_catalogue_bytes: int
    max_catalogue_rows: int
    max_catalogue_columns: int
    max_field_chars: int

    @classmethod
    def from_settings(cls, settings: Settings) -> CatalogueLimits:
        """The limits ``settings`` set (``MOODRING_MAX_CATALOGUE_ROWS`` and friends)."""
        return cls(
            max_catalogue_bytes=settings.max_catalogue_bytes,
            max_catalogue_rows=settings.max_catalogue_rows,
            max_catalogue_columns=settings.max_catalogue_columns,
            max_field_chars=settings.max_field_chars,
        )


class _LimitedReader(io.RawIOBase):
    """A readable stream over ``source`` that raises CatalogueError once more than ``limit`` bytes come out of it."""

    def __init__(self, source: BinaryIO, limit: int, name: str) -> None:
        self._source, self._limit, self._name, self.count = source, limit, name, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._source.read(min(len(buffer), self._limit + 1 - self.count) or 1)
        self.count += len(data)
        if self.count > self._limit:
            raise CatalogueError(
                f"{self._name} holds more than {_size(self._limit)} of text once decompressed; at most "
                f"{_size(self._limit)} is read."
            )
        buffer[: len(data)] = data
        return len(data)


@contextmanager
def open_limited(path: Path, max_bytes: int) -> Iterator[io.BufferedReader]:
    """The file's text bytes (decompressed when it is gzip), refusing more than ``max_bytes`` of them."""
    with open(path, "rb") as raw:
        compressed = path.name.endswith(".gz") or raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        source: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw  # type: ignore[assignment]
        with source, io.BufferedReader(_LimitedReader(source, max_bytes, path.name)) as stream:
            yield stream


def read_catalogue_csv(path: Path, limits: CatalogueLimits, notes: list[str]) -> pd.DataFrame:
    """Every cell of the catalogue at ``path`` as a string, within ``limits``; notes what it had to assume."""
    try:
        head = _read_head(path, limits)
    except (OSError, EOFError) as exc:
        raise CatalogueError(f"{path.name} is not a readable CSV file: {exc}") from exc
    if not head.strip():
        raise CatalogueError(f"{path.name} is empty.")
    if b"\x00" in head[:SNIFF_BYTES]:
        raise CatalogueError(f"{path.name} looks like a binary file, not a CSV text file.")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            _check_column_count(head, encoding, path, limits)
            frame = _parse(path, encoding, limits)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError as exc:
            raise CatalogueError(f"{path.name} has no header row or no data.") from exc
        except (pd.errors.ParserError, OSError, EOFError) as exc:
            raise CatalogueError(f"{path.name} is not a readable CSV file: {exc}") from exc
        if encoding != "utf-8-sig":
            notes.append("read as Windows-1252 text because it is not valid UTF-8")
        if frame.empty:
            raise CatalogueError(f"{path.name} has a header row but no songs.")
        return frame
    raise CatalogueError(f"{path.name} is neither UTF-8 nor Windows-1252 text.")


def catalogue_header(path: Path, limits: CatalogueLimits) -> list[str]:
    """The column names of the catalogue at ``path`` (its header line only, read within ``limits``)."""
    line = _read_head(Path(path), limits).partition(b"\n")[0]
    return next(csv.reader([line.decode("utf-8-sig", errors="replace").rstrip("\r")]), [])


def _read_head(path: Path, limits: CatalogueLimits) -> bytes:
    """The first SNIFF_BYTES and the rest of the header line (up to HEADER_BYTES), read within the byte limit."""
    with open_limited(path, limits.max_catalogue_bytes) as stream:
        head = stream.read(SNIFF_BYTES)
        if b"\n" not in head and len(head) == SNIFF_BYTES:
            head += stream.readline(HEADER_BYTES)
        return head


def _check_column_count(head: bytes, encoding: str, path: Path, limits: CatalogueLimits) -> None:
    """Refuse a header naming more than ``max_catalogue_columns`` columns, before any row is parsed."""
    line, newline, _ = head.partition(b"\n")
    columns = len(next(csv.reader([line.decode(encoding, errors="replace")]), []))
    if columns > limits.max_catalogue_columns:
        raise CatalogueError(_too_many_columns(path, columns, limits, whole_line=bool(newline)))


def _parse(path: Path, encoding: str, limits: CatalogueLimits) -> pd.DataFrame:
    """Parse the file a chunk of rows at a time, stopping as soon as the row limit is passed."""
    max_rows = limits.max_catalogue_rows
    chunks: list[pd.DataFrame] = []
    rows = 0
    with open_limited(path, limits.max_catalogue_bytes) as stream:
        chunk_rows = max(1, min(PARSE_CHUNK_ROWS, max_rows + 1))
        with pd.read_csv(stream, encoding=encoding, dtype=str, chunksize=chunk_rows) as reader:
            for chunk in reader:
                if len(chunk.columns) > limits.max_catalogue_columns:
                    raise CatalogueError(_too_many_columns(path, len(chunk.columns), limits))
                rows += len(chunk)
                if rows > max_rows:
                    raise CatalogueError(f"{path.name} has more than {max_rows:,} rows; at most {max_rows:,} are read.")
                chunks.append(chunk)
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]


def _too_many_columns(path: Path, columns: int, limits: CatalogueLimits, whole_line: bool = True) -> str:
    counted = f"{columns:,}" if whole_line else f"at least {columns:,}"
    return f"{path.name} has {counted} columns; a catalogue may have at most {limits.max_catalogue_columns:,}."


def _size(count: int) -> str:
    """Bytes as MB or GB for messages."""
    return f"{count / 1e9:.1f} GB" if count >= 1e9 else f"{count / 1e6:.0f} MB"
