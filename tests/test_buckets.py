"""Bucket thresholds: monotone, covering every value, exact at the edges, and validated when edited."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from index_builder.buckets import fit_buckets, load_bucket_spec
from index_builder.catalogue import load_catalogue
from index_builder.errors import ConfigError
from index_builder.settings import Settings

SPEC_PATH = Settings().feature_words_path


@pytest.fixture(scope="module")
def scheme(bundled_csv=None):
    from index_builder.settings import BUNDLED_CATALOGUE

    return fit_buckets(load_bucket_spec(SPEC_PATH), load_catalogue(BUNDLED_CATALOGUE).songs)


def test_every_feature_is_monotone_and_covers_the_whole_range(scheme):
    for name, buckets in scheme.features.items():
        assert list(buckets.edges) == sorted(buckets.edges), name
        probes = np.linspace(buckets.edges[0] - 1000, buckets.edges[-1] + 1000, 5001)
        indexes = [buckets.index_for(v) for v in probes]
        assert indexes == sorted(indexes), f"{name} is not monotone"
        assert indexes[0] == 0 and indexes[-1] == len(buckets.words) - 1, f"{name} does not cover its range"
        assert all(buckets.word_for(v) for v in probes)


def test_values_on_an_edge_belong_to_the_bucket_above(scheme):
    energy = scheme.features["energy"]
    assert energy.edges[0] == 0.35
    assert energy.word_for(0.3499) == "low energy"
    assert energy.word_for(0.35) == "moderate energy"
    tempo = scheme.features["tempo"]
    assert tempo.word_for(134.9) == "fast tempo" and tempo.word_for(135) == "very fast tempo"


def test_missing_values_have_no_word(scheme):
    assert scheme.features["valence"].word_for(float("nan")) is None
    assert scheme.features["valence"].word_for(None) is None
    assert scheme.words_for({"valence": pd.NA, "energy": 0.9}) == {"energy": "intense energy"}


def test_popularity_uses_catalogue_quantiles(scheme):
    songs = load_catalogue(Settings().catalogue_path).songs
    popularity = scheme.features["popularity"]
    expected = np.round(np.quantile(songs["popularity"].dropna(), [0.33, 0.67, 0.9]))
    assert popularity.edges == pytest.approx(tuple(expected))
    words = [popularity.word_for(v) for v in songs["popularity"].dropna()]
    share_top = words.count("huge hit") / len(words)
    assert 0.05 < share_top < 0.2


def test_feature_absent_from_catalogue_is_left_out(scheme):
    assert "instrumentalness" not in scheme.features


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[energy]\nedges = [0.5, 0.4]\nwords = ["a", "b", "c"]', "strictly increasing"),
        ('[energy]\nedges = [0.5]\nwords = ["a"]', "exactly 2"),
        ('[energy]\nmethod = "quantile"\nquantiles = [1.5]\nwords = ["a", "b"]', "between 0 and 1"),
        ('[sparkle]\nedges = [0.5]\nwords = ["a", "b"]', "unknown features"),
        ("[energy\n", "Cannot read"),
    ],
)
def test_bad_threshold_files_are_refused(tmp_path, body, message):
    path = tmp_path / "feature_words.toml"
    path.write_text(body)
    with pytest.raises(ConfigError, match=message):
        load_bucket_spec(path)


def test_quantile_edges_stay_put_when_a_few_songs_are_added_and_move_when_many_are():
    from index_builder.settings import BUNDLED_CATALOGUE

    spec = load_bucket_spec(SPEC_PATH)
    songs = load_catalogue(BUNDLED_CATALOGUE).songs
    before = fit_buckets(spec, songs.iloc[:-10])
    grown = fit_buckets(spec, songs, previous=before)
    assert grown.features["popularity"].edges == before.features["popularity"].edges
    assert grown.features["tempo"].edges == fit_buckets(spec, songs).features["tempo"].edges  # fixed edges: as set

    # a catalogue whose popularity moved wholesale gets fresh edges, not stale ones
    shifted = songs.assign(popularity=(songs["popularity"] * 0.5).round())
    refitted = fit_buckets(spec, shifted, previous=before)
    assert refitted.features["popularity"].edges == fit_buckets(spec, shifted).features["popularity"].edges
    assert refitted.features["popularity"].edges != before.features["popularity"].edges
