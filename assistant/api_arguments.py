"""Endpoint arguments checked at the door: what is unambiguous is coerced (``"10"`` -> 10), the rest is refused.

The named API endpoints take whatever JSON a client sends, so each argument goes through one of these before any
search runs. A refusal is a QueryError whose one sentence names the argument; text loses lone surrogates
(``"\\ud800"``), which would otherwise be echoed into a reply that cannot be encoded.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from assistant.ordering import ORDERS
from index_builder.errors import QueryError

MAX_DEPTH = 8
"""The deepest nesting a JSON argument may have (a chat message with content parts is four levels deep)."""
YEAR_RANGE = (0, 9999)
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_WHOLE = re.compile(r"^[+-]?\d{1,9}(?:\.0*)?$")
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def clean_text(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD, so it can always be sent back as UTF-8."""
    return _SURROGATES.sub("\ufffd", text)


def clean_json(value: object, name: str, max_items: int | None = None, depth: int = 0) -> object:
    """A JSON value with its strings cleaned; deeper than MAX_DEPTH, or a list longer than ``max_items``, refused."""
    if depth > MAX_DEPTH:
        raise QueryError(f"{name} is nested more than {MAX_DEPTH} levels deep.")
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list | tuple):
        if max_items is not None and len(value) > max_items:
            raise QueryError(f"{name} holds {len(value)} items; at most {max_items} are taken.")
        return [clean_json(item, name, None, depth + 1) for item in value]
    if isinstance(value, Mapping):
        return {clean_text(str(key)): clean_json(item, name, None, depth + 1) for key, item in value.items()}
    return value


def text_argument(value: object, name: str, default: str | None = None, max_chars: int | None = None) -> str:
    """Text: a string (or a plain number, read as its digits); None gives ``default`` when there is one."""
    if value is None and default is not None:
        return default
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        value = str(value)
    if not isinstance(value, str):
        raise QueryError(f"{name} must be text, like 'happy songs'; got {_kind(value)}.")
    if max_chars is not None and len(value) > max_chars:
        raise QueryError(f"{name} is {len(value)} characters long; please keep it under {max_chars}.")
    return clean_text(value)


def whole_number(value: object, name: str, example: str = "10") -> int | None:
    """A whole number: an int, a float with nothing after the point, or such a number as text; None stays None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise QueryError(f"{name} must be a whole number, like {example}; got {_kind(value)}.")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _WHOLE.match(value.strip()):
        return int(float(value.strip()))
    raise QueryError(f"{name} must be a whole number, like {example}; got {_kind(value)}.")


def count_argument(value: object, name: str = "k") -> int | None:
    """How many songs: a whole number (the engine caps it and refuses less than one); None for the default."""
    return whole_number(value, name, "10")


def year_argument(value: object, name: str) -> int | None:
    """A release year between 0 and 9999, or None."""
    year = whole_number(value, name, "2015")
    if year is not None and not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
        raise QueryError(f"{name} must be a year, like 2015; got {year}.")
    return year


def names_argument(value: object, name: str, max_items: int) -> list[str]:
    """Genre, artist or song names: a list of strings, or one string; None or an empty list is no names."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise QueryError(f"{name} must be a list of names, like ['pop']; got {_kind(value)}.")
    if len(value) > max_items:
        raise QueryError(f"{name} holds {len(value)} names; at most {max_items} are taken.")
    return [clean_text(item) for item in value]


def flag_argument(value: object, name: str, default: bool) -> bool:
    """True or False (also ``"true"``/``"false"``, 1/0); None gives ``default``."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise QueryError(f"{name} must be true or false; got {_kind(value)}.")


def filter_arguments(
    k: object, genres: object, year_min: object, year_max: object, diverse: object, max_items: int
) -> tuple[int | None, list[str], int | None, int | None, bool]:
    """The shared arguments of the Discover endpoints, checked: ``k, genres, year_min, year_max, diverse``."""
    return (
        count_argument(k),
        names_argument(genres, "genres", max_items),
        year_argument(year_min, "year_min"),
        year_argument(year_max, "year_max"),
        flag_argument(diverse, "diverse", default=True),
    )


def order_argument(value: object, name: str = "order") -> str | None:
    """A playlist order: one of ``assistant.ordering.ORDERS``, or ``rank``/None/"" for the ranking as it is."""
    if value is None or (isinstance(value, str) and value.strip().casefold() in {"", "rank"}):
        return None
    wanted = value.strip().casefold().replace("-", "_").replace(" ", "_") if isinstance(value, str) else None
    if wanted not in ORDERS:
        choices = ", ".join(("rank", *ORDERS))
        raise QueryError(f"{name} must be one of {choices}; got {_kind(value)}.")
    return wanted


def minutes_argument(value: object, most: int, name: str = "minutes") -> int | None:
    """A playlist length in whole minutes, 1 to ``most``; None (or 0) for a list by count."""
    minutes = whole_number(value, name, "45")
    if minutes is None or minutes == 0:
        return None
    if not 1 <= minutes <= most:
        raise QueryError(
            f"{name} must be between 1 and {most} (a playlist of at most {most // 60} hours); got {minutes}."
        )
    return minutes


def history_argument(value: object, max_items: int | None = None) -> list[object] | None:
    """A chat history (a list of Gradio messages or [user, bot] pairs), cleaned; None or [] continues the session."""
    if value is None or value == []:
        return None
    if not isinstance(value, list | tuple):
        raise QueryError(
            f"history must be a list of messages like {{'role': 'user', 'content': 'sad songs'}}; got {_kind(value)}."
        )
    return clean_json(value, "history", max_items)  # type: ignore[return-value]


def _kind(value: object) -> str:
    """A few words for what was sent instead: ``the text 'abc'``, ``a list``, ``nothing``."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        shown = clean_text(value if len(value) <= 40 else value[:40] + "...")
        return f"the text {shown!r}"
    if isinstance(value, int | float):
        return f"the number {value!r}" if not isinstance(value, int) or abs(value) < 10**12 else "a very large number"
    if isinstance(value, list | tuple):
        return "a list" if value else "an empty list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__
