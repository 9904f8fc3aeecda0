"""Speed: ``python -m bench`` (index build rate, request latency by stage, peak memory, FAISS at a million,
each against the plain pipeline) and ``python -m bench.load`` (concurrent app sessions)."""

import index_builder  # noqa: F401  first: it sets the process environment before numpy loads
