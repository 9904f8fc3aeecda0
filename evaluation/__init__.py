"""Retrieval quality: a labelled query set judged on catalogue fields, Moodring against three baselines."""

import index_builder  # noqa: F401  first: it sets the process environment before numpy loads
