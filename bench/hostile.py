"""``python -m bench.hostile --url URL [--pid PID]``: what hostile use costs a running app.

Three figures: the time of one ``/chat`` whose history holds 30 user turns of 499 characters (and the server's
peak RSS around it, read from ``/proc/PID/status``); the files and bytes that N ``/export`` calls add on disk
(in the temp folder and Gradio's cache), again after the client closes and ``--wait`` seconds; and how the app
answers a 60 MB JSON body. With ``--guess USER:PASSWORD`` (an app started with ``--auth``) it times 200 wrong
passwords from one address instead, and says how the right one is answered after them.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import httpx
from gradio_client import Client

from index_builder.cli_common import run_cli

MOODS = ("calm", "happy", "sad", "upbeat", "acoustic", "dance", "romantic", "dark", "chill", "loud")


def long_history(turns: int = 30, chars: int = 499, salt: str = "") -> list[dict[str, str]]:
    """``turns`` user messages of ``chars`` characters, each different (so no query cache helps), with replies."""
    history = []
    for turn in range(turns):
        words = " ".join(f"{MOODS[(turn + i) % len(MOODS)]} songs {salt}{turn}" for i in range(chars))
        history += [{"role": "user", "content": words[:chars]}, {"role": "assistant", "content": "(a list)"}]
    return history


def memory_mb(pid: int | None) -> dict[str, float]:
    """The server's current and peak resident memory in MB (empty without a pid)."""
    if pid is None:
        return {}
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in {"VmRSS", "VmHWM"}:
            fields[name] = int(value.split()[0]) / 1024
    return fields


def disk_usage(folders: list[Path], pattern: str = "*") -> tuple[int, int]:
    """Files and bytes under the folders matching ``pattern`` (recursively)."""
    files = size = 0
    for root in folders:
        for folder in root.glob(pattern):
            for path in [folder] if folder.is_file() else folder.rglob("*"):
                if path.is_file():
                    files += 1
                    size += path.stat().st_size
    return files, size


def guess_passwords(url: str, user: str, password: str, guesses: int = 200) -> dict[str, object]:
    """Time ``guesses`` wrong passwords from one address, then the right one; the status codes seen."""
    statuses: dict[int, int] = {}
    login = f"{url.rstrip('/')}/login"
    with httpx.Client(timeout=30) as http:
        started = time.perf_counter()
        for number in range(guesses):
            code = http.post(login, data={"username": user, "password": f"guess{number}"}).status_code
            statuses[code] = statuses.get(code, 0) + 1
        elapsed = time.perf_counter() - started
        right = http.post(login, data={"username": user, "password": password}).status_code
    return {"guesses": guesses, "s": round(elapsed, 2), "statuses": statuses, "right_password_then": right}


def main(argv: list[str] | None = None) -> int:
    """Measure and print one JSON object."""
    parser = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:7860/", help="the running app")
    parser.add_argument("--pid", type=int, help="the app's process id, for its memory")
    parser.add_argument("--exports", type=int, default=50, help="/export calls (default 50)")
    parser.add_argument("--wait", type=float, default=0.0, help="seconds to wait after closing before counting again")
    gradio_dir = Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir(), "gradio"))
    parser.add_argument("--gradio-dir", type=Path, default=gradio_dir, help="Gradio's cache (GRADIO_TEMP_DIR)")
    parser.add_argument("--guess", metavar="USER:PASSWORD", help="an app started with --auth: time 200 wrong guesses")
    args = parser.parse_args(argv)
    if args.guess:
        print(json.dumps(guess_passwords(args.url, *args.guess.split(":", 1)), indent=2))
        return 0
    report: dict[str, object] = {}

    client = Client(args.url, verbose=False, download_files=False)
    before = memory_mb(args.pid)
    started = time.perf_counter()
    history = long_history(salt=f"{time.time_ns() % 100_000}x")
    reply = client.predict(message="show more", history=history, api_name="/chat")
    report["history_30x499_s"] = round(time.perf_counter() - started, 2)
    report["history_memory_mb"] = {"before": before, "after": memory_mb(args.pid)}
    report["history_reply_start"] = str(reply)[:200]

    songs = client.predict(query="happy songs", k=50, api_name="/search")

    def on_disk() -> dict[str, tuple[int, int]]:
        temp = disk_usage([Path(tempfile.gettempdir())], "moodring-export-*")
        return {"temp_folder": temp, "gradio_cache": disk_usage([args.gradio_dir])}

    def since(start: dict[str, tuple[int, int]]) -> dict[str, dict[str, int]]:
        """Files and bytes added since ``start``, per place."""
        now = on_disk()
        return {
            place: {"files": now[place][0] - start[place][0], "bytes": now[place][1] - start[place][1]} for place in now
        }

    start = on_disk()
    for number in range(args.exports):
        client.predict(fmt="csv", results=songs[: 1 + number % 50], api_name="/export")
    report[f"disk_added_by_{args.exports}_exports"] = since(start)
    client.close()
    time.sleep(args.wait)
    report[f"disk_added_after_close_and_{args.wait:g}_s"] = since(start)

    body = b'{"data": ["' + b"a" * 60_000_000 + b'"]}'
    started = time.perf_counter()
    try:
        answer = httpx.post(f"{args.url.rstrip('/')}/gradio_api/call/search", content=body, timeout=120)
        report["body_60mb"] = {"status": answer.status_code, "s": round(time.perf_counter() - started, 2)}
    except httpx.HTTPError as error:
        report["body_60mb"] = {"error": type(error).__name__, "s": round(time.perf_counter() - started, 2)}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    run_cli(main)
