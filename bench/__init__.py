"""Speed: ``python -m bench`` (index build rate, request latency by stage, peak memory, FAISS at a million,
each against the plain pipeline) and ``python -m bench.load`` (concurrent app sessions)."""

import os

# Before anything imports numpy: OpenBLAS threads then sleep right after each call (see app.py).
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
