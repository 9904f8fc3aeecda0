"""Thirty people rating songs at once through ``gradio_client``: each session's like and dislike land in a profile
of its own in the app's SQLite store, with the songs that session was shown, and nobody else's."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from gradio_client import Client

from assistant.profile_store import ProfileStore
from tests.helpers import listed_songs

SESSIONS = 30
SONGS = 3


def rate_in_a_session(url: str, engine, n: int) -> dict:
    """One client: a request of its own, a like of one song of the answer and a dislike of another."""
    client = Client(url, verbose=False, download_files=False)
    reply = client.predict(message=f"songs from {2010 + n % 10}", k=SONGS, api_name="/chat")
    shown = [(str(row["song_id"]), row["title"]) for row in listed_songs(reply, engine)]
    liked, disliked = n % SONGS, (n + 1) % SONGS
    client.predict(song=str(liked + 1), verdict="like", api_name="/feedback")
    result = client.predict(song=str(disliked + 1), verdict="dislike", api_name="/feedback")
    return {
        "owner": result["profile"]["profile_id"],
        "shown": shown,
        "liked": shown[liked],
        "disliked": shown[disliked],
    }


def test_thirty_sessions_rating_at_once_leave_thirty_separate_correct_profiles(app_url, bundled_engine):
    with ThreadPoolExecutor(SESSIONS) as pool:
        sessions = list(pool.map(lambda n: rate_in_a_session(app_url, bundled_engine, n), range(SESSIONS)))
    assert len({s["owner"] for s in sessions}) == SESSIONS  # each client got a profile of its own
    store = ProfileStore(bundled_engine.settings.profile_db_path)  # read back from the file, not the app's memory
    for session in sessions:
        assert len(session["shown"]) == SONGS
        profile = store.profile(session["owner"])
        assert [(s.song_id, s.title) for s in profile.likes] == [session["liked"]]
        assert [(s.song_id, s.title) for s in profile.dislikes] == [session["disliked"]]
        assert sorted(s.song_id for s in profile.shown) == sorted(song_id for song_id, _ in session["shown"])
        assert profile.blocked == ()
