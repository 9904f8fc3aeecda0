"""The conversation: follow-up phrasings, refinements whose conditions all hold, pages, similarity, explanations."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from assistant.chat import ChatSession, chat, open_catalogue, release, replay, search_songs, user_turns
from assistant.dialogue import DialogueState, is_refinement, read_follow_up, respond
from assistant.understanding import understand
from index_builder.errors import QueryError
from tests.helpers import SPOTIFY_HEADER, SPOTIFY_ROWS, spotify_catalogue, write_csv

HIGH_ENERGY = {"high energy", "very high energy", "intense energy"}
CALM = {"low energy", "moderate energy"}

FOLLOW_UPS = [
    ("show more", "more", "", None),
    ("Show more!", "more", "", None),
    ("5 more", "more", "", 5),
    ("give me 5 more songs", "more", "", 5),
    ("another 3", "more", "", 3),
    ("next", "more", "", None),
    ("next page", "more", "", None),
    ("more please", "more", "", None),
    ("more of those", "more", "", None),
    ("keep going", "more", "", None),
    ("why #3", "why", "#3", None),
    ("why #3?", "why", "#3", None),
    ("Why is number 3 there?", "why", "number 3", None),
    ("explain 2", "why", "2", None),
    ("why did you pick Bad Romance?", "why", "bad romance", None),
    ("tell me about #2", "why", "#2", None),
    ("what about #4", "why", "#4", None),
    ("why?", "why", "", None),
    ("more like #2", "like", "#2", None),
    ("more like Bad Romance", "like", "bad romance", None),
    ("songs like bad romance but slower", "like", "bad romance but slower", None),
    ("something similar to the second one", "like", "the second one", None),
    ("more like these", "like", "these", None),
    ("like #1", "like", "#1", None),
    ("start over", "start_over", "", None),
    ("Start over: sad songs", "start_over", "sad songs", None),
    ("reset", "start_over", "", None),
    ("new search", "start_over", "", None),
    ("let's start again", "start_over", "", None),
    ("help", "help", "", None),
    # everything else is a request, parsed against the catalogue
    ("more upbeat", "request", "", None),
    ("calmer", "request", "", None),
    ("older ones", "request", "", None),
    ("no more Drake", "request", "", None),
    ("what about hip hop", "request", "", None),
    ("tell me about sad songs", "request", "", None),
    ("why not something happier", "request", "", None),
    ("party songs like TiK ToK, no Kesha", "request", "", None),
    ("i like sad songs", "request", "", None),
]


@pytest.mark.parametrize(("text", "kind", "target", "count"), FOLLOW_UPS, ids=[f[0] for f in FOLLOW_UPS])
def test_follow_up_shapes(text, kind, target, count):
    follow_up = read_follow_up(text)
    assert (follow_up.kind, follow_up.target, follow_up.count) == (kind, target, count)


REFINEMENTS = [
    ("calmer", True),
    ("a bit calmer", True),
    ("more upbeat", True),
    ("faster ones", True),
    ("no Kesha", True),
    ("no more Drake", True),
    ("not Eminem", True),
    ("nothing by Drake", True),
    ("less loud", True),
    ("only after 2015", True),
    ("from the 2010s", True),
    ("before 2012", True),
    ("give me 5", True),
    ("only hip hop", True),
    ("what about hip hop", True),
    ("but acoustic", True),
    ("by Rihanna", True),
    ("no country", True),
    ("sad acoustic songs", False),
    ("songs for a rainy day", False),
    ("a sad song for a rainy day", False),
    ("hip hop", False),
    ("party songs like TiK ToK", False),
    ("upbeat workout songs, nothing before 2015", False),
]


@pytest.mark.parametrize(("text", "expected"), REFINEMENTS, ids=[r[0] for r in REFINEMENTS])
def test_refinement_or_new_request(bundled_engine, text, expected):
    assert is_refinement(text, understand(text, bundled_engine.vocabulary)) is expected


def _rows(engine, state):
    songs = engine.songs.set_index("song_id")
    return [songs.loc[r.song_id] for r in state.last_page]


def _energy_words(engine, state):
    words = dict(zip(engine.songs["song_id"], engine.catalogue.words["energy"], strict=True))
    return {words[r.song_id] for r in state.last_page}


def _talk(engine, *messages, k=8):
    state = DialogueState()
    replies = []
    for message in messages:
        reply, state = respond(message, state, engine, k)
        replies.append(reply)
    return replies, state


def test_three_turn_refinement_keeps_every_condition(bundled_engine):
    replies, state = _talk(bundled_engine, "upbeat workout songs", "no Kesha", "only after 2015")
    assert len(state.last_page) == 8
    for song in _rows(bundled_engine, state):
        assert song["year"] >= 2016
        assert "kesha" not in song["artist"].casefold() and "kesha" not in song["title"].casefold()
    assert _energy_words(bundled_engine, state) <= HIGH_ENERGY
    assert "**Looking for:** high energy, workout; excluding Kesha; 2016 or later" in replies[-1]
    assert "Changed the last request" in replies[-1]


def test_calmer_replaces_high_energy_with_a_step_down(bundled_engine):
    energy = dict(zip(bundled_engine.songs["song_id"], bundled_engine.catalogue.raw["energy"], strict=True))
    _, before = _talk(bundled_engine, "upbeat workout songs")
    replies, state = _talk(bundled_engine, "upbeat workout songs", "calmer")
    median = statistics.median(energy[r.song_id] for r in before.last_page)
    assert all(energy[r.song_id] < median for r in state.last_page)  # every song calmer than the last answer's middle
    assert "dropped high energy" in replies[-1]
    assert "energy: median" in replies[-1]
    assert "workout" in state.intent.describe()  # still workout songs, only calmer: a step, not lullabies


def test_more_upbeat_after_sad_songs(bundled_engine):
    _, state = _talk(bundled_engine, "calm songs for studying", "more upbeat")
    assert _energy_words(bundled_engine, state) <= HIGH_ENERGY


def test_no_more_artist_removes_their_features_too(bundled_engine):
    _, before = _talk(bundled_engine, "hip hop songs", k=20)
    assert any("drake" in r.artist.casefold() for r in before.last_page)
    _, state = _talk(bundled_engine, "hip hop songs", "no more Drake", k=20)
    assert state.last_page
    for result in state.last_page:
        assert "drake" not in result.artist.casefold() and "drake" not in result.title.casefold()


def test_older_ones_go_below_the_median_year(bundled_engine):
    _, before = _talk(bundled_engine, "happy dance pop")
    middle = sorted(r.year for r in before.last_page)[len(before.last_page) // 2]
    reply, after = respond("older ones", before, bundled_engine, 8)
    assert after.last_page
    assert all(r.year < middle for r in after.last_page if r.year), reply
    reply, newer = respond("newer ones", after, bundled_engine, 8)
    assert newer.last_page
    median_shown = statistics.median(r.year for r in after.last_page)  # 2011.5: newer is 2012 on
    assert all(r.year > median_shown for r in newer.last_page), reply


def test_show_more_pages_without_repeats(bundled_engine):
    replies, state = _talk(bundled_engine, "sad songs", "show more", "3 more", k=5)
    ids = [r.song_id for r in state.shown]
    assert len(ids) == len(set(ids)) == 13
    assert [r.rank for r in state.shown] == list(range(1, 14))
    assert "#6 on" in replies[1] and "\n11. **" in replies[2]
    valence = dict(zip(bundled_engine.songs["song_id"], bundled_engine.catalogue.words["valence"], strict=True))
    assert {valence[i] for i in ids} <= {"very sad mood", "sad mood"}


def test_show_more_stops_when_nothing_else_fits(bundled_engine):
    replies, state = _talk(bundled_engine, "songs by Adele", "show more", k=50)
    assert all(r.artist == "Adele" for r in state.shown)
    assert "every song that fits" in replies[-1]
    assert state.shown and len(state.last_page) == len(state.shown)


def test_more_like_a_listed_song(bundled_engine):
    replies, state = _talk(bundled_engine, "high energy dance pop", "more like #2")
    _, first = _talk(bundled_engine, "high energy dance pop")
    seed = first.last_page[1]
    assert seed.song_id not in state.shown_ids
    assert state.like_ids == (seed.song_id,)
    assert f"songs like {seed.title}" in replies[-1].replace("\\", "")
    assert _energy_words(bundled_engine, state) <= HIGH_ENERGY  # the list's conditions still hold


def test_more_like_a_title_with_a_typo_and_a_change(bundled_engine):
    reply, state = respond("songs like Bad Romanse but slower", DialogueState(), bundled_engine, 5)
    assert "songs like Bad Romance by Lady Gaga" in reply
    tempo = dict(zip(bundled_engine.songs["song_id"], bundled_engine.catalogue.words["tempo"], strict=True))
    assert {tempo[r.song_id] for r in state.last_page} <= {"very slow tempo", "slow tempo"}
    assert all(r.title != "Bad Romance" for r in state.last_page)


def test_more_like_an_unknown_title_is_a_request(bundled_engine):
    _, state = respond("songs like a summer evening", DialogueState(), bundled_engine, 5)
    assert state.like_ids == () and len(state.last_page) == 5


def test_why_gives_the_long_explanation(bundled_engine):
    replies, state = _talk(bundled_engine, "upbeat workout songs, no Kesha, nothing before 2015", "why #3")
    third = state.shown[2]
    why = replies[-1]
    assert why.startswith(f"**#3 {third.title}")
    assert "**high energy** (must have): ✓" in why
    assert "**workout** (leaning towards)" in why
    assert "not by Kesha" in why and "(2015 or later)" in why
    assert "**All its words:**" in why and "> " in why
    assert respond("why #99", state, bundled_engine)[0].startswith("There is no #99")
    by_title = respond(f"why {third.title}", state, bundled_engine)[0]
    assert by_title == why


def test_why_and_more_before_any_list(bundled_engine):
    assert "no list" in respond("why #1", DialogueState(), bundled_engine)[0]
    assert "Ask for some songs first" in respond("show more", DialogueState(), bundled_engine)[0]


def test_start_over_forgets_the_request(bundled_engine):
    replies, state = _talk(bundled_engine, "sad songs", "start over")
    assert state.intent is None and state.shown == ()
    replies, state = _talk(bundled_engine, "sad songs", "start over: happy songs")
    assert "**Looking for:** happy" in replies[-1] and "sad" not in replies[-1].split("\n")[0]


def test_small_talk_and_errors_do_not_search(bundled_engine):
    reply, state = respond("thanks!", DialogueState(), bundled_engine)
    assert "Describe a mood" in reply and state.intent is None
    _, listed = _talk(bundled_engine, "sad songs")
    reply, after = respond("ok thanks", listed, bundled_engine)
    assert "Tell me how to change" in reply and after == listed
    reply, after = respond("   ", listed, bundled_engine)
    assert "Tell me a mood" in reply and after == listed


def test_impossible_refinement_says_which_condition(bundled_engine):
    replies, _ = _talk(bundled_engine, "hip hop", "by Adele")
    assert "Nothing matches" in replies[-1]


def test_first_answer_carries_the_hint_once(bundled_engine):
    replies, _ = _talk(bundled_engine, "sad songs", "happy songs")
    assert "Follow up with" in replies[0] and "Follow up with" not in replies[1]


# ---- sessions, replay, uploads and JSON search ------------------------------------------------------------------


def test_chat_replays_a_history_it_did_not_answer(bundled_engine):
    history = [
        {"role": "user", "content": [{"type": "text", "text": "upbeat workout songs"}]},
        {"role": "assistant", "content": "..."},
    ]
    reply, session = chat("no Kesha", history, ChatSession(), bundled_engine, 5)
    assert "**Looking for:** high energy, workout; excluding Kesha" in reply
    assert session.turns == ("upbeat workout songs", "no Kesha")
    # A cleared chat starts afresh even though the session remembers a request.
    reply, _ = chat("no Kesha", [], session, bundled_engine, 5)
    assert "**Looking for:** excluding Kesha" in reply


def test_user_turns_reads_every_history_shape():
    history = [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": [{"type": "text", "text": "c"}]},
        ["d", "e"],
        [None, "only a bot message"],
    ]
    assert user_turns(history) == ("a", "c", "d")


def test_replay_matches_the_live_conversation(bundled_engine):
    _, live = _talk(bundled_engine, "sad songs", "show more", k=None)
    replayed = replay(["sad songs", "show more"], bundled_engine)
    assert replayed.shown_ids == live.shown_ids


def test_uploaded_catalogue_is_searched_and_titles_are_escaped(bundled_engine, tmp_path):
    rows = [*SPOTIFY_ROWS, ["id9", "<b>*Loud*</b> [x](y)", "Tag Team", "50", "2017", "edm", "0.8", "0.96", "-2",
                            "0.05", "0.01", "0.7", "0.1", "0.6", "155", "190000"]]  # fmt: skip
    upload = write_csv(tmp_path / "mine.csv", SPOTIFY_HEADER, rows)
    message, session = open_catalogue(upload, [], ChatSession(), bundled_engine.settings, bundled_engine.encoder)
    assert message.startswith("Now searching **mine.csv**: 5 songs from 7 rows.")
    assert session.engine is not None and session.workspace.is_dir()
    reply, session = chat("energetic workout", [], session, bundled_engine, 5)
    assert "&lt;b&gt;\\*Loud\\*&lt;/b&gt; \\[x\\](y)" in reply and "<b>" not in reply
    message, back = open_catalogue(None, [], session, bundled_engine.settings, bundled_engine.encoder)
    assert "Back to the app's own catalogue" in message and back.engine is None
    assert not session.workspace.exists()


def test_unusable_upload_is_one_sentence_and_keeps_the_session(bundled_engine, tmp_path):
    bad = write_csv(tmp_path / "bad.csv", ["label", "energy"], [["x", "0.1"]])
    before = ChatSession()
    message, after = open_catalogue(bad, [], before, bundled_engine.settings, bundled_engine.encoder)
    assert message.startswith("I could not use bad.csv: This catalogue cannot be used: missing required column(s)")
    assert after is before
    too_big = spotify_catalogue(tmp_path, "big.csv")
    message, _ = open_catalogue(too_big, [], before, bundled_engine.settings, bundled_engine.encoder, max_songs=2)
    assert "has 4 songs; the app embeds at most 2" in message


def test_release_removes_the_workspace(tmp_path):
    folder = tmp_path / "ws"
    folder.mkdir()
    release(ChatSession(workspace=folder))
    assert not folder.exists()
    release("not a session")  # Gradio may hand back anything it stored


def test_search_songs_applies_filters(bundled_engine):
    results = search_songs(bundled_engine, "sad songs", 10, year_min=2016, exclude_artists=["adele"])
    assert len(results) == 10
    assert all(r["year"] >= 2016 and r["artist"] != "Adele" for r in results)
    assert set(results[0]) == {"rank", "song_id", "title", "artist", "year", "genre", "score", "description",
                               "explanation", "matched"}  # fmt: skip
    pop = search_songs(bundled_engine, "happy songs", 5, genres=["Dance-Pop"])
    assert all(r["genre"] == "dance pop" for r in pop)


def test_search_songs_never_breaks_a_condition(bundled_engine):
    assert search_songs(bundled_engine, "hip hop", 5, artists=["Adele"]) == []
    relaxed = search_songs(bundled_engine, "hip hop", 5, artists=["Adele"], relax=True)
    assert len(relaxed) == 5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"artists": ["Adel"]}, "There is no artist 'Adel' in this catalogue. Did you mean 'Adele'"),
        ({"genres": ["polka"]}, "There is no genre 'polka'"),
        ({"year_min": 2018, "year_max": 2012}, "year_min 2018 is after year_max 2012"),
    ],
)
def test_search_songs_rejects_unknown_filters(bundled_engine, kwargs, message):
    with pytest.raises(QueryError, match=message.replace("(", r"\(")):
        search_songs(bundled_engine, "songs", 5, **kwargs)


def test_oversized_upload_is_refused_before_reading(bundled_engine, tmp_path, monkeypatch):
    import assistant.chat

    monkeypatch.setattr(assistant.chat, "MAX_UPLOAD_BYTES", 100)
    upload = spotify_catalogue(tmp_path, "large.csv")
    before = ChatSession()
    message, after = open_catalogue(upload, [], before, bundled_engine.settings, bundled_engine.encoder)
    assert "uploads are limited to" in message and after is before


def test_uploads_live_only_in_a_temporary_folder(bundled_engine, tmp_path):
    import tempfile

    upload = spotify_catalogue(tmp_path, "mine.csv")
    _, session = open_catalogue(upload, [], ChatSession(), bundled_engine.settings, bundled_engine.encoder)
    assert session.workspace.resolve().is_relative_to(Path(tempfile.gettempdir()).resolve())
    written = [p for p in session.workspace.rglob("*") if p.is_file()]
    assert written and all(p.resolve().is_relative_to(session.workspace.resolve()) for p in written)
    release(session)


@pytest.mark.parametrize(
    ("message", "leans_happy"),
    [("I like calm music", False), ("I hate Mondays, cheer me up", True), ("i dont like sad songs", True)],
)
def test_a_taste_said_in_words_is_a_request_not_a_missing_title(bundled_engine, message, leans_happy):
    """A feedback cue before words that name no song but describe songs ("I like calm music") asks for songs."""
    reply, state = respond(message, DialogueState(), bundled_engine, 10)
    assert "There is no song called" not in reply
    assert len(state.last_page) == 10 and not state.feedback
    catalogue = bundled_engine.catalogue
    shown = catalogue.rows_of([r.song_id for r in state.last_page])
    valence = statistics.median(catalogue.raw["valence"].to_numpy()[shown])
    assert (valence > catalogue.raw["valence"].median()) == leans_happy


def test_an_artist_the_catalogue_lacks_is_said_and_never_read_as_a_mood(bundled_engine):
    wanted = bundled_engine.understand("party songs by Metallica")
    assert wanted.missing_artists == {"Metallica": "by"} and not wanted.readings
    reply, _ = respond("party songs by Metallica", DialogueState(), bundled_engine, 10)
    assert "This catalogue has no songs by Metallica" in reply
    reply, _ = respond("upbeat songs like Metallica", DialogueState(), bundled_engine, 10)
    assert "Metallica is not in this catalogue" in reply
    excluded = bundled_engine.understand("chill songs without Metallica")
    assert "metallica" not in excluded.semantic_text and not excluded.missing_artists
    for everyday in ("songs that feel like Sunday morning", "Songs By The Sea", "music by candlelight"):
        assert not bundled_engine.understand(everyday).missing_artists, everyday
