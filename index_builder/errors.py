"""The few errors Moodring raises on purpose; the CLIs and the app turn each into one clear sentence."""

from __future__ import annotations


class MoodringError(Exception):
    """Base class: a problem the user can act on, with a message written for them."""


class CatalogueError(MoodringError):
    """A catalogue file that cannot be read as songs (missing columns, empty, unreadable values)."""


class ModelError(MoodringError):
    """The embedding model cannot be found, assembled or verified."""


class IndexMismatch(MoodringError):
    """An index folder that is missing, damaged, or built from another model, template or catalogue."""


class QueryError(MoodringError):
    """A query that cannot be answered as asked (empty, too long, nonsensical counts)."""


class ConfigError(MoodringError):
    """A template or threshold file in ``prompts/`` that does not make sense."""


class IndexNotWritable(MoodringError):
    """An index folder (or the folder it lives in) that cannot be written, so no index can be built there."""
