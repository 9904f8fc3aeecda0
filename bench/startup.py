"""``python -m bench.startup``: seconds from ``python app.py`` to the first answer, against the 10 s target.

The index is built (and the query model exported) first if needed, untimed: the target is for an installed machine
with a built index. Then ``app.py`` starts on a free port, the server is polled until it answers, and a gradio_client
asks ``/chat`` for songs. The app's own start-up line splits its part into encoder, index and page.

``--fresh-clone`` starts each time with an empty index root (the shipped index serves); ``--fresh`` with an empty
model cache too, as on a freshly installed machine (the model unpacked and exported, the concept vectors read from
data/model/ or embedded); ``--avx2`` starts the app as on an AVX2-only CPU.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gradio_client import Client

from bench.timing import verdict
from index_builder.cpu_features import ISA_VARIABLE
from index_builder.settings import PROJECT_ROOT

STARTUP_TARGET_S = 10.0
"""Issue #8: the first answer within 10 s of ``python app.py`` on an installed machine with a built index."""
FIRST_REQUEST = "upbeat workout songs"
POLL_S = 0.05
_PHASES = re.compile(r"Start-up: encoder ([\d.]+) s, index ([\d.]+) s, page ([\d.]+) s\.")


@dataclass
class StartupResult:
    """When each step of one cold start finished, in seconds after the process was started."""

    server_up_s: float
    """The server answered its first HTTP request."""
    connected_s: float
    """A gradio_client had read the app's API."""
    first_answer_s: float
    """``/chat`` returned its first list of songs."""
    app_phases: dict[str, float] = field(default_factory=dict)
    """What ``app.py`` reports: encoder, index and page seconds (empty if it printed no start-up line)."""
    reply: str = ""

    @property
    def imports_s(self) -> float | None:
        """Interpreter start, imports and the server's own start: the part of ``server_up_s`` the app does not time."""
        return self.server_up_s - sum(self.app_phases.values()) if self.app_phases else None

    def breakdown(self) -> str:
        """``imports and server 3.4 s, encoder 1.0 s, index 0.1 s, page 0.4 s, connect 0.3 s, first request 0.9 s``."""
        parts = []
        if self.imports_s is not None:
            parts.append(f"imports and server {self.imports_s:.1f} s")
            parts += [f"{name} {seconds:.1f} s" for name, seconds in self.app_phases.items()]
        else:
            parts.append(f"server up {self.server_up_s:.1f} s")
        parts.append(f"connect {self.connected_s - self.server_up_s:.1f} s")
        parts.append(f"first request {self.first_answer_s - self.connected_s:.1f} s")
        return ", ".join(parts)


def prepare(app_args: Sequence[str] = ()) -> None:
    """Build the index and export the query model if they are missing (one request through the CLI), untimed."""
    command = [sys.executable, "-m", "assistant", "songs", "--quiet", *app_args]
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"Preparing the index failed: {done.stderr.strip() or done.stdout.strip()}")


def measure_startup(
    app_args: Sequence[str] = (),
    request: str = FIRST_REQUEST,
    timeout_s: float = 180.0,
    environment: Mapping[str, str] | None = None,
) -> StartupResult:
    """Start ``python app.py`` (with ``app_args``, and ``environment`` added to this process's) on a free port and
    time it to its first answer, then stop it."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port), *app_args],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(environment or {}), "PYTHONUNBUFFERED": "1"},
    )
    try:
        _wait_for_server(url, process, started + timeout_s)
        server_up = time.perf_counter() - started
        client = Client(url, verbose=False, download_files=False)
        connected = time.perf_counter() - started
        reply = str(client.predict(request, None, None, api_name="/chat"))
        first_answer = time.perf_counter() - started
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    if "1. " not in reply:
        raise RuntimeError(f"The first answer lists no songs: {reply[:200]!r}")
    match = _PHASES.search(output or "")
    phases = dict(zip(("encoder", "index", "page"), map(float, match.groups()), strict=True)) if match else {}
    return StartupResult(server_up, connected, first_answer, phases, reply)


def startup_line(result: StartupResult) -> str:
    """The target, the measured figure, PASS/FAIL, and where the time went."""
    seconds = result.first_answer_s
    return (
        f"Start-up: first answer {seconds:.1f} s after `python app.py` (target <= {STARTUP_TARGET_S:.0f} s) "
        f"{verdict(seconds, STARTUP_TARGET_S)}: {result.breakdown()}"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_server(url: str, process: subprocess.Popen, deadline: float) -> None:
    """Poll ``url`` until it answers; fail with the app's output if it exits or the deadline passes."""
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise RuntimeError(f"app.py exited with code {process.returncode}: {output.strip()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(POLL_S)
    raise RuntimeError(f"app.py did not answer at {url} within the time limit.")


def main(argv: list[str] | None = None) -> int:
    """Time the start-up a few times and print the median against the target."""
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="cold starts to time (default 3; the median counts)")
    parser.add_argument("--catalogue", type=Path, help="serve this catalogue (default: the bundled one)")
    parser.add_argument(
        "--fresh-clone",
        action="store_true",
        help="nothing prepared, every start with an empty index root (the bundled catalogue is then served from the "
        "shipped index); the model cache (the unpacked model, its ONNX exports, the concept vectors) is kept",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="as on a freshly installed machine: every start with an empty index root and an empty model cache, so "
        "the model is unpacked from its PyPI parts and nothing exported or embedded before is there",
    )
    parser.add_argument(
        "--avx2", action="store_true", help="start the app as on an AVX2-only CPU (sets ONEDNN_MAX_CPU_ISA=AVX2)"
    )
    args = parser.parse_args(argv)
    app_args = ["--catalogue", str(args.catalogue)] if args.catalogue else []
    cpu = {ISA_VARIABLE: "AVX2"} if args.avx2 else {}
    if args.fresh or args.fresh_clone:
        with tempfile.TemporaryDirectory(prefix="moodring-fresh-") as empty:
            results = [
                measure_startup(app_args, environment={**cpu, **fresh_environment(Path(empty) / str(run), args.fresh)})
                for run in range(args.runs)
            ]
    else:
        prepare(app_args)
        results = [measure_startup(app_args, environment=cpu) for _ in range(args.runs)]
    for number, result in enumerate(results, 1):
        print(f"run {number}: first answer {result.first_answer_s:.1f} s ({result.breakdown()})")
    print(startup_line(median_result(results)))
    return 0


def fresh_environment(folder: Path, empty_model_cache: bool) -> dict[str, str]:
    """Settings for a start that finds no index (and, with ``empty_model_cache``, no model cache) under ``folder``."""
    environment = {"MOODRING_INDEX_ROOT": str(folder / "indexes")}
    if empty_model_cache:
        environment["MOODRING_MODEL_CACHE_DIR"] = str(folder / "models")
    return environment


def median_result(results: list[StartupResult]) -> StartupResult:
    """The run with the median time to first answer."""
    return sorted(results, key=lambda r: r.first_answer_s)[(len(results) - 1) // 2]


if __name__ == "__main__":
    raise SystemExit(main())
