"""Request bodies over the limit are refused with 413 before the app reads them, declared or sent in chunks."""

from __future__ import annotations

import time

import httpx
import pytest


@pytest.mark.parametrize("chunked", [False, True])
def test_oversized_bodies_are_refused_before_they_are_read(app_url, chunked):
    body = b'{"data": ["' + b"a" * 5_000_000 + b'"]}'
    content = (body[i : i + 65536] for i in range(0, len(body), 65536)) if chunked else body
    started = time.perf_counter()
    answer = httpx.post(f"{app_url}gradio_api/call/search", content=content, timeout=60)
    assert answer.status_code == 413
    assert answer.json()["detail"] == "The request is larger than this app takes: at most 1,048,576 bytes."
    print(f"\n[body] 5 MB {'chunked ' if chunked else ''}refused in {time.perf_counter() - started:.2f} s")
