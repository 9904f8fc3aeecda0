"""A history sent with /chat is replayed from its latest turns only, within the Settings bounds, and the reply
says so: what a supplied history can cost is bounded whatever it holds."""

from __future__ import annotations

import time

from assistant.chat import ChatSession, chat, latest_turns, replay
from index_builder.settings import Settings


def test_latest_turns_keep_the_newest_within_both_bounds():
    turns = ("a" * 10, "b" * 10, "c" * 10, "d" * 10)
    assert latest_turns(turns, 3, 25) == ("c" * 10, "d" * 10)
    assert latest_turns(turns, 1, 100) == ("d" * 10,)
    assert latest_turns(("x" * 50, "short"), 10, 20) == ("short",)
    assert latest_turns(("x" * 50,), 10, 20) == ()


def test_history_bounds_are_settings():
    settings = Settings.from_env({"MOODRING_MAX_HISTORY_TURNS": "3", "MOODRING_MAX_HISTORY_CHARS": "900"})
    assert (settings.max_history_turns, settings.max_history_chars) == (3, 900)


def test_a_long_supplied_history_replays_only_its_latest_turns(bundled_engine):
    moods = ("calm acoustic", "happy dance", "sad piano", "loud rock", "chill study")
    turns = [(f"{moods[i % 5]} songs number {i} " * 40)[:499] for i in range(30)]
    history = [m for turn in turns for m in ({"role": "user", "content": turn}, {"role": "assistant", "content": "."})]
    started = time.perf_counter()
    reply, session = chat("show more", history, ChatSession(), bundled_engine, 5)
    elapsed = time.perf_counter() - started
    settings = bundled_engine.settings
    kept = min(settings.max_history_turns, settings.max_history_chars // 499)
    assert reply.startswith(f"_Only your last {kept} of 30 earlier messages were read again")
    expected = replay(turns[-kept:], bundled_engine, 5)
    assert session.dialogue.shown[: len(expected.shown)] == expected.shown
    assert session.turns == (*turns, "show more")  # the same history next time continues without a replay
    print(f"\n[history] 30 turns of 499 characters answered in {elapsed:.2f} s")
