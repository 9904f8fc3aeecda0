"""The request parser, over a table of phrasings: constraints, negations, years, counts and typos."""

from __future__ import annotations

import pytest

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
    ("road trip singalongs", {"concepts": ["road_trip"]}),
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
    ("songs that feel like a sunset over the ocean", {}),
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
