"""Issue 13: relative follow-ups move past the last answer by a visible step and say by how much; references that
miss say so; a request in another language is told so. Dialogue tests run on the real bundled engine."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

from assistant.dialogue import DialogueState, respond
from assistant.dialogue.rendering import NOT_ENGLISH
from assistant.language import EnglishCheck, english_check
from assistant.relative import Ask, RelativeMove, RelativeWords, lean_concept, load_relative_words, plan_move
from index_builder.errors import ConfigError

HIGH_ENERGY = {"high energy", "very high energy", "intense energy"}


# ---- reading the words --------------------------------------------------------------------------------------------

ASKS = [
    ("calmer", "energy", -1, "plain"),
    ("even calmer", "energy", -1, "plain"),
    ("much calmer please", "energy", -1, "large"),
    ("a bit cheerier", "valence", 1, "small"),
    ("a little more upbeat", "energy", 1, "small"),
    ("more energy", "energy", 1, "plain"),
    ("more intense", "energy", 1, "plain"),
    ("less aggressive", "energy", -1, "plain"),
    ("something more mellow", "energy", -1, "plain"),
    ("happier", "valence", 1, "plain"),
    ("even happier", "valence", 1, "plain"),
    ("sadder", "valence", -1, "plain"),
    ("faster", "tempo", 1, "plain"),
    ("not so fast", "tempo", -1, "plain"),
    ("way too slow", "tempo", 1, "large"),
    ("louder", "loudness", 1, "plain"),
    ("quieter", "loudness", -1, "plain"),
    ("less mainstream", "popularity", -1, "plain"),
    ("more popular ones", "popularity", 1, "plain"),
    ("more acoustic", "acousticness", 1, "plain"),
    ("less acoustic", "acousticness", -1, "plain"),
    ("more danceable", "danceability", 1, "plain"),
    ("less danceable", "danceability", -1, "plain"),
    ("more live", "liveness", 1, "plain"),
    ("shorter", "duration_s", -1, "plain"),
]


@pytest.mark.parametrize(("text", "feature", "sign", "degree"), ASKS, ids=[a[0] for a in ASKS])
def test_relative_words_read_feature_direction_and_degree(text, feature, sign, degree):
    (ask,) = load_relative_words().read(text)
    assert (ask.feature, ask.sign, ask.degree) == (feature, sign, degree)


def test_two_phrases_for_one_feature_are_one_ask():
    (ask,) = load_relative_words().read("less rap, more singing")
    assert (ask.feature, ask.sign, ask.phrase) == ("speechiness", -1, "less rap, more singing")


@pytest.mark.parametrize("text", ["more like #2", "no more Drake", "show more", "songs for a party", "older ones"])
def test_messages_without_a_relative_word(text):
    assert load_relative_words().read(text) == []


def test_a_phrase_read_two_ways_is_a_config_error(tmp_path):
    path = tmp_path / "relative_words.toml"
    path.write_text(
        '[modifiers]\nup = ["more"]\ndown = []\n[features.energy]\nup = ["more chill"]\nhigh = []\nlow = ["chill"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="more chill"):
        load_relative_words(path)


# ---- the step, on plain arrays ------------------------------------------------------------------------------------

WORDS = RelativeWords(phrases={}, degrees={}, spread_share=0.25, widen=(0.5, 0.0), large_factor=2.0)
VALUES = np.linspace(0.0, 1.0, 101)  # standard deviation about 0.29: a quarter is about 0.073
EDGES = (0.35, 0.55, 0.75)


def _plan(sign, before, degree="plain", base=None, needed=10):
    base = np.ones(len(VALUES), dtype=bool) if base is None else base
    return plan_move(Ask("energy", sign, degree, "calmer"), VALUES, before, EDGES, base, needed, WORDS)


def test_the_step_reaches_the_next_bucket_edge_when_it_is_further():
    move = _plan(-1, 0.70)  # the bucket below starts under 0.55: further than a quarter of the spread
    assert (move.threshold, move.inclusive, move.full_step) == (0.55, False, True)
    assert move.mask(np.array([0.549, 0.55, np.nan])).tolist() == [True, False, False]
    assert move.label == "energy below 0.55"
    up = _plan(1, 0.40)
    assert (up.threshold, up.inclusive) == (0.55, True) and up.label == "energy at least 0.55"


def test_the_step_is_a_quarter_of_the_spread_when_the_edge_is_near_and_for_a_bit():
    spread = float(np.std(VALUES, ddof=1))
    assert _plan(1, 0.74).threshold == pytest.approx(0.74 + 0.25 * spread)
    assert _plan(1, 0.40, "small").threshold == pytest.approx(0.40 + 0.25 * spread)
    assert _plan(1, 0.76, "large").threshold == pytest.approx(0.76 + 0.5 * spread)


def test_too_few_songs_bring_the_step_back_towards_the_median():
    base = VALUES <= 0.625  # the rest of the request allows nothing above 0.62
    quarter = 0.25 * float(np.std(VALUES, ddof=1))  # 0.073: past the 0.55 edge, so the step from 0.50
    move = _plan(1, 0.50, base=base, needed=9)  # a full step (0.58-0.62) leaves 5 songs; half of it 9
    assert not move.full_step and move.threshold == pytest.approx(0.50 + quarter / 2) and move.available == 9
    few = _plan(1, 0.50, base=VALUES <= 0.535, needed=10)
    assert few.threshold == 0.50 and not few.inclusive and few.available == 3
    assert _plan(1, 0.50, base=VALUES <= 0.505) is None


def test_the_lean_wants_the_buckets_past_the_threshold():
    words = ("low energy", "moderate energy", "high energy", "very high energy")
    calmer = RelativeMove("energy", -1, 0.7, 0.55, False, "calmer", "energy below 0.55")
    assert lean_concept(calmer, words, EDGES).wants == {"energy": frozenset(words[:2])}
    livelier = RelativeMove("energy", 1, 0.5, 0.6, True, "livelier", "energy at least 0.60")
    assert lean_concept(livelier, words, EDGES).wants == {"energy": frozenset(words[2:])}
    assert lean_concept(livelier, (), EDGES).wants == {}


# ---- relative follow-ups in the dialogue --------------------------------------------------------------------------


def _talk(engine, *messages, k=10):
    state, replies, states = DialogueState(), [], []
    for message in messages:
        reply, state = respond(message, state, engine, k)
        replies.append(html.unescape(reply.replace("\\", "")))
        states.append(state)
    return replies, states


def _values(engine, feature, state):
    rows = [engine.catalogue.row_of(r.song_id) for r in state.last_page]
    return engine.catalogue.raw[feature].to_numpy()[rows]


def _visible(engine, feature):
    return 0.25 * float(np.nanstd(engine.catalogue.raw[feature].to_numpy(), ddof=1))


def _header(reply, feature):
    match = re.search(rf"{re.escape(feature)}: median ([-\d.:]+)(?: \w+)? -> ([-\d.:]+)", reply)
    assert match, reply
    return match.group(1), match.group(2)


MOVES = [
    (("songs for a rainy heartbreak", "calmer"), "energy", -1),
    (("chill songs for a lazy sunday", "calmer", "even calmer"), "energy", -1),
    (("music for a dinner party", "more energy"), "energy", 1),
    (("songs with rap verses", "less rap, more singing"), "speechiness", -1),
    (("happy songs", "even happier"), "valence", 1),
    (("workout songs", "more intense"), "energy", 1),
    (("running songs", "faster", "even faster"), "tempo", 1),
    (("rainy day songs", "a bit cheerier"), "valence", 1),
]


@pytest.mark.parametrize(("turns", "feature", "sign"), MOVES, ids=[" -> ".join(m[0]) for m in MOVES])
def test_a_relative_follow_up_moves_the_median_a_visible_step_and_says_so(bundled_engine, turns, feature, sign):
    replies, states = _talk(bundled_engine, *turns)
    before, after = _values(bundled_engine, feature, states[-2]), _values(bundled_engine, feature, states[-1])
    assert len(after) == 10 or f"Only {len(after)} songs that fit" in replies[-1]  # the catalogue's calmest end
    shift = (np.median(after) - np.median(before)) * sign
    # A visible step while songs exist there; else a smaller one that the reply owns up to.
    assert shift >= _visible(bundled_engine, feature) or (shift > 0 and "so the step is smaller" in replies[-1])
    name = "mood (valence)" if feature == "valence" else feature
    shown_before, shown_after = _header(replies[-1], name)
    shown = 0.5 if feature == "tempo" else 0.006  # tempo is shown in whole BPM
    assert float(shown_before) == pytest.approx(np.median(before), abs=shown)
    assert float(shown_after) == pytest.approx(np.median(after), abs=shown)


def test_calmer_after_a_rainy_heartbreak_changes_the_list(bundled_engine):
    _, (first, calmer) = _talk(bundled_engine, "songs for a rainy heartbreak", "calmer")
    kept = set(first.shown_ids) & set(calmer.shown_ids)
    assert len(kept) <= 5, "calmer kept most of the list"
    move = calmer.moves[0]
    assert all(move.mask(_values(bundled_engine, "energy", calmer)))


def test_show_more_keeps_the_move_and_even_calmer_stacks(bundled_engine):
    _, states = _talk(bundled_engine, "upbeat songs for a party", "calmer", "show more", "even calmer")
    calmer, more, even = states[1], states[2], states[3]
    (move,) = calmer.moves
    assert more.moves == calmer.moves and len(more.shown) == 20
    assert all(move.mask(_values(bundled_engine, "energy", more)))
    (stacked,) = even.moves  # one move per feature: the new one lies past the old
    assert stacked.threshold < move.threshold
    assert stacked.before == pytest.approx(np.median(_values(bundled_engine, "energy", more)))


def test_calmer_still_replaces_high_energy_and_a_later_wish_replaces_the_move(bundled_engine):
    replies, states = _talk(bundled_engine, "upbeat workout songs", "calmer", "only high energy")
    assert "dropped high energy" in replies[1] and states[1].moves
    assert states[2].moves == () and f"{states[1].moves[0].label})" in replies[2]  # named as dropped
    words = dict(zip(bundled_engine.songs["song_id"], bundled_engine.catalogue.words["energy"], strict=True))
    assert {words[r.song_id] for r in states[2].last_page} <= HIGH_ENERGY


def test_too_few_songs_say_so_and_the_end_stops_the_move(bundled_engine):
    replies, states = _talk(bundled_engine, "Adele songs", "calmer", "even calmer", "even calmer", "even calmer")
    assert "Only 4 songs that fit the rest of this request have lower energy" in replies[1]
    assert all(r.artist == "Adele" for s in states[1:] for r in s.last_page)
    assert "cannot go further" in replies[-1] and "1. " not in replies[-1]
    assert states[-1] == states[-2]


def test_older_says_how_far_the_year_median_went(bundled_engine):
    replies, states = _talk(bundled_engine, "songs from the 2010s", "older")
    before = np.median([r.year for r in states[0].last_page])
    after = np.median([r.year for r in states[1].last_page])
    assert after < before
    assert f"year: median {before:.0f} -> {after:.0f}" in replies[1]


# ---- references that miss -----------------------------------------------------------------------------------------


def test_a_song_that_is_not_there_is_said_so_with_near_titles(bundled_engine):
    reply, state = respond("songs like Blinding Lights", DialogueState(), bundled_engine, 10)
    assert "There is no song or artist called 'Blinding Lights'" in reply
    assert "Lights - Single Version" in reply  # the title index's nearest title, offered
    assert state == DialogueState() and "\n1. " not in reply  # no list of title-word matches


def test_a_missing_song_by_a_known_artist_offers_their_songs(bundled_engine):
    reply, state = respond("songs like Blinding Lights by The Weeknd", DialogueState(), bundled_engine, 10)
    assert "There is no song called 'Blinding Lights' by The Weeknd" in reply
    assert "Starboy" in reply and "The Hills" in reply
    assert state.last_page == ()


def test_a_list_number_past_the_list_is_said_so(bundled_engine):
    replies, states = _talk(bundled_engine, "high energy dance pop", "more like #20")
    assert replies[1] == "There is no #20 in this list; it runs from #1 to #10."
    assert states[1] == states[0]
    reply, _ = respond("more like #3", DialogueState(), bundled_engine, 10)
    assert "There is no list yet" in reply


def test_descriptions_and_artists_after_like_are_still_requests(bundled_engine):
    _, state = respond("songs like Adele", DialogueState(), bundled_engine, 10)
    assert state.intent.similar_artists == ["Adele"] and len(state.last_page) == 10
    _, state = respond("songs like a summer evening", DialogueState(), bundled_engine, 5)
    assert len(state.last_page) == 5


# ---- other languages ----------------------------------------------------------------------------------------------

NOT_ENGLISH_REQUESTS = [
    "canciones tristes para llorar",
    "musique douce pour dormir",
    "悲しい歌",
    "traurige Lieder",
    "canzoni tristi per piangere",
    "música para bailar en una fiesta",
    "chansons d'amour pour un dîner",
    "Lieder zum Entspannen",
    "músicas animadas para correr",
    "грустные песни",
    "슬픈 노래",
    "أغاني حزينة",
    "liedjes om bij te dansen",
    "smutne piosenki na deszczowy dzień",
    "musique pour faire du sport",
    "ledsna låtar",
    "悲伤的歌曲",
    "ruhige Musik zum Lernen",
    "quiero canciones como Despacito",
]
ENGLISH_REQUESTS = [
    "sad songs for a rainy day",
    "songs for a rainy dya",
    "upbeat workuot songs",
    "chill vibes for studyng",
    "Despacito",
    "Señorita",
    "something like Señorita by Shawn Mendes",
    "Beyoncé songs",
    "lofi beats to relax to",
    "edm bangers for the gym",
    "hype music for a road trip w my friends",
    "throwback jams from 2012",
    "party songs like TiK ToK, no Kesha",
    "a bit cheerier",
    "less rap, more singing",
    "tunes 4 a chill sesh",
    "Bad Romanse",
    "plz more songz like that",
    "somthing calm for sleepin",
    "Echame la culpa vibes",
    "café music for a slow morning",
    "reggaeton for a party",
]


@pytest.mark.parametrize("text", NOT_ENGLISH_REQUESTS)
def test_requests_in_other_languages_are_read_as_such(bundled_engine, text):
    assert not english_check(bundled_engine).read(text).english


@pytest.mark.parametrize("text", ENGLISH_REQUESTS)
def test_english_with_typos_and_names_is_english(bundled_engine, text):
    assert english_check(bundled_engine).read(text).english


def test_without_the_model_word_list_only_markers_and_script_decide():
    check = EnglishCheck(known=["despacito"], model_words=[], markers=["canciones", "para"])
    assert check.read("sad bops for the whip").english
    assert not check.read("canciones para llorar").english and not check.read("悲しい歌").english


@pytest.mark.parametrize("text", ["canciones tristes para llorar", "悲しい歌", "traurige Lieder"])
def test_a_request_in_another_language_asks_for_english(bundled_engine, text):
    reply, state = respond(text, DialogueState(), bundled_engine, 10)
    assert reply == NOT_ENGLISH and state == DialogueState()


def test_another_language_keeps_the_names_it_recognises(bundled_engine):
    reply, state = respond("canciones románticas de los 2010", DialogueState(), bundled_engine, 10)
    assert "does not read as English" in reply
    assert state.intent.year_min == 2010 and all(r.year == 2010 for r in state.last_page) and state.last_page


def test_a_follow_up_in_another_language_keeps_the_conversation(bundled_engine):
    replies, states = _talk(bundled_engine, "party songs", "más tranquilo por favor")
    assert replies[1] == NOT_ENGLISH.replace("\\", "") and states[1] == states[0]
