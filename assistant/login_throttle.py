"""Failed logins slowed down per client address: an ASGI middleware in front of Gradio's ``/login``.

Gradio checks a password as often as it is asked (200 wrong ones took 0.7 s). Here each client address may fail
``free_failures`` times; every further failure locks it out for ``lockout_s``, doubled per failure up to
``max_lockout_s``, during which its logins are answered 429 with ``Retry-After`` and the password is not checked.
Only one attempt per address is in flight once the free ones are used, so a burst cannot slip past the count.
A success forgets the address. At most ``max_clients`` addresses are remembered, the least recently seen forgotten
first, and the record of an address that has stopped failing lapses after ``max_lockout_s``.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from assistant.body_limit import ASGIApp, Message, Receive, Scope, Send


@dataclass
class _Record:
    failures: int = 0
    locked_until: float = 0.0
    in_flight: int = 0
    seen: float = 0.0


class LoginThrottle:
    """Per-address failure counter with a doubling lockout; thread-safe, bounded memory."""

    def __init__(
        self,
        app: ASGIApp,
        free_failures: int = 5,
        lockout_s: float = 2.0,
        max_lockout_s: float = 300.0,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.free_failures = free_failures
        self.lockout_s = lockout_s
        self.max_lockout_s = max_lockout_s
        self.max_clients = max_clients
        self.clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or not _is_login(str(scope.get("path", ""))):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        wait = self.admit(client)
        if wait > 0:
            await _too_many(send, wait)
            return
        status = 0

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            self.settle(client, succeeded=200 <= status < 400)

    def admit(self, client: str) -> float:
        """0 when ``client`` may try a login now (counted as in flight), else the seconds it has to wait."""
        with self._lock:
            now = self.clock()
            record = self._record(client, now)
            if record.locked_until > now:
                return record.locked_until - now
            if record.in_flight >= max(1, self.free_failures - record.failures):
                return 1.0  # the attempts it may still make are already on their way
            record.in_flight += 1
            return 0.0

    def settle(self, client: str, succeeded: bool) -> None:
        """Record how an admitted attempt ended: a success forgets the address, a failure may lock it out."""
        with self._lock:
            now = self.clock()
            record = self._record(client, now)
            record.in_flight = max(0, record.in_flight - 1)
            if succeeded:
                record.failures, record.locked_until = 0, 0.0
                if not record.in_flight:
                    del self._records[client]
                return
            record.failures += 1
            beyond = record.failures - self.free_failures
            if beyond > 0:
                record.locked_until = now + min(self.lockout_s * 2 ** min(beyond - 1, 60), self.max_lockout_s)

    def tracked(self) -> int:
        """How many client addresses are remembered now."""
        with self._lock:
            return len(self._records)

    def _record(self, client: str, now: float) -> _Record:
        """The client's record, moved to the most recent end; lapsed and surplus records are dropped first."""
        record = self._records.get(client)
        lapsed = record is not None and now - record.seen > self.max_lockout_s and record.locked_until <= now
        if record is not None and lapsed and not record.in_flight:
            del self._records[client]
            record = None
        if record is None:
            while len(self._records) >= self.max_clients:
                self._records.popitem(last=False)
            record = self._records[client] = _Record()
        record.seen = now
        self._records.move_to_end(client)
        return record


def _is_login(path: str) -> bool:
    return path.rstrip("/").endswith("/login")


async def _too_many(send: Send, wait: float) -> None:
    seconds = max(1, math.ceil(wait))
    body = json.dumps({"detail": f"Too many failed logins from this address; try again in {seconds} s."}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(seconds).encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})
