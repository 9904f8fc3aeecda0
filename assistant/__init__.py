"""Query understanding, dialogue state, ranking and explanations over a Moodring index."""

import os

# Before anything imports numpy: OpenBLAS threads then sleep right after each call (see app.py).
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
