"""Listening history: each import format (files written here), bad files, matching to the catalogue, weights."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from assistant.listening.for_you import for_you, import_history
from assistant.listening.history_files import HistoryError, HistoryLimits, read_history, read_history_file
from assistant.listening.matching import HOW, NO_ARTIST, NO_TITLE, match_plays
from assistant.listening.taste_weights import play_weights
from assistant.profile_store import ProfileError, ProfileStore
from assistant.profiles import save_listening_taste
from index_builder.settings import Settings
from tests.helpers import playlist_catalogue, test_settings

SKIP_MS = 30_000
LIMITS = HistoryLimits(max_files=3, max_file_bytes=100_000, max_total_bytes=150_000, max_rows=1_000)


@pytest.fixture(scope="module")
def playlist_engine(encoder, tmp_path_factory):
    from assistant.engine import SearchEngine

    folder = tmp_path_factory.mktemp("listening")
    return SearchEngine.from_settings(test_settings(folder, playlist_catalogue(folder)), encoder=encoder)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _json(path: Path, records: object) -> Path:
    return _write(path, json.dumps(records))


# ---- formats ----------------------------------------------------------------------------------------------------


def test_spotify_account_data(tmp_path):
    path = _json(
        tmp_path / "StreamingHistory_music_0.json",
        [
            {"endTime": "2024-01-05 14:32", "artistName": "Power Crew", "trackName": "Gym Rush", "msPlayed": 175000},
            {"endTime": "2024-01-06 09:00", "artistName": "Lena Soft", "trackName": "Quiet Rain", "msPlayed": 4000},
        ],
    )
    kind, plays = read_history_file(path, 100, SKIP_MS)
    assert kind == "spotify_account"
    assert plays["title"].tolist() == ["Gym Rush", "Quiet Rain"]
    assert plays["skipped"].tolist() == [False, True]  # 4 s: under Spotify's 30 s, a skip
    assert plays["played_at"].iloc[0] == pd.Timestamp("2024-01-05 14:32", tz="UTC")


def test_spotify_extended_history_keeps_ids_and_skips_and_drops_episodes(tmp_path):
    record = {
        "ts": "2024-02-01T20:15:03Z",
        "ms_played": 200000,
        "master_metadata_track_name": "Block Party",
        "master_metadata_album_artist_name": "MC Verse",
        "spotify_track_uri": "spotify:track:0123456789abcdefABCDEF",
        "skipped": True,
        "reason_end": "fwdbtn",
    }
    episode = {**record, "master_metadata_track_name": None, "spotify_track_uri": None, "episode_name": "News"}
    path = _json(tmp_path / "Streaming_History_Audio_2024.json", [record, episode])
    kind, plays = read_history_file(path, 100, SKIP_MS)
    assert kind == "spotify_extended"
    assert len(plays) == 1
    assert plays["track_id"].iloc[0] == "0123456789abcdefABCDEF"
    assert bool(plays["skipped"].iloc[0]) is True  # the file says so, even after 200 s


def test_lastfm_without_header(tmp_path):
    path = _write(
        tmp_path / "lastfm.csv",
        "MC Verse,Streets,Block Party,31 Jan 2021 12:34\nLena Soft,Rain,Quiet Rain,01 Feb 2021 08:00\n",
    )
    kind, plays = read_history_file(path, 100, SKIP_MS)
    assert kind == "lastfm"
    assert plays[["title", "artist"]].values.tolist() == [["Block Party", "MC Verse"], ["Quiet Rain", "Lena Soft"]]
    assert plays["played_at"].iloc[0] == pd.Timestamp("2021-01-31 12:34", tz="UTC")
    assert not plays["skipped"].any()


def test_lastfm_with_header_and_unix_times(tmp_path):
    path = _write(
        tmp_path / "scrobbles.csv",
        "uts;utc_time;artist;album;track\n1612100000;31 Jan 2021, 13:33;MC Verse;Streets;Block Party\n",
    )
    kind, plays = read_history_file(path, 100, SKIP_MS)
    assert kind == "lastfm"
    assert plays["played_at"].iloc[0] == pd.Timestamp(1612100000, unit="s", tz="UTC")


def test_plain_csv_with_plays(tmp_path):
    path = _write(tmp_path / "mine.csv", "title,artist,plays\nGym Rush,Power Crew,12\nQuiet Rain,Lena Soft,3\n")
    kind, plays = read_history_file(path, 100, SKIP_MS)
    assert kind == "plain"
    assert plays["plays"].tolist() == [12, 3]
    assert plays["played_at"].isna().all()


def test_several_files_at_once_and_a_bad_one_is_named(tmp_path):
    good = _write(tmp_path / "a.csv", "title,artist\nGym Rush,Power Crew\n")
    other = _json(tmp_path / "b.json", [{"endTime": "2024-01-05 14:32", "artistName": "X", "trackName": "Y"}])
    bad = _write(tmp_path / "c.json", "{not json")
    history = read_history([good, other, bad], LIMITS, SKIP_MS)
    assert len(history.plays) == 2
    assert [f["file"] for f in history.files] == ["a.csv", "b.json"]
    assert history.errors == ["c.json is not valid JSON (Expecting property name enclosed in double quotes)."]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", "", "empty.csv is empty."),
        ("bin.json", "\x00\x01\x02", "bin.json is not a text file (JSON or CSV)."),
        ("obj.json", '{"a": 1}', "obj.json is JSON but not a list of plays, as Spotify's history files are."),
        ("other.json", '[{"foo": 1}]', "other.json is JSON, but not a Spotify history"),
        ("cols.csv", "a,b,c,d,e\n1,2,3,4,5\n", "cols.csv is a CSV, but not a listening history"),
        ("plays.csv", "title,artist,plays\nA,B,many\n", "plays.csv: the plays column must hold whole numbers"),
        ("blank.csv", "title,artist\n,B\n", "blank.csv holds no plays with both a title and an artist."),
    ],
)
def test_bad_files_are_one_sentence(tmp_path, name, content, message):
    path = _write(tmp_path / name, content)
    with pytest.raises(HistoryError) as raised:
        read_history([path], LIMITS, SKIP_MS)
    assert str(raised.value).startswith(message)
    assert str(raised.value).count(". ") == 0 or "(" in str(raised.value)


def test_limits_on_files_bytes_and_rows(tmp_path):
    paths = [_write(tmp_path / f"{i}.csv", "title,artist\nA,B\n") for i in range(4)]
    with pytest.raises(HistoryError, match="4 files were given; a history import takes at most 3"):
        read_history(paths, LIMITS, SKIP_MS)
    big = _write(tmp_path / "big.csv", "title,artist\n" + "A,B\n" * 30_000)
    half = _write(tmp_path / "half.csv", "title,artist\n" + "A,B\n" * 20_000)
    history = read_history([paths[0], big, half, half], replace(LIMITS, max_files=4, max_rows=100_000), SKIP_MS)
    assert history.errors == [
        "big.csv is 120 kB; each history file may be at most 100 kB.",
        "half.csv takes the files past 150 kB together, so it was not read.",
    ]
    assert [f["file"] for f in history.files] == ["0.csv", "half.csv"] and len(history.plays) == 20_001
    many = _write(tmp_path / "many.csv", "title,artist\n" + "A,B\n" * 1_500)
    with pytest.raises(HistoryError, match="more than the 1,000 rows left"):
        read_history([many], LIMITS, SKIP_MS)


# ---- matching ---------------------------------------------------------------------------------------------------


def _plays(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "title": [r[0] for r in rows],
            "artist": [r[1] for r in rows],
            "track_id": [r[2] for r in rows],
            "played_at": pd.NaT,
            "ms_played": float("nan"),
            "skipped": False,
            "plays": 1,
            "source": "test",
        }
    )


def test_matching_by_id_exact_fuzzy_and_reasons(playlist_engine):
    space = playlist_engine.catalogue
    plays = _plays(
        [
            ("Something Else Entirely", "Nobody", "p5"),  # the id wins over a title that differs
            ("GYM RUSH", "power crew", ""),  # casing
            ("Rain Waltz", "Lena Soft feat. Ana Mar", ""),  # brackets and a feat. credit
            ("Senorita", "Beyonce", ""),  # accents
            ("Quiet Rian", "Lena Soft", ""),  # a typo in the title
            ("Lift Off", "Power Crw", ""),  # a typo in the artist
            ("Unknown Song", "Lena Soft", ""),
            ("Anything", "The Nobodies", ""),
        ]
    )
    matched = match_plays(space, plays, fuzzy_ratio=0.85)
    titles = [space.titles[r] if r >= 0 else None for r in matched.plays["row"]]
    assert titles == [
        "Block Party",
        "Gym Rush",
        "Rain Waltz (feat. Ana Mar)",
        "Señorita",
        "Quiet Rain",
        "Lift Off",
        None,
        None,
    ]
    assert matched.plays["how"].tolist()[:6] == [HOW[0], HOW[1], HOW[1], HOW[1], HOW[2], HOW[2]]
    report = matched.report
    assert (report.matched_tracks, report.tracks) == (6, 8)
    assert report.misses == {NO_TITLE: 1, NO_ARTIST: 1}
    assert report.examples[NO_ARTIST] == ["Anything - The Nobodies"]


def test_report_markdown_escapes_titles(playlist_engine):
    plays = _plays([("<b>**Bold**</b>", "[x](http://evil.example)", "")])
    markdown = match_plays(playlist_engine.catalogue, plays, 0.85).report.as_markdown()
    assert "<b>" not in markdown and "&lt;b&gt;\\*\\*Bold" in markdown
    assert "\\[x\\](http&#58;//" in markdown  # the link is shown as text, never made


# ---- weights --------------------------------------------------------------------------------------------------


def test_weights_follow_listening_time_recency_and_skips(playlist_engine):
    space = playlist_engine.catalogue
    settings = Settings(history_half_life_days=30.0, history_skip_weight=0.5)
    rows = {t: space.title_index.find(t).row for t in ("Gym Rush", "Lift Off", "Quiet Rain", "Block Party")}
    now = pd.Timestamp("2024-03-01", tz="UTC")
    matched = pd.DataFrame(
        {
            "row": [rows["Gym Rush"], rows["Lift Off"], rows["Quiet Rain"], rows["Block Party"], rows["Block Party"]],
            "played_at": [now, now - pd.Timedelta(days=30), now, now, now],
            "ms_played": [180_000.0, 190_000.0, 61_250.0, 200_000.0, 5_000.0],
            "skipped": [False, False, False, False, True],
            "plays": [1, 1, 1, 1, 2],
        }
    )
    weights = {w.song_id: w for w in play_weights(space, matched, settings, now=now)}
    by_title = {space.titles[space.row_of(i)]: w for i, w in weights.items()}
    assert by_title["Gym Rush"].weight == pytest.approx(1.0)  # the whole song, today
    assert by_title["Lift Off"].weight == pytest.approx(0.5)  # the whole song, one half-life ago
    assert by_title["Quiet Rain"].weight == pytest.approx(0.25)  # a quarter of its 245 s
    assert by_title["Block Party"].weight == pytest.approx(1.0 - 2 * 0.5)  # heard once, skipped twice
    assert (by_title["Block Party"].heard, by_title["Block Party"].skipped) == (1, 2)


def test_import_history_gives_a_taste_and_for_you_modes(playlist_engine, tmp_path):
    path = _write(tmp_path / "mine.csv", "title,artist,plays\nGym Rush,Power Crew,5\nLift Off,Power Crew,1\n")
    taste = import_history(playlist_engine, [path])
    assert [space_id for space_id, _ in taste.taste()] == ["p1", "p2"]
    assert taste.profile is not None and taste.profile.weights == [5.0, 1.0]
    familiar = for_you(playlist_engine, taste, "familiar", k=7)
    discover = for_you(playlist_engine, taste, "discover", k=7)
    assert "p1" in [r.song_id for r in familiar.results]
    played = next(r for r in familiar.results if r.song_id == "p1")
    assert played.explanation.endswith("you have played it 5 times")
    assert "p1" not in [r.song_id for r in discover.results]  # played 5 times: left out
    assert "p2" in [r.song_id for r in discover.results]  # once: not a lot
    with pytest.raises(Exception, match="mode must be familiar or discover"):
        for_you(playlist_engine, taste, "loud")


def test_a_history_is_saved_as_weighted_likes_in_the_profile(playlist_engine, tmp_path):
    path = _write(tmp_path / "mine.csv", "title,artist,plays\nGym Rush,Power Crew,5\nLift Off,Power Crew,1\n")
    taste = import_history(playlist_engine, [path]).taste()
    catalogue = playlist_engine.catalogue
    store = ProfileStore(tmp_path / "profiles.sqlite3", max_entries=5)
    owner = "browser:history-import-xxxx"
    said = save_listening_taste(store, owner, taste, catalogue, 50)
    assert said == (
        "Added the 2 songs you played most to your profile's likes; the most played counts as much as a like, the "
        "rest by how much you played them."
    )
    likes = store.profile(owner).likes
    assert [(s.song_id, s.title, s.weight) for s in likes] == [("p1", "Gym Rush", 1.0), ("p2", "Lift Off", 0.2)]
    assert store.profile(owner).blend_on(2)  # the saved likes steer answers like clicked ones

    other = "browser:history-import-yyyy"
    assert "(1 played less left out)" in save_listening_taste(store, other, taste, catalogue, 1)
    assert [s.song_id for s in store.profile(other).likes] == ["p1"]
    assert save_listening_taste(store, other, (), catalogue, 50).startswith("Read a listening history first")
    skipped = [("p3", -0.5), ("not-in-this-catalogue", 3.0)]
    assert save_listening_taste(store, other, skipped, catalogue, 50).startswith("No song of that history was heard")

    full = ProfileStore(tmp_path / "full.sqlite3", max_entries=1)
    with pytest.raises(ProfileError, match="the most it keeps is 1"):
        save_listening_taste(full, owner, taste, catalogue, 50)
    assert full.profile(owner).likes == ()  # all or nothing
