"""Query understanding, dialogue state, ranking and explanations over a Moodring index."""

import index_builder  # noqa: F401  first: it sets the process environment before numpy loads
