"""Discovery: diversity on arrays against brute force, filters, presets file, exports, and each feature on the
bundled catalogue through the real model (the session ``bundled_engine``)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from assistant.catalogue_view import CatalogueView
from assistant.conditions import Filters
from assistant.discovery.browse import era_of, filtered_search
from assistant.discovery.export import (
    parse_csv,
    parse_m3u,
    parse_text,
    playlist_rows,
    render,
    spotify_uri,
    to_csv,
    to_m3u,
    to_spotify_uris,
    to_text,
    write_export,
)
from assistant.discovery.presets import PRESETS_FILE, Target, find_preset, load_presets, preset_search
from assistant.discovery.similar import more_like_this
from assistant.discovery.taste import radar_figure, recommend_for_taste, taste_profile
from assistant.formatting import format_value
from assistant.ranking import diverse_order, leading_order
from assistant.titles import SongNotFound
from index_builder.buckets import BucketScheme
from index_builder.errors import ConfigError, QueryError
from index_builder.settings import PROJECT_ROOT, Settings

REQUIRED_PRESETS = {"energetic", "chill", "happy", "melancholic", "party", "focused", "romantic", "workout", "sleep"}
SLOW_ACOUSTIC = ["Jar of Hearts", "Tee Shirt - Soundtrack Version", "Beautiful Birds (feat. Birdy)"]


# ---- diversity, on arrays ---------------------------------------------------------------------------------


def _brute_force_mmr(scores, artists, count, cap=2, weight=0.85):
    """The MMR definition written out loop by loop, for comparison."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    pool = [scores[i] for i in order[: max(4 * count, 40)]]
    top, bottom = max(pool), min(pool)
    relevance = {i: (scores[i] - bottom) / (top - bottom) if top > bottom else 1.0 for i in order}
    chosen, picks = [], Counter()
    while len(chosen) < min(count, len(scores)):
        left = [i for i in order if i not in chosen]
        open_ = [i for i in left if picks[artists[i].casefold()] < cap] or left
        best = max(
            open_,
            key=lambda i: (weight * relevance[i] - (1 - weight) * (picks[artists[i].casefold()] > 0), -order.index(i)),
        )
        chosen.append(best)
        picks[artists[best].casefold()] += 1
    return chosen


@pytest.mark.parametrize("seed", range(20))
def test_diverse_order_matches_brute_force_mmr(seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 80))
    scores = rng.random(size).round(3)
    artists = [f"Artist {int(a)}" for a in rng.integers(0, max(1, size // 6), size)]
    count = int(rng.integers(1, 15))
    assert list(diverse_order(scores, artists, count)) == _brute_force_mmr(list(scores), artists, count)


@pytest.mark.parametrize("seed", range(8))
def test_diverse_order_on_long_lists_matches_brute_force_mmr(seed):
    # Long enough that only the leading candidates are sorted; the best 60 songs share three artists, so the
    # leading block has to grow before it holds enough different artists.
    rng = np.random.default_rng(seed)
    size = int(rng.integers(200, 400))
    scores = rng.random(size).round(2)
    artists = [f"Artist {int(a)}" for a in rng.integers(0, size // 3, size)]
    for position, i in enumerate(np.argsort(-scores, kind="stable")[:60]):
        artists[i] = f"Star {position % 3}"
    count = int(rng.integers(5, 15))
    assert list(diverse_order(scores, artists, count)) == _brute_force_mmr(list(scores), artists, count)


def test_leading_order_is_the_head_of_a_stable_sort():
    rng = np.random.default_rng(3)
    for size in (0, 1, 7, 100, 1000):
        scores = rng.integers(0, 20, size).astype(float)  # many ties
        for count in (0, 1, 5, 40, size):
            assert list(leading_order(scores, count)) == list(np.argsort(-scores, kind="stable")[:count])
    with_nan = np.array([0.5, *[np.nan] * 19] * 5)  # NaN sorts last, even when the head reaches into them
    for count in (3, 10):
        assert list(leading_order(with_nan, count)) == list(np.argsort(-with_nan, kind="stable")[:count])


def test_diverse_order_caps_artists_only_while_others_remain():
    scores = np.array([0.9, 0.89, 0.88, 0.87, 0.5, 0.4])
    artists = ["Adele", "adele", "ADELE", "Adele", "Sia", "Sam Smith"]
    order = diverse_order(scores, artists, 5)
    assert Counter(artists[i].casefold() for i in order[:4])["adele"] == 2
    assert sorted(order) == [0, 1, 2, 4, 5]
    assert list(diverse_order(scores, artists, 5, diverse=False)) == [0, 1, 2, 3, 4]
    assert list(diverse_order(scores[:4], artists[:4], 4)) == [0, 1, 2, 3]


def test_diverse_order_edge_cases():
    assert list(diverse_order(np.array([0.3, 0.3, 0.3]), ["a", "b", "c"], 10)) == [0, 1, 2]
    assert len(diverse_order(np.array([0.3]), ["a"], 0)) == 0
    with pytest.raises(ValueError):
        diverse_order(np.array([0.3, 0.2]), ["a"], 1)


# ---- filters and counts -----------------------------------------------------------------------------------


def _songs():
    songs = pd.DataFrame(
        {
            "song_id": ["a", "b", "c", "d"],
            "title": ["A", "B", "C", "D"],
            "artist": ["x", "y", "z", "w"],
            "genre": ["dance pop", "pop", "dance pop", "folk-pop"],
            "year": pd.array([2010, 2015, None, 2019], dtype="Int64"),
            "description": ["d"] * 4,
        }
    )
    return CatalogueView(songs, BucketScheme(features={}), None, Settings())


def test_filters_mask_exact_genres_and_years():
    songs = _songs()
    assert list(Filters.of(["Dance Pop"]).mask(songs)) == [True, False, True, False]
    assert list(Filters.of("pop", 2012, 2016).mask(songs)) == [False, True, False, False]
    assert list(Filters.of([], 2016, None).mask(songs)) == [False, False, False, True]
    assert Filters.of(None, 2019, 2011) == Filters((), 2011, 2019)
    assert Filters.of(["pop", " ", "pop"], 2011, 2019).describe() == "genre pop; 2011-2019"
    assert not Filters.of().active
    with pytest.raises(QueryError, match="Did you mean 'dance pop'"):
        Filters.of(["dance popp"]).mask(songs)


def test_counts_and_eras():
    songs = _songs()
    assert songs.genre_counts() == [
        {"genre": "dance pop", "count": 2},
        {"genre": "folk-pop", "count": 1},
        {"genre": "pop", "count": 1},
    ]
    assert songs.year_counts() == [{"year": y, "count": 1} for y in (2010, 2015, 2019)]
    assert [era_of(y) for y in (2010, 2013, 2014, 2016, 2017, 2019)] == [
        "early 2010s", "early 2010s", "mid 2010s", "mid 2010s", "late 2010s", "late 2010s",
    ]  # fmt: skip


# ---- presets file -----------------------------------------------------------------------------------------


def test_bundled_presets_are_complete_data():
    presets = load_presets(PROJECT_ROOT / "prompts" / PRESETS_FILE)
    assert set(presets) >= REQUIRED_PRESETS
    for preset in presets.values():
        assert preset.query_words and preset.targets and 0 <= preset.blend <= 1
    assert find_preset(presets, "WORKOUT").name == "workout"
    with pytest.raises(QueryError, match="Pick one of"):
        find_preset(presets, "polka")


def test_target_scores_fall_off_outside_the_range():
    target = Target("energy", 0.5, 0.8, 1.0)
    scores = target.scores(np.array([0.6, 0.8, 0.9, 1.0, 0.2, np.nan]), scale=0.2)
    assert scores == pytest.approx([1.0, 1.0, 0.5, 0.0, 0.0, 0.0])


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[presets.x]\nquery_words='x'\ntargets.bpm={min=1,max=2}\n", "unknown feature"),
        ("[presets.x]\nquery_words='x'\ntargets.energy={min=0.9,max=0.2}\n", "min <= max"),
        ("[presets.x]\nquery_words=''\ntargets.energy={min=0,max=1}\n", "query_words"),
        ("[presets.x]\nquery_words='x'\nblend=2\ntargets.energy={min=0,max=1}\n", "blend"),
        ("[presets.x]\nquery_words='x'\n", "at least one target"),
        ("nothing = 1\n", "no \\[presets"),
    ],
)
def test_bad_presets_file_names_the_problem(tmp_path, text, problem):
    path = tmp_path / PRESETS_FILE
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=problem):
        load_presets(path)


# ---- exports ----------------------------------------------------------------------------------------------

RESULTS = [
    {"rank": 1, "song_id": "4uLU6hMCjMI75M1A2tKUQC", "title": "Hey, Soul Sister", "artist": "Train", "year": 2010,
     "genre": "neo mellow", "score": 0.5, "description": "", "explanation": "x, y", "matched": []},
    {"rank": 2, "song_id": "dd2582e8a07b", "title": "Señorita - Remix\n", "artist": "Shawn Mendes", "year": None,
     "genre": "canadian pop", "score": 0.4, "description": "", "explanation": "", "matched": []},
]  # fmt: skip


def test_exports_round_trip():
    songs = pd.DataFrame({"song_id": ["4uLU6hMCjMI75M1A2tKUQC"], "duration_s": [217.4]})
    rows = playlist_rows({"results": RESULTS}, songs)
    assert [r["spotify_uri"] for r in rows] == ["spotify:track:4uLU6hMCjMI75M1A2tKUQC", ""]
    csv_rows = parse_csv(to_csv(rows))
    assert [(r["artist"], r["title"], r["song_id"]) for r in csv_rows] == [
        ("Train", "Hey, Soul Sister", "4uLU6hMCjMI75M1A2tKUQC"),
        ("Shawn Mendes", "Señorita - Remix\n", "dd2582e8a07b"),
    ]
    m3u = to_m3u(rows)
    assert m3u.startswith("#EXTM3U\n#EXTINF:217,Train - Hey, Soul Sister\nspotify:track:4uLU6hMCjMI75M1A2tKUQC\n")
    assert [(e["artist"], e["title"], e["seconds"], e["location"]) for e in parse_m3u(m3u)] == [
        ("Train", "Hey, Soul Sister", "217", "spotify:track:4uLU6hMCjMI75M1A2tKUQC"),
    ]  # a song with no file and no Spotify id plays nothing: named in a comment, not listed as an entry
    assert "# not playable (no file or Spotify id): Shawn Mendes - Señorita - Remix\n" in m3u
    assert to_spotify_uris(rows) == "spotify:track:4uLU6hMCjMI75M1A2tKUQC\n"
    assert to_text(rows) == "1. Train - Hey, Soul Sister (2010)\n2. Shawn Mendes - Señorita - Remix\n"
    assert [(e["artist"], e["title"]) for e in parse_text(to_text(rows))] == [
        ("Train", "Hey, Soul Sister"),
        ("Shawn Mendes", "Señorita - Remix"),
    ]


def test_export_files_and_formats(tmp_path):
    rows = playlist_rows(RESULTS, pd.DataFrame({"song_id": [], "location": []}))
    for fmt, suffix in [("CSV", ".csv"), ("m3u", ".m3u"), ("text", ".txt")]:
        path = write_export(rows, fmt, tmp_path)
        assert path.suffix == suffix
        assert path.read_text(encoding="utf-8") == render(rows, fmt)
    with pytest.raises(QueryError, match="csv, m3u, txt"):
        render(rows, "xlsx")
    with pytest.raises(QueryError):
        playlist_rows([{"artist": "no title"}])
    assert playlist_rows({"recommendations": {"results": RESULTS}})[0]["title"] == "Hey, Soul Sister"


def test_spotify_uri_forms():
    track = "4uLU6hMCjMI75M1A2tKUQC"
    for form in (track, f"spotify:track:{track}", f"https://open.spotify.com/track/{track}?si=abc"):
        assert spotify_uri(form) == f"spotify:track:{track}"
    assert spotify_uri("dd2582e8a07b") is None
    assert spotify_uri(None) is None


def test_format_value_and_audio_weight_setting():
    assert format_value("tempo", 127.6) == "128 BPM"
    assert format_value("loudness", -7.2) == "-7 dB"
    assert format_value("duration_s", 225) == "3:45"
    assert format_value("energy", 0.912) == "0.91"
    assert Settings.from_env({"MOODRING_SIMILAR_AUDIO_WEIGHT": "0.3"}).similar_audio_weight == 0.3
    assert Settings().similar_audio_weight == 0.5


# ---- on the bundled catalogue, through the real model -----------------------------------------------------


def test_more_like_a_dance_pop_hit_is_mostly_dance_pop(bundled_engine):
    response = more_like_this(bundled_engine, "TiK ToK", 10)
    assert "TiK ToK - Kesha" in response.understood
    titles = [r.title for r in response.results]
    assert len(titles) == 10 and "TiK ToK" not in titles
    genres = [r.genre for r in response.results]
    assert genres.count("dance pop") >= 6
    for result in response.results:
        assert result.explanation
        if result.genre == "dance pop":
            assert result.explanation.startswith("same dance pop genre")
    assert max(Counter(r.artist for r in response.results).values()) <= 2


def test_more_like_this_explains_tempo_and_shared_words(bundled_engine):
    response = more_like_this(bundled_engine, "TiK ToK", 20)
    text = " | ".join(r.explanation for r in response.results)
    assert "similar tempo" in text and "BPM" in text and "both " in text


@pytest.mark.parametrize("weight", [0.0, 1.0, 0.5])
def test_more_like_this_scores_match_brute_force(bundled_engine, weight):
    songs = bundled_engine.songs
    seed = int(np.flatnonzero(songs["title"] == "Shape of You")[0])
    features = [f for f in ("tempo", "loudness", "duration_s", "energy", "danceability", "valence", "liveness",
                            "acousticness", "speechiness", "instrumentalness") if songs[f].notna().any()]  # fmt: skip
    values = songs[features].to_numpy(dtype=float, na_value=np.nan)
    z = np.nan_to_num((values - np.nanmean(values, axis=0)) / np.nanstd(values, axis=0))
    audio = z @ z[seed] / (np.linalg.norm(z, axis=1) * np.linalg.norm(z[seed]) + 1e-12)
    audio[np.isnan(values).all(axis=1)] = 0.0
    index = bundled_engine.index.faiss_index
    vectors = index.reconstruct_n(0, index.ntotal)
    expected = weight * audio + (1 - weight) * (vectors @ vectors[seed])
    expected[seed] = -np.inf
    response = more_like_this(bundled_engine, "Shape of You", 10, diverse=False, audio_weight=weight)
    expected_titles = [songs.iloc[i]["title"] for i in np.argsort(-expected, kind="stable")[:10]]
    assert [r.title for r in response.results] == expected_titles
    assert [r.score for r in response.results] == pytest.approx(sorted(expected)[::-1][:10], abs=1e-3)


def test_more_like_this_fuzzy_titles(bundled_engine):
    near = more_like_this(bundled_engine, "shape of yu", 3)
    assert "read 'shape of yu' as 'Shape of You' by Ed Sheeran" in near.notes
    with pytest.raises(SongNotFound) as missing:
        more_like_this(bundled_engine, "Tik Tak Toe", 3)
    assert "TiK ToK - Kesha" in missing.value.suggestions
    assert "Did you mean" in str(missing.value) and len(missing.value.suggestions) <= 3
    with pytest.raises(SongNotFound):
        more_like_this(bundled_engine, "zzzz qqqq xxxx", 3)
    titles = bundled_engine.catalogue.title_index
    hello = titles.find("Hello - Adele")
    assert bundled_engine.songs.iloc[hello.row]["artist"] == "Adele" and hello.note is None
    assert bundled_engine.songs.iloc[titles.find("hello by adele").row]["title"] == "Hello"


def test_more_like_a_song_without_audio_uses_its_description(bundled_engine):
    response = more_like_this(bundled_engine, "Million Years Ago", 5)
    assert any("no audio features" in note for note in response.notes)
    assert len(response.results) == 5


def test_more_like_this_respects_filters(bundled_engine):
    response = more_like_this(bundled_engine, "TiK ToK", 5, Filters.of(["pop"], 2016, 2019))
    assert all(r.genre == "pop" and 2016 <= r.year <= 2019 for r in response.results)
    assert "genre pop; 2016-2019" in response.understood


def test_every_preset_answers_with_target_explanations(bundled_engine):
    for name in REQUIRED_PRESETS:
        response = preset_search(bundled_engine, name, 10)
        assert len(response.results) == 10, name
        assert all(r.explanation.startswith(("hits", "misses")) for r in response.results), name
        assert max(Counter(r.artist for r in response.results).values()) <= 2, name


def test_presets_pull_their_features(bundled_engine):
    songs = bundled_engine.songs.set_index("song_id")

    def mean(name, feature):
        return songs.loc[[r.song_id for r in preset_search(bundled_engine, name, 10).results], feature].mean()

    assert mean("energetic", "energy") > 0.75
    assert mean("sleep", "energy") < 0.45 and mean("sleep", "acousticness") > 0.5
    assert mean("happy", "valence") > 0.7 > 0.35 > mean("melancholic", "valence")
    assert mean("workout", "tempo") >= 118
    focused = preset_search(bundled_engine, "Focused", 3)
    assert any("instrumentalness" in note for note in focused.notes)


def test_preset_with_genre_and_years(bundled_engine):
    response = preset_search(bundled_engine, "party", 5, Filters.of(["dance pop"], 2012, 2014))
    assert all(r.genre == "dance pop" and 2012 <= r.year <= 2014 for r in response.results)


def test_filtered_search_from_controls(bundled_engine):
    response = filtered_search(bundled_engine, "sad songs", Filters.of(["pop"], 2015, None), 5)
    assert response.results and all(r.genre == "pop" and r.year >= 2015 for r in response.results)
    assert response.understood.endswith("genre pop; 2015 or later")
    popular = filtered_search(bundled_engine, "", Filters.of(["canadian pop"]), 5)
    assert len(popular.results) == 5 and all(r.genre == "canadian pop" for r in popular.results)
    with pytest.raises(QueryError):
        filtered_search(bundled_engine, "", Filters.of(), 5)
    with pytest.raises(QueryError, match="No song"):
        filtered_search(bundled_engine, "sad", Filters.of(["latin"], 2010, 2010), 5)


def test_taste_of_slow_acoustic_songs(bundled_engine):
    profile = taste_profile(bundled_engine, [*SLOW_ACOUSTIC, "Not A Real Song Title At All"])
    assert len(profile.rows) == 3
    assert "slow" in profile.summary and "acoustic" in profile.summary
    assert any("Not A Real Song Title At All" in note for note in profile.notes)
    stats = {s.feature: s for s in profile.features}
    assert stats["tempo"].mean < 90 and stats["acousticness"].mean > 0.7
    assert stats["tempo"].spread == "consistent"
    assert "instrumentalness" not in stats
    assert {g["genre"] for g in profile.top_genres} == {"dance pop", "neo mellow", "folk-pop"}
    data = profile.to_dict()
    assert data["eras"] and data["features"] and data["liked"][0]["title"] == "Jar of Hearts"

    recommended = recommend_for_taste(bundled_engine, profile, 10)
    liked_ids = {s["song_id"] for s in profile.liked}
    assert len(recommended.results) == 10 and not liked_ids & {r.song_id for r in recommended.results}
    songs = bundled_engine.songs.set_index("song_id")
    chosen = songs.loc[[r.song_id for r in recommended.results]]
    assert chosen["acousticness"].mean() > 2 * bundled_engine.songs["acousticness"].mean()
    assert chosen["tempo"].mean() < bundled_engine.songs["tempo"].mean()
    assert any(r.explanation.startswith("shares your") for r in recommended.results)


def test_taste_needs_a_known_song(bundled_engine):
    with pytest.raises(QueryError, match="No song called"):
        taste_profile(bundled_engine, ["Qqqq Zzzz Xxxx"])
    with pytest.raises(QueryError):
        taste_profile(bundled_engine, [])
    with pytest.raises(QueryError, match="up to 50 songs"):
        taste_profile(bundled_engine, ["Hello"] * 51)
    single = taste_profile(bundled_engine, "Jar of Hearts")
    assert len(single.rows) == 1 and {s.spread for s in single.features} == {"one song"}


def test_radar_chart_renders(bundled_engine, tmp_path):
    profile = taste_profile(bundled_engine, SLOW_ACOUSTIC)
    figure = radar_figure(bundled_engine.catalogue, profile)
    labels = [label.get_text() for label in figure.axes[0].get_xticklabels()]
    assert any(label.startswith("acousticness") for label in labels) and len(labels) >= 8
    path = tmp_path / "radar.png"
    figure.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_engine_search_is_diverse_by_default(bundled_engine):
    intent = bundled_engine.understand("songs like Adele")
    plain = bundled_engine.search_intent(intent, 10, diverse=False)
    assert max(Counter(r.artist for r in plain.results).values()) > 2
    diverse = bundled_engine.search_intent(intent, 10)
    assert max(Counter(r.artist for r in diverse.results).values()) <= 2
    assert diverse.results[0].title == plain.results[0].title
    assert max(Counter(r.artist for r in bundled_engine.search("songs like Adele").results).values()) <= 2


def test_exported_results_parse_back_to_the_same_songs(bundled_engine, tmp_path):
    response = more_like_this(bundled_engine, "Shape of You", 10)
    rows = playlist_rows(response.to_dict(), bundled_engine.songs)
    expected = [(r.artist, r.title) for r in response.results]
    csv_text = write_export(rows, "csv", tmp_path).read_text(encoding="utf-8")
    assert [(r["artist"], r["title"]) for r in parse_csv(csv_text)] == expected
    with pytest.raises(QueryError, match="not a playable playlist"):
        write_export(rows, "m3u", tmp_path)  # the bundled catalogue has no file paths and no Spotify ids
    text = parse_text(write_export(rows, "txt", tmp_path).read_text(encoding="utf-8"))
    assert [(e["artist"], e["title"]) for e in text] == expected
