"""Load a catalogue CSV of either known schema into Moodring's internal songs table, repairing what it can."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from index_builder.catalogue_file import CatalogueLimits, read_catalogue_csv
from index_builder.errors import CatalogueError
from index_builder.model_store import sha256_of_file
from index_builder.mojibake import repair_mojibake
from index_builder.schema import (
    ALIASES,
    AUDIO_FEATURES,
    MIN_AUDIO_FEATURES,
    NUMERIC_FEATURES,
    REQUIRED_FIELDS,
    SONG_COLUMNS,
    UNIT_FEATURES,
    normalize_header,
)
from index_builder.settings import Settings
from index_builder.text_checks import (
    LOST_CHARACTER,
    MARKS,
    SPREADSHEET_DATE,
    UNBALANCED,
    TextRepairs,
    text_marks,
    tidy_whitespace,
)

__all__ = ["Catalogue", "CatalogueLimits", "LoadReport", "load_catalogue", "map_columns", "normalize_catalogue"]

TEXT_FIELDS = ("song_id", "title", "artist", "genre", "year", "location", "album")
"""Fields read as text; each is cut to ``max_field_chars`` on load."""

_VALID_RANGES: dict[str, tuple[float, float]] = {
    **{name: (0.0, 1.0) for name in UNIT_FEATURES},
    "tempo": (0.0, 300.0),
    "loudness": (-60.0, 5.0),
    "duration_s": (1.0, 7200.0),
    "popularity": (0.0, 100.0),
}


@dataclass
class LoadReport:
    """What the loader found and changed, for the CLI and the app to show."""

    source: str
    rows_read: int = 0
    column_map: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def summary(self, songs: int) -> str:
        """One readable paragraph."""
        lines = [f"{songs} songs from {self.rows_read} rows of {self.source}."]
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines)


@dataclass
class Catalogue:
    """The internal songs table (columns ``SONG_COLUMNS``), the file's hash and the load report."""

    songs: pd.DataFrame
    sha256: str
    report: LoadReport

    def __len__(self) -> int:
        return len(self.songs)


def load_catalogue(
    path: Path | str,
    column_map: Mapping[str, str] | None = None,
    limits: CatalogueLimits | None = None,
    repairs: TextRepairs | None = None,
) -> Catalogue:
    """Read ``path`` (.csv or .csv.gz), detect its schema and return the cleaned catalogue.

    ``column_map`` maps internal field names (``title``, ``energy``, ...) to source column names, for schemas
    the aliases do not cover. ``limits`` bound what is read (default: the ``Settings`` defaults, 1 GiB of text,
    two million rows, 1,000 columns, fields cut to 1,000 characters). ``repairs`` are exact title repairs (default:
    the table ``Settings.text_repairs_path`` names, ``data/text_repairs.csv``). Raises CatalogueError naming the
    problem when the file cannot be used or passes a limit.
    """
    path = Path(path)
    if not path.is_file():
        raise CatalogueError(f"Catalogue file not found: {path}")
    limits = limits or CatalogueLimits.from_settings(Settings())
    if repairs is None:
        repairs = TextRepairs.from_file(Settings().text_repairs_path)
    report = LoadReport(source=path.name)
    frame = read_catalogue_csv(path, limits, report.notes)
    _note_repeated_headers(frame, report)
    songs = normalize_catalogue(frame, report, column_map, limits.max_field_chars, repairs)
    return Catalogue(songs=songs, sha256=sha256_of_file(path), report=report)


def _note_repeated_headers(frame: pd.DataFrame, report: LoadReport) -> None:
    """pandas renames a repeated header ``energy`` to ``energy.1``; say that only the first copy is used."""
    columns = set(frame.columns)
    repeated = sorted({c.rsplit(".", 1)[0] for c in columns if "." in c and c.rsplit(".", 1)[0] in columns})
    repeated = [name for name in repeated if f"{name}.1" in columns]
    if repeated:
        report.notes.append(f"repeated column header(s) {', '.join(repeated)}: the first copy of each is used")


def map_columns(columns: list[str], column_map: Mapping[str, str] | None = None) -> dict[str, str]:
    """Internal field -> source column, from the explicit map first, then the known aliases."""
    mapping: dict[str, str] = {}
    column_map = dict(column_map or {})
    unknown_fields = set(column_map) - {alias.field for alias in ALIASES}
    if unknown_fields:
        raise CatalogueError(f"The column map names unknown fields: {', '.join(sorted(unknown_fields))}.")
    for field_name, source in column_map.items():
        if source not in columns:
            raise CatalogueError(f"The column map points {field_name} at '{source}', which is not in the file.")
        mapping[field_name] = source
    by_normalized: dict[str, str] = {}
    for column in columns:
        by_normalized.setdefault(normalize_header(column), column)
    taken = set(mapping.values())
    for alias in ALIASES:
        if alias.field in mapping:
            continue
        for name in alias.names:
            source = by_normalized.get(name)
            if source is not None and source not in taken:
                mapping[alias.field] = source
                taken.add(source)
                break
    return mapping


def normalize_catalogue(
    frame: pd.DataFrame,
    report: LoadReport,
    column_map: Mapping[str, str] | None = None,
    max_field_chars: int | None = None,
    repairs: TextRepairs | None = None,
) -> pd.DataFrame:
    """Turn a raw string DataFrame of any supported schema into the internal songs table.

    With ``max_field_chars``, longer text fields are cut to that length and the report says how many. Titles
    listed in ``repairs`` are repaired; damage left in titles and artists is named in the report.
    """
    report.rows_read = len(frame)
    mapping = map_columns(list(frame.columns), column_map)
    report.column_map = dict(mapping)
    _check_required(mapping, list(frame.columns))
    if max_field_chars is not None:
        frame = _cap_field_lengths(frame, mapping, max_field_chars, report)

    songs = pd.DataFrame(index=frame.index)
    for name in ("title", "artist", "genre"):
        if name in mapping:
            songs[name] = frame[mapping[name]].fillna("").astype(str).str.strip()
        else:
            songs[name] = ""
    songs["artist"] = songs["artist"].str.replace(r"\s*;\s*", ", ", regex=True)
    _repair_text(songs, report)
    _tidy_whitespace(songs, report)
    _repair_titles(songs, repairs or TextRepairs({}), report)
    _note_marks(songs, report)

    blank = (songs["title"] == "") | (songs["artist"] == "")
    if blank.any():
        report.notes.append(f"dropped {int(blank.sum())} rows with no title or no artist")
        songs = songs[~blank]

    songs["year"] = _parse_years(frame.loc[songs.index, mapping["year"]]) if "year" in mapping else pd.NA
    songs["year"] = songs["year"].astype("Int64")
    for name in NUMERIC_FEATURES:
        if name in mapping:
            songs[name] = _numeric_column(frame.loc[songs.index, mapping[name]], name, mapping[name], report)
        else:
            songs[name] = np.nan
    _mark_placeholders(songs, report)
    _blank_out_of_range(songs, report)

    songs["location"] = _locations(frame, mapping, songs.index, report)
    songs["album"] = _albums(frame, mapping, songs.index)
    songs["explicit"] = _explicit_marks(frame, mapping, songs.index, report)
    source_ids = frame.loc[songs.index, mapping["song_id"]].astype(str).str.strip() if "song_id" in mapping else None
    songs = _deduplicate(songs, source_ids, report)
    missing_optional = [name for name in NUMERIC_FEATURES if name not in mapping]
    if missing_optional:
        report.notes.append(f"no column for {', '.join(missing_optional)}: those words are left out")
    return songs[list(SONG_COLUMNS)].reset_index(drop=True)


def _check_required(mapping: dict[str, str], columns: list[str]) -> None:
    missing = [name for name in REQUIRED_FIELDS if name not in mapping]
    audio = [name for name in AUDIO_FEATURES if name in mapping]
    problems = []
    if missing:
        problems.append(f"missing required column(s): {', '.join(missing)}")
    if len(audio) < MIN_AUDIO_FEATURES:
        problems.append(
            f"found {len(audio)} audio feature column(s) ({', '.join(audio) or 'none'}) but need at least "
            f"{MIN_AUDIO_FEATURES} of: {', '.join(AUDIO_FEATURES)}"
        )
    if problems:
        shown = ", ".join(columns[:20]) + (" ..." if len(columns) > 20 else "")
        raise CatalogueError(f"This catalogue cannot be used: {'; '.join(problems)}. Columns found: {shown}.")


def _cap_field_lengths(
    frame: pd.DataFrame, mapping: dict[str, str], max_chars: int, report: LoadReport
) -> pd.DataFrame:
    """Cut every text field longer than ``max_chars`` to that length, noting which fields were cut.

    Numeric columns are left alone: a long value there is not a number, and the numeric check names it.
    """
    cut: dict[str, int] = {}
    for name in TEXT_FIELDS:
        if name not in mapping:
            continue
        values = frame[mapping[name]]
        long = values.str.len() > max_chars
        if long.any():
            frame = frame.assign(**{mapping[name]: values.where(~long, values.str.slice(0, max_chars))})
            cut[name] = int(long.sum())
    if cut:
        where = ", ".join(f"{count} {name}" for name, count in cut.items())
        report.notes.append(
            f"cut {sum(cut.values())} field(s) longer than {max_chars:,} characters to their first {max_chars:,} "
            f"({where}); the text beyond that was left out"
        )
    return frame


def _repair_text(songs: pd.DataFrame, report: LoadReport) -> None:
    repaired = 0
    for name in ("title", "artist", "genre"):
        fixed = songs[name].map(repair_mojibake)
        repaired += int((fixed != songs[name]).sum())
        songs[name] = fixed
    if repaired:
        report.notes.append(f"repaired garbled characters (mojibake) in {repaired} fields")


def _tidy_whitespace(songs: pd.DataFrame, report: LoadReport) -> None:
    """Runs of spaces, tabs or line breaks inside a title, artist or genre become one space."""
    tidied = 0
    for name in ("title", "artist", "genre"):
        fixed = songs[name].map(tidy_whitespace)
        tidied += int((fixed != songs[name]).sum())
        songs[name] = fixed
    if tidied:
        report.notes.append(f"tidied stray whitespace (doubled spaces, tabs, line breaks) in {tidied} fields")


def _repair_titles(songs: pd.DataFrame, repairs: TextRepairs, report: LoadReport) -> None:
    """Titles the repairs table lists for this artist become the title it gives."""
    listed = songs["title"].isin({title for _, title in repairs.titles})
    if not listed.any():
        return
    rows = songs[listed]
    fixed = pd.Series(
        [repairs.title(artist, title) for artist, title in zip(rows["artist"], rows["title"], strict=True)],
        index=rows.index,
        dtype=object,
    )
    changed = fixed != rows["title"]
    if changed.any():
        example = f"'{rows['title'][changed].iloc[0]}' -> '{fixed[changed].iloc[0]}'"
        count = int(changed.sum())
        report.notes.append(f"repaired {count} damaged title(s) listed in {repairs.source}, e.g. {example}")
        songs.loc[fixed.index, "title"] = fixed


MAX_MARKED_EXAMPLES = 3
"""The most damaged titles or artists a load-report warning quotes."""
_MARK_MEANINGS = {
    LOST_CHARACTER: "may have lost a character (a ? where a letter or bracket was)",
    SPREADSHEET_DATE: "look like a date a spreadsheet made, not a name (7/11 saved as 43776)",
    UNBALANCED: "have an unclosed bracket or quote",
}
_MAY_BE_MARKED = r'[?"()\[\]{}“”]|^[\d/.:T -]+$'
"""Texts without any of these characters carry no mark; only the others are checked one by one."""


def _note_marks(songs: pd.DataFrame, report: LoadReport) -> None:
    """Warn about titles and artists that still look damaged, quoting a few, so people can check the file."""
    found: dict[str, list[str]] = {mark: [] for mark in MARKS}
    suspects = songs["title"].str.contains(_MAY_BE_MARKED) | songs["artist"].str.contains(_MAY_BE_MARKED)
    for artist, title in zip(songs["artist"][suspects], songs["title"][suspects], strict=True):
        for mark in text_marks(title):
            found[mark].append(f"'{_clip(title)}' by {_clip(artist)}")
        for mark in text_marks(artist):
            found[mark].append(f"artist '{_clip(artist)}'")
    for mark, where in found.items():
        if where:
            shown = "; ".join(where[:MAX_MARKED_EXAMPLES]) + (" ..." if len(where) > MAX_MARKED_EXAMPLES else "")
            report.notes.append(f"warning: {len(where)} title(s) or artist(s) {_MARK_MEANINGS[mark]}: {shown}")


def _locations(frame: pd.DataFrame, mapping: dict[str, str], rows: pd.Index, report: LoadReport) -> pd.Series:
    """Each song's file path or URL (for playlists) from a ``location``/``path``/``file`` column; "" where none."""
    if "location" not in mapping:
        return pd.Series("", index=rows, dtype=object)
    values = frame.loc[rows, mapping["location"]].fillna("").astype(str).str.strip()
    unusable = values.str.contains(r"[\r\n]") | values.str.startswith("#")
    if unusable.any():
        report.notes.append(
            f"{int(unusable.sum())} value(s) of '{mapping['location']}' hold a line break or start with # and cannot "
            "be a playlist entry; those songs are exported by name only"
        )
        values = values.where(~unusable, "")
    known = int((values != "").sum())
    report.notes.append(f"{known} of {len(values)} songs have a file location ('{mapping['location']}') for playlists")
    return values


def _albums(frame: pd.DataFrame, mapping: dict[str, str], rows: pd.Index) -> pd.Series:
    """Each song's album name from an ``album``/``track_album_name`` column (whitespace tidied); "" where none."""
    if "album" not in mapping:
        return pd.Series("", index=rows, dtype=object)
    values = frame.loc[rows, mapping["album"]].fillna("").astype(str).map(repair_mojibake).map(tidy_whitespace)
    return values.str.strip()


_EXPLICIT_TRUE = frozenset({"true", "yes", "y", "1", "1.0", "explicit", "e"})
_EXPLICIT_FALSE = frozenset({"false", "no", "n", "0", "0.0", "clean", "c"})


def _explicit_marks(frame: pd.DataFrame, mapping: dict[str, str], rows: pd.Index, report: LoadReport) -> pd.Series:
    """Each song's explicit-lyrics mark (True/False) from an ``explicit``/``is_explicit`` column; NA where the
    catalogue has no such column or the value is blank. A value that is neither yes nor no is an error naming the
    line."""
    if "explicit" not in mapping:
        return pd.Series(pd.NA, index=rows, dtype="boolean")
    source = mapping["explicit"]
    text = frame.loc[rows, source].fillna("").astype(str).str.strip().str.casefold()
    bad = ~text.isin(_EXPLICIT_TRUE | _EXPLICIT_FALSE | {"", "nan", "na", "null", "none"})
    if bad.any():
        lines = [str(int(position) + 2) for position in np.flatnonzero(bad.to_numpy())[:5]]
        examples = ", ".join(repr(_clip(value)) for value in text[bad].head(3))
        raise CatalogueError(
            f"Column '{source}' (explicit) must be true or false, but line(s) {', '.join(lines)} hold {examples}."
        )
    marks = text.isin(_EXPLICIT_TRUE).astype("boolean").where(text.isin(_EXPLICIT_TRUE | _EXPLICIT_FALSE), pd.NA)
    report.notes.append(f"{int(marks.sum())} of {len(marks)} songs are marked explicit ('{source}')")
    return marks


def _parse_years(values: pd.Series) -> pd.Series:
    """Year from ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (or a number); anything else is missing."""
    years = pd.to_numeric(values.astype(str).str.extract(r"^\s*(\d{4})", expand=False), errors="coerce")
    return years.where((years >= 1900) & (years <= 2100))


def _numeric_column(values: pd.Series, name: str, source: str, report: LoadReport) -> pd.Series:
    """Parse one numeric column, bringing it onto the internal scale; non-numeric text is an error."""
    text = values.astype("string").str.strip()
    numbers = pd.to_numeric(text, errors="coerce")
    bad = text.notna() & (text != "") & numbers.isna() & ~text.str.lower().isin({"nan", "na", "null", "none"})
    if bad.any():
        rows = [str(int(position) + 2) for position in np.flatnonzero(bad.to_numpy())[:5]]
        examples = ", ".join(repr(_clip(value)) for value in text[bad].head(3))
        raise CatalogueError(
            f"Column '{source}' ({name}) must be numeric, but line(s) {', '.join(rows)} hold {examples}."
        )
    numbers = numbers.astype(float)
    finite = numbers[np.isfinite(numbers)]
    nonzero = finite[finite != 0]
    if name in UNIT_FEATURES and len(nonzero) and (nonzero > 1.0).mean() > 0.5:
        numbers = numbers / 100.0
        report.notes.append(f"{name}: read on a 0-100 scale and divided by 100")
    if name == "duration_s" and (source.lower().endswith("_ms") or (len(finite) and finite.median() > 10_000)):
        numbers = numbers / 1000.0
    return numbers


def _clip(value: str, length: int = 40) -> str:
    """A value short enough to quote in a message."""
    return value if len(value) <= length else value[: length - 1] + "…"


def _mark_placeholders(songs: pd.DataFrame, report: LoadReport) -> None:
    """Rows whose audio features are all zero are placeholders: their features become missing."""
    present = [name for name in AUDIO_FEATURES if name not in ("loudness", "duration_s") and songs[name].notna().any()]
    if not present:
        return
    placeholder = (songs[present].fillna(0) == 0).all(axis=1)
    if placeholder.any():
        songs.loc[placeholder, list(NUMERIC_FEATURES)] = np.nan
        names = "; ".join(f"{t} by {a}" for t, a in songs.loc[placeholder, ["title", "artist"]].head(3).to_numpy())
        report.notes.append(
            f"{int(placeholder.sum())} placeholder row(s) with every audio feature 0 kept without features: {names}"
        )


def _blank_out_of_range(songs: pd.DataFrame, report: LoadReport) -> None:
    for name, (low, high) in _VALID_RANGES.items():
        values = songs[name]
        invalid = values.notna() & ~((values >= low) & (values <= high))
        if invalid.any():
            songs.loc[invalid, name] = np.nan
            report.notes.append(f"{int(invalid.sum())} {name} value(s) outside {low:g}..{high:g} treated as missing")


def _chart_years(songs: pd.DataFrame, merged: pd.DataFrame) -> list[list[int]]:
    """Every distinct year of each merged song; only songs listed more than once need grouping."""
    years = songs[["_key", "year"]].dropna().drop_duplicates().sort_values("year")
    repeated = years[years["_key"].duplicated(keep=False)]
    several = {key: [int(y) for y in group] for key, group in repeated.groupby("_key", sort=False)["year"]}
    return [
        several.get(key, [] if pd.isna(year) else [int(year)])
        for key, year in zip(merged.index, merged["year"], strict=True)
    ]


def _deduplicate(songs: pd.DataFrame, source_ids: pd.Series | None, report: LoadReport) -> pd.DataFrame:
    """One row per song: merge rows sharing an id or a title+artist (earliest year, every year kept)."""
    key = songs["title"].str.casefold().str.strip() + "\x1f" + songs["artist"].str.casefold().str.strip()
    if source_ids is not None:
        valid_ids = source_ids.where(source_ids.str.len() > 0)
        # Rows sharing an id are one song even if their titles differ in spelling.
        first_key_for_id = key.groupby(valid_ids).transform("first")
        key = first_key_for_id.fillna(key)
    songs = songs.assign(
        _key=key.to_numpy(),
        _id=(source_ids if source_ids is not None else pd.Series(pd.NA, index=songs.index)).to_numpy(),
    )
    grouped = songs.groupby("_key", sort=False)
    merged = grouped.first()
    merged["year"] = grouped["year"].min()
    merged["popularity"] = grouped["popularity"].max()
    merged["explicit"] = grouped["explicit"].max()  # one explicit copy makes the song explicit
    merged["chart_years"] = _chart_years(songs, merged)
    duplicates = len(songs) - len(merged)
    if duplicates:
        report.notes.append(
            f"merged {duplicates} repeated row(s) of the same song (earliest year kept, all years listed)"
        )
    ids = merged["_id"].astype("string")
    fallback = [hashlib.sha1(k.encode("utf-8")).hexdigest()[:12] for k in merged.index]
    merged["song_id"] = ids.where(ids.notna() & (ids != ""), pd.Series(fallback, index=merged.index, dtype="string"))
    if merged["song_id"].duplicated().any():
        merged["song_id"] = merged["song_id"] + "-" + pd.Series(range(len(merged)), index=merged.index).astype(str)
    return merged.drop(columns=["_id"]).reset_index(drop=True)
