"""Password guessing: failed logins are throttled per client address, with a doubling lockout, in bounded memory."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from gradio_client import Client

import app as moodring_app
from assistant.login_throttle import LoginThrottle
from index_builder.settings import Settings
from tests.helpers import free_port


def _login(url: str, password: str, address: str = "127.0.0.1") -> httpx.Response:
    with httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30) as http:
        return http.post(f"{url}login", data={"username": "moodring", "password": password})


def test_failed_logins_are_throttled_per_address(bundled_engine):
    app = moodring_app.create_app(bundled_engine)
    settings = Settings(login_free_failures=3, login_lockout_s=4.0, login_max_lockout_s=8.0)
    url = moodring_app.launch(app, port=free_port(), auth=("moodring", "s3cret"), block=False, settings=settings)
    try:
        started = time.perf_counter()
        statuses = [_login(url, f"guess {i}").status_code for i in range(200)]
        elapsed = time.perf_counter() - started
        assert statuses[:4] == [400] * 4  # three free failures, then the one that locks the address out
        assert statuses.count(400) <= 6 and statuses.count(429) >= 194, statuses
        refused = _login(url, "s3cret")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert "Too many failed logins" in refused.json()["detail"]
        assert _login(url, "s3cret", address="127.0.0.2").status_code == 200  # another address is not held up

        with ThreadPoolExecutor(20) as pool:  # a burst cannot slip more guesses past the count
            burst = list(pool.map(lambda i: _login(url, f"burst {i}", "127.0.0.3").status_code, range(20)))
        assert burst.count(400) <= 4 and burst.count(429) >= 16, burst

        deadline = time.monotonic() + 30
        while (answer := _login(url, "s3cret")).status_code == 429 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert answer.status_code == 200
        logged_in = Client(url, auth=("moodring", "s3cret"), verbose=False)
        assert logged_in.predict(query="sad songs", k=1, api_name="/search")
        checked, refused_count = statuses.count(400), statuses.count(429)
        print(f"\n[auth] 200 wrong passwords in {elapsed:.2f} s: {checked} checked, {refused_count} refused (429)")
    finally:
        app.close()


def test_login_lockout_doubles_and_memory_stays_bounded():
    now = [0.0]
    throttle = LoginThrottle(
        None, free_failures=2, lockout_s=1.0, max_lockout_s=4.0, max_clients=10, clock=lambda: now[0]
    )
    waits = []
    assert throttle.admit("10.0.0.1") == 0.0
    for _ in range(6):
        throttle.settle("10.0.0.1", succeeded=False)
        waits.append(throttle.admit("10.0.0.1"))  # 0: admitted again at once; else the seconds to wait
        if waits[-1]:
            now[0] += waits[-1]
            assert throttle.admit("10.0.0.1") == 0.0
    assert waits == [0.0, 0.0, 1.0, 2.0, 4.0, 4.0]
    for number in range(1000):
        address = f"10.1.{number // 256}.{number % 256}"
        throttle.admit(address)
        throttle.settle(address, succeeded=False)
    assert throttle.tracked() == 10
    throttle.admit("10.9.9.9")
    throttle.settle("10.9.9.9", succeeded=True)
    assert throttle.tracked() == 9  # a success forgets the address
