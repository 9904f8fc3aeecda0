"""The request parser, over a table of phrasings: constraints, negations, years, counts and typos."""

from __future__ import annotations

import pytest

from assistant.dialogue import refine
from assistant.understanding import understand
from assistant.vocabulary import Vocabulary, load_concepts
from index_builder.buckets import load_bucket_spec
from index_builder.catalogue import load_catalogue
from index_builder.settings import BUNDLED_CATALOGUE, Settings


@pytest.fixture(scope="module")
def vocabulary():
    settings = Settings()
    spec = load_bucket_spec(settings.feature_words_path)
    concepts = load_concepts(settings.prompts_dir / "query_concepts.toml", {k: v["words"] for k, v in spec.items()})
    songs = load_catalogue(BUNDLED_CATALOGUE).songs
    return Vocabulary.build(concepts, songs["genre"], songs["artist"])


def _summary(intent):
    return {
        "concepts": sorted(c.name for c in intent.concepts),
        "not_concepts": sorted(c.name for c in intent.excluded_concepts),
        "genres": sorted(intent.genres),
        "not_genres": sorted(intent.excluded_genres),
        "artists": sorted(intent.artists),
        "not_artists": sorted(intent.excluded_artists),
        "years": (intent.year_min, intent.year_max),
        "count": intent.count,
    }


CASES = [
    ("upbeat workout songs with low acousticness, nothing before 2015",
     {"concepts": ["high_energy", "not_acoustic", "workout"], "years": (2015, None)}),
    ("high energy dance pop", {"concepts": ["high_energy"], "genres": ["dance pop"]}),
    ("songs for a rainy heartbreak", {"concepts": ["heartbreak", "rainy_day"]}),
    ("no Kesha", {"not_artists": ["Kesha"]}),
    ("not Eminem", {"not_artists": ["Eminem"]}),
    ("no more drake please", {"not_artists": ["Drake"]}),
    ("party songs without Pitbull", {"concepts": ["party"], "not_artists": ["Pitbull"]}),
    ("songs by Rihanna", {"artists": ["Rihanna"]}),
    ("hip hop from 2015", {"genres": ["hip hop"], "years": (2015, 2015)}),
    ("no hip hop", {"not_genres": ["hip hop"]}),
    ("before 2012", {"years": (None, 2011)}),
    ("after 2016", {"years": (2017, None)}),
    ("since 2014", {"years": (2014, None)}),
    ("2010s pop", {"genres": ["pop"], "years": (2010, 2019)}),
    ("early 2010s", {"years": (2010, 2013)}),
    ("between 2011 and 2013", {"years": (2011, 2013)}),
    ("2012-2014 bangers", {"concepts": ["loud"], "years": (2012, 2014)}),
    ("give me 5 sad songs", {"concepts": ["sad"], "count": 5}),
    ("top 3 happy songs", {"concepts": ["happy"], "count": 3}),
    ("20 songs for the gym", {"concepts": ["workout"], "count": 20}),
    ("fast", {"concepts": ["fast"]}),
    ("slow ballads", {"concepts": ["slow"]}),
    ("not fast", {"not_concepts": ["fast"]}),
    ("acoustic but not sad", {"concepts": ["acoustic"], "not_concepts": ["sad"]}),
    ("not too loud", {"concepts": ["not_loud"]}),
    ("instrumental focus music", {"concepts": ["focus", "instrumental"]}),
    ("long songs", {"concepts": ["long"]}),
    ("hidden gems", {"concepts": ["hidden_gems"]}),
    ("biggest hits", {"concepts": ["popular"]}),
    ("calm study music", {"concepts": ["low_energy", "study"]}),
    ("sleep", {"concepts": ["sleep"]}),
    ("road trip singalongs", {"concepts": ["road_trip", "singalong"]}),
    ("romantic date night", {"concepts": ["romantic"]}),
    ("chill lofi vibes", {"concepts": ["chill"]}),
    ("melancholic", {"concepts": ["sad"]}),
    ("happy energetic songs", {"concepts": ["happy", "high_energy"]}),
    # typos
    ("acustic songs", {"concepts": ["acoustic"]}),
    ("energitic workout", {"concepts": ["high_energy", "workout"]}),
    ("no Rihana", {"not_artists": ["Rihanna"]}),
    ("danceble party", {"concepts": ["danceable", "party"]}),
    ("melancolic", {"concepts": ["sad"]}),
    # nothing recognizable: stays semantic
    ("songs that feel like a sunset over the ocean", {"concepts": ["sunset"]}),
    # follow-up phrasings: comparatives, "less", negations a few words before what they negate
    ("calmer", {"concepts": ["low_energy"]}),
    ("more upbeat", {"concepts": ["high_energy"]}),
    ("a bit happier", {"concepts": ["happy"]}),
    ("faster ones", {"concepts": ["fast"]}),
    ("less loud", {"not_concepts": ["loud"]}),
    ("less energetic", {"not_concepts": ["high_energy"]}),
    ("not so fast", {"not_concepts": ["fast"]}),
    ("nothing by Drake", {"not_artists": ["Drake"]}),
    ("no songs from Kesha", {"not_artists": ["Kesha"]}),
    ("get rid of drake", {"not_artists": ["Drake"]}),
    ("i dont want kesha", {"not_artists": ["Kesha"]}),
    ("I don't want any rap", {"not_genres": ["rap"], "not_concepts": ["rap"]}),
    ("no more hip hop", {"not_genres": ["hip hop"]}),
    ("rap but not by Drake", {"genres": ["rap"], "not_artists": ["Drake"]}),
    ("no rap songs by Drake", {"not_genres": ["rap"], "not_concepts": ["rap"], "artists": ["Drake"]}),
    ("only after 2015", {"years": (2016, None)}),
    ("older than 2012", {"years": (None, 2011)}),
    ("from the 2010s", {"years": (2010, 2019)}),
    ("give me 5", {"count": 5}),
    ("hits only", {"concepts": ["popular"]}),
    ("no country", {"not_genres": ["country"]}),
    ("calmr", {"concepts": ["low_energy"]}),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_phrasings(vocabulary, text, expected):
    empty = {"concepts": [], "not_concepts": [], "genres": [], "not_genres": [], "artists": [],
             "not_artists": [], "years": (None, None), "count": None}  # fmt: skip
    assert _summary(understand(text, vocabulary)) == {**empty, **expected}


def test_negated_words_leave_the_semantic_text(vocabulary):
    intent = understand("party songs, no Kesha, not slow", vocabulary)
    assert "kesha" not in intent.semantic_text and "slow" not in intent.semantic_text
    assert "party" in intent.semantic_text


def test_describe_says_what_was_understood(vocabulary):
    intent = understand("upbeat workout songs, no Kesha, nothing before 2015", vocabulary)
    assert intent.describe() == "high energy, workout; excluding Kesha; 2015 or later"


def test_typo_corrections_are_reported(vocabulary):
    assert understand("acustic", vocabulary).corrections == ["read 'acustic' as 'acoustic'"]


def _refined(vocabulary, *messages):
    intent, dropped = understand(messages[0], vocabulary), []
    for message in messages[1:]:
        intent, dropped = refine(intent, understand(message, vocabulary), vocabulary.words.follow_up_filler)
    return intent, dropped


def test_refine_replaces_contradicted_wishes(vocabulary):
    intent, dropped = _refined(vocabulary, "upbeat workout songs", "calmer")
    assert [c.name for c in intent.concepts] == ["low_energy"]
    assert dropped == ["high energy", "workout"]
    assert intent.semantic_text == "workout songs calmer"  # the hard wish's word goes, the activity stays


def test_refine_adds_up_exclusions_and_narrows_years(vocabulary):
    intent, _ = _refined(vocabulary, "2010s party songs", "no Kesha", "no more Drake", "after 2015")
    assert intent.excluded_artists == ["Kesha", "Drake"]
    assert (intent.year_min, intent.year_max) == (2016, 2019)
    assert intent.describe() == "party; excluding Kesha, Drake; 2016-2019"
    assert "kesha" not in intent.semantic_text and "drake" not in intent.semantic_text


def test_refine_years_that_do_not_overlap_take_the_new_range(vocabulary):
    intent, _ = _refined(vocabulary, "songs before 2012", "after 2015")
    assert (intent.year_min, intent.year_max) == (2016, None)


def test_refine_replaces_genre_and_artist_and_keeps_the_count(vocabulary):
    intent, dropped = _refined(vocabulary, "give me 5 dance pop songs", "only hip hop")
    assert intent.genres == ["hip hop"] and intent.count == 5
    assert dropped == ["dance pop"] and "dance" not in intent.semantic_text
    intent, _ = _refined(vocabulary, "songs by Rihanna", "no Rihanna")
    assert intent.artists == [] and intent.excluded_artists == ["Rihanna"]


def test_refine_lifts_an_exclusion_that_is_wanted_again(vocabulary):
    intent, _ = _refined(vocabulary, "party songs, not fast", "faster")
    assert [c.name for c in intent.concepts] == ["party", "fast"]
    assert intent.excluded_concepts == []


@pytest.mark.parametrize(
    ("text", "ranges"),
    [
        ("songs under 3 minutes", {"duration_s": (None, 180.0)}),
        ("songs around 120 bpm", {"tempo": (112.0, 128.0)}),
        ("90-100 bpm hip hop", {"tempo": (90.0, 100.0)}),
        ("songs longer than 4.5 minutes", {"duration_s": (270.0, None)}),
        ("3 minute songs at least 128 bpm", {"duration_s": (150.0, 210.0), "tempo": (128.0, None)}),
        ("I have 2 minutes, play something happy", {}),
    ],
)
def test_stated_tempos_and_lengths(vocabulary, text, ranges):
    assert understand(text, vocabulary).ranges == ranges


def test_everyday_words_are_not_read_as_the_artists_of_a_big_catalogue(bundled_engine):
    base = bundled_engine.vocabulary
    artists = [*bundled_engine.songs["artist"], "Wallows", "Lit", "Diddy"]  # bands named like everyday words
    vocabulary = Vocabulary.build(
        base.concepts.values(), bundled_engine.songs["genre"], artists, base.words, base.known_words, base.playlist
    )
    for text, artist in [
        ("heartbroken and I just want to wallow", "Wallows"),  # not a misspelt band name
        ("lit songs for the function tonight", "Lit"),  # lit: a mood word, even before "songs"
        ("giddy and a bit silly tonight", "Diddy"),
    ]:
        assert artist not in understand(text, vocabulary).artists, text
    assert understand("songs by Lit", vocabulary).artists == ["Lit"]
    assert understand("Diddy songs", vocabulary).artists == ["Diddy"]
