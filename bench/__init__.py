"""Speed: ``python -m bench`` (index build rate, request latency by stage, peak memory, FAISS at a million,
each against the plain pipeline) and ``python -m bench.load`` (concurrent app sessions)."""
