"""The catalogue view's per-song arrays, checked against the pandas and FAISS calls they replace."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from assistant.catalogue_view import RESULT_COLUMNS, CatalogueView, credited_artists
from assistant.engine import SearchEngine
from assistant.vocabulary import tokens
from bench.timing import TimedIndex
from index_builder.buckets import BucketScheme, FeatureBuckets
from index_builder.settings import Settings
from index_builder.vector_index import IndexPlan, all_vectors, build_cosine_index, stored_vectors


def test_masks_match_plain_pandas(bundled_engine):
    songs, arrays = bundled_engine.songs, bundled_engine.catalogue
    for low, high in [(2012, 2014), (-10_000, 2011), (2016, 10_000), (2030, 2040)]:
        expected = songs["year"].between(low, high).fillna(False).to_numpy(dtype=bool)
        assert np.array_equal(arrays.year_mask(low, high), expected)
    for feature, words in bundled_engine.catalogue.words.items():
        present = sorted({w for w in words if w is not None})
        for wanted in ([present[0]], present[1:], ["no such word"]):
            assert np.array_equal(arrays.word_mask(feature, set(wanted)), np.isin(words, wanted)), feature
            rows = np.array([3, 1, 4, 1, 5])
            assert np.array_equal(arrays.word_mask(feature, set(wanted), rows), np.isin(words[rows], wanted))
    genre_texts = [f" {' '.join(tokens(g))} " for g in songs["genre"]]
    for genres in (["pop"], ["dance pop", "hip hop"], ["no such genre"]):
        expected = [any(f" {g} " in text for g in genres) for text in genre_texts]
        assert arrays.genre_mask(genres).tolist() == expected
    credited = [credited_artists(a, t) for a, t in zip(songs["artist"], songs["title"], strict=True)]
    for names in (["Kesha"], ["PITBULL", "Rihanna"], ["Nobody At All"]):
        wanted = {n.casefold() for n in names}
        assert arrays.credited_mask(names).tolist() == [bool(wanted & c) for c in credited]
    assert arrays.credited_mask(["Pitbull"]).sum() > songs["artist"].eq("Pitbull").sum()  # feat. credits count


def test_rows_and_records(bundled_engine):
    songs, arrays = bundled_engine.songs, bundled_engine.catalogue
    ids = songs["song_id"].tolist()
    assert arrays.rows_of([ids[5], ids[2], "missing", ids[5]]).tolist() == [2, 5]
    assert arrays.row_of(ids[7]) == 7 and arrays.row_of("missing") is None
    for row in (0, 3, len(songs) - 1):
        record, song = arrays.record(row), songs.iloc[row]
        assert set(record) == set(RESULT_COLUMNS)
        for name in RESULT_COLUMNS:
            assert (pd.isna(record[name]) and pd.isna(song[name])) or record[name] == song[name], name
        assert bundled_engine.catalogue.song_words(row) == {
            f: w[row] for f, w in bundled_engine.catalogue.words.items() if w[row] is not None
        }


def test_bucket_words_match_word_for_including_missing_values():
    buckets = FeatureBuckets(feature="energy", label="energy", edges=(0.3, 0.7), words=("low", "mid", "high"))
    values = [0.1, 0.3, 0.5, np.nan, np.inf, 0.7, 0.9]
    songs = pd.DataFrame(
        {
            "song_id": [f"s{i}" for i in range(len(values))],
            "title": ["t"] * len(values),
            "artist": ["a"] * len(values),
            "genre": ["pop"] * len(values),
            "year": pd.array([2010] * len(values), dtype="Int64"),
            "description": ["d"] * len(values),
            "energy": values,
        }
    )
    arrays = CatalogueView(songs, BucketScheme(features={"energy": buckets}), None, Settings())
    assert arrays.words["energy"].tolist() == [buckets.word_for(v) for v in values]
    assert arrays.word_mask("energy", {"mid"}).tolist() == [False, True, True, False, False, False, False]


def test_stored_vectors_are_the_index_vectors_read_only(bundled_engine):
    index = bundled_engine.index.faiss_index
    view = stored_vectors(index)
    assert view is not None and not view.flags.writeable
    assert np.array_equal(view, all_vectors(index))
    ivf = build_cosine_index(all_vectors(index), IndexPlan("IVF4,Flat", "nprobe=4"))
    assert stored_vectors(ivf) is None and stored_vectors(TimedIndex(index)) is None


@pytest.mark.parametrize("query", ["calm acoustic songs", "upbeat workout songs, no Pitbull", "rap from 2015"])
def test_scoring_every_song_ranks_like_a_faiss_search(bundled_engine, query):
    # An index FAISS must search (a stand-in, not an IndexFlat) takes the engine's other path.
    searched = dataclasses.replace(bundled_engine.index, faiss_index=TimedIndex(bundled_engine.index.faiss_index))
    faiss_engine = SearchEngine(searched, bundled_engine.encoder, bundled_engine.settings)
    faiss_engine._word_vectors = bundled_engine.word_vectors()
    ours, theirs = bundled_engine.search(query, 10), faiss_engine.search(query, 10)
    assert [r.song_id for r in ours.results] == [r.song_id for r in theirs.results]
    assert [r.score for r in ours.results] == pytest.approx([r.score for r in theirs.results], abs=2e-4)
    assert [r.explanation for r in ours.results] == [r.explanation for r in theirs.results]
