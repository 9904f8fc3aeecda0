"""The Milvus store on real Milvus Lite files: filters pushed down select exactly the songs the catalogue view's
masks select, hostile values cannot break out of a filter, the songs table and manifest come back as written, a
mismatch is refused with the reason, searches equal brute force, rebuilds swap the alias. No model is loaded: the
vectors are random unit vectors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from assistant.catalogue_view import MAX_ROWS_IN_FILTER, CatalogueView
from index_builder.build import describe_catalogue
from index_builder.errors import IndexMismatch, StoreUnavailable
from index_builder.index_store import IndexKey
from index_builder.milvus_store import (
    MAX_FETCH,
    MilvusCollection,
    MilvusIndex,
    MilvusPlan,
    connect,
    filter_expression,
    load_collection,
    milvus_plan_for,
    quote,
    segment_rows_for,
)
from index_builder.settings import BUNDLED_CATALOGUE, Settings
from index_builder.song_fields import credited_artists
from index_builder.vector_index import normalized
from index_builder.vector_store import AllOf, CreditsAny, GenreIn, Not, RowsIn, YearBetween, all_of
from tests.helpers import test_settings

KEY = IndexKey("test model", "a" * 64, "b" * 64, "c" * 64, "d" * 64, "e" * 64)


def exact(count: int) -> MilvusPlan:
    return MilvusPlan()


@pytest.fixture(scope="module")
def described(tmp_path_factory):
    settings = test_settings(tmp_path_factory.mktemp("described"), BUNDLED_CATALOGUE)
    return describe_catalogue(settings)


@pytest.fixture(scope="module")
def stored(described, tmp_path_factory):
    """The bundled songs with random unit vectors in a Milvus Lite file, and the view over the same songs."""
    uri = str(tmp_path_factory.mktemp("milvus") / "songs.db")
    vectors = normalized(np.random.default_rng(0).normal(size=(len(described.songs), 32)))
    index = MilvusCollection(uri, "songs", exact).write(described.songs, vectors, described.scheme, KEY, {})
    view = CatalogueView(index.songs, index.scheme, index, Settings())
    return index, view, vectors


def selected(index: MilvusIndex, where) -> np.ndarray:
    """The rows the collection returns for ``where``, as a mask."""
    mask = np.zeros(len(index), dtype=bool)
    expression = index.expression(where) or "row >= 0"
    for record in index.client.query(index.name, filter=expression, output_fields=["row"], limit=MAX_FETCH):
        mask[int(record["row"])] = True
    return mask


def test_every_kind_of_condition_selects_what_its_mask_selects(stored):
    index, view, _ = stored
    cases = [
        (view.year_mask(2015, None), view.year_where(2015, None)),
        (view.year_mask(None, 2012), view.year_where(None, 2012)),
        (view.year_mask(2012.5, 2016.2), view.year_where(2012.5, 2016.2)),
        (view.year_mask(2030, 2040), view.year_where(2030, 2040)),
    ]
    for genres in (["pop"], ["hip hop"], ["dance pop", "electro house"], ["no such genre"]):
        mask = view.genre_mask(genres)
        cases += [(mask, view.genre_where(mask)), (~mask, Not(view.genre_where(mask)))]
    exact_mask = view.genre_mask(["Dance Pop"], exact=True)
    cases.append((exact_mask, view.genre_where(exact_mask)))
    guests = [name for name in view._credited if len(view._credited[name]) <= 2][:3]  # includes feat. credits
    for names in (["Drake"], ["katy perry", "rihanna"], guests):
        cases += [
            (view.credited_mask(names), view.credited_where(names)),
            (~view.credited_mask(names), Not(view.credited_where(names))),
        ]
    for feature, words in view.bucket_words.items():
        for chosen in ([words[0]], [words[-1]], list(words[1:3]), [words[0], words[-1]]):
            mask = view.word_mask(feature, chosen)
            where = view.word_where(feature, chosen)
            cases += [(mask, where), (~mask, Not(where))]  # "not" keeps songs without a value, as the mask does
    for feature, low, high in (("tempo", 100, 120), ("popularity", None, 60.5), ("duration_s", 200.0, None)):
        values = view.raw[feature].to_numpy()
        with np.errstate(invalid="ignore"):
            mask = (values >= (-np.inf if low is None else low)) & (values <= (np.inf if high is None else high))
        cases += [(mask, view.range_where(feature, low, high)), (~mask, Not(view.range_where(feature, low, high)))]
    for expected, where in cases:
        assert np.array_equal(selected(index, where), expected), where


def test_combined_conditions_and_row_lists(stored):
    index, view, _ = stored
    year, pop = view.year_mask(2014, None), view.genre_mask(["pop"])
    where = all_of([view.year_where(2014, None), view.genre_where(pop), Not(view.credited_where(["Drake"]))])
    assert np.array_equal(selected(index, where), year & pop & ~view.credited_mask(["Drake"]))
    some = np.zeros(len(index), dtype=bool)
    some[[3, 5, 8]] = True
    assert view.rows_where(some) == RowsIn((3, 5, 8))
    assert np.array_equal(selected(index, view.rows_where(some)), some)
    assert np.array_equal(selected(index, view.rows_where(~some)), ~some)
    assert view.rows_where(np.ones(len(index), dtype=bool)) is None
    assert np.array_equal(selected(index, AllOf(())), np.ones(len(index), dtype=bool))
    for empty in (GenreIn(()), CreditsAny(()), RowsIn(())):
        assert not selected(index, empty).any()


def test_long_row_lists_are_left_to_the_mask():
    view = CatalogueView.__new__(CatalogueView)
    half = np.zeros(4 * MAX_ROWS_IN_FILTER, dtype=bool)
    half[::2] = True
    assert view.rows_where(half) is None
    one = np.zeros(4 * MAX_ROWS_IN_FILTER, dtype=bool)
    one[7] = True
    assert view.rows_where(one) == RowsIn((7,)) and view.rows_where(~one) == Not(RowsIn((7,)))


HOSTILE = [
    'quote " inside',
    "single ' quote",
    "back\\slash",
    "trailing backslash\\",
    'break" or row >= 0 or genre == "',
    "line\nbreak",
    "carriage\rreturn",
    "tab\tstop",
    "100% _like_ %",
    "ünïcödé ☃ 音楽",
    "control\x01char",
    "",
]


def test_hostile_values_are_matched_exactly(described, tmp_path):
    songs = described.songs.head(len(HOSTILE) * 2).copy()
    songs["genre"] = HOSTILE * 2
    songs["artist"] = [f"{g} artist" for g in HOSTILE] * 2
    songs = songs.reset_index(drop=True)
    vectors = normalized(np.random.default_rng(1).normal(size=(len(songs), 8)))
    index = MilvusCollection(str(tmp_path / "hostile.db"), "hostile", exact).write(
        songs, vectors, described.scheme, KEY, {}
    )
    for number, genre in enumerate(HOSTILE):
        expected = np.zeros(len(songs), dtype=bool)
        expected[[number, number + len(HOSTILE)]] = True
        assert np.array_equal(selected(index, GenreIn((genre,))), expected), genre
        assert np.array_equal(selected(index, Not(GenreIn((genre,)))), ~expected), genre
        (name,) = credited_artists(f"{genre} artist", "title") - {"artist"} or {"artist"}
        assert np.array_equal(selected(index, CreditsAny((name,))), expected), genre
    assert quote('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'


def test_songs_table_and_manifest_come_back_as_written(stored, described, tmp_path):
    index, _, vectors = stored
    again = load_collection(index.uri, "songs", KEY)
    parquet = tmp_path / "songs.parquet"  # the folder's songs table, as it reads back
    described.songs.to_parquet(parquet, index=False)
    pd.testing.assert_frame_equal(again.songs, pd.read_parquet(parquet))
    assert again.scheme.to_dict() == described.scheme.to_dict()
    assert again.manifest["store"] == "milvus" and again.manifest["song_count"] == len(described.songs)
    assert again.manifest["milvus_index_type"] == "FLAT" and again.pushes_down
    np.testing.assert_allclose(again.vectors(np.array([5, 0, 3])), vectors[[5, 0, 3]], atol=1e-6)
    np.testing.assert_allclose(again.all_vectors(), vectors, atol=1e-6)
    assert "Milvus collection songs" in again.describe() and "FLAT (exact)" in again.describe()


def test_search_equals_brute_force_with_and_without_filters(stored):
    index, view, vectors = stored
    queries = normalized(np.random.default_rng(2).normal(size=(5, vectors.shape[1])))
    scores, ids = index.search(queries, 10)
    truth = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    assert np.array_equal(ids, truth)
    np.testing.assert_allclose(scores, np.take_along_axis(queries @ vectors.T, truth, axis=1), atol=1e-5)
    where = view.year_where(2016, None)
    allowed = view.year_mask(2016, None)
    _, ids = index.search(queries, 10, where)
    masked = np.where(allowed, queries @ vectors.T, -np.inf)
    assert np.array_equal(ids, np.argsort(-masked, axis=1)[:, :10])
    rows, found = index.candidates(queries[0], 1000, where)
    assert set(rows) == set(np.flatnonzero(allowed)) and len(found) == len(rows)


def test_a_mismatch_is_refused_with_the_reason(stored):
    index, _, _ = stored
    for change, reason in [
        ({"template_sha256": "f" * 64}, "song template"),
        ({"model_name": "test model (bf16 documents)"}, "model changed"),
        ({"catalogue_sha256": "0" * 64}, "catalogue file"),
        ({"feature_words_sha256": "1" * 64}, "feature thresholds"),
    ]:
        with pytest.raises(IndexMismatch, match=reason):
            load_collection(index.uri, "songs", dataclasses.replace(KEY, **change))
    ivf = milvus_plan_for(10, 0, 100, 0.5, 100_000)
    with pytest.raises(IndexMismatch, match="IVF_FLAT"):
        load_collection(index.uri, "songs", KEY, lambda count: ivf)
    with pytest.raises(IndexMismatch, match="No index at Milvus"):
        load_collection(index.uri, "other", KEY)


def test_rebuilds_swap_the_alias_drop_the_old_collection_and_leftovers(described, tmp_path):
    uri = str(tmp_path / "swap.db")
    songs = described.songs.head(50).reset_index(drop=True)
    vectors = normalized(np.random.default_rng(3).normal(size=(50, 8)))
    target = MilvusCollection(uri, "swap", exact)
    first = target.write(songs, vectors, described.scheme, KEY, {"note": "first"})
    target.client.create_collection("swap_v123", dimension=8)  # an interrupted build's leftover
    second = target.write(songs, vectors[::-1].copy(), described.scheme, KEY, {"note": "second"})
    names = target.client.list_collections()
    assert names == [second.manifest["milvus_collection"]] != [first.manifest["milvus_collection"]]
    assert load_collection(uri, "swap", KEY).manifest["note"] == "second"
    reused, notes = target.reusable_vectors(lambda manifest: manifest["model_name"] == "test model", 8)
    assert notes == [] and len(reused) == len(set(songs["text_sha256"]))
    assert np.allclose(reused[songs["text_sha256"].iat[0]], vectors[-1], atol=1e-6)
    assert target.reusable_vectors(lambda manifest: False, 8) == ({}, [])


def test_a_collection_moodring_did_not_make_is_never_replaced(described, tmp_path):
    uri = str(tmp_path / "foreign.db")
    client = connect(uri)
    client.create_collection("theirs", dimension=8)
    songs = described.songs.head(5).reset_index(drop=True)
    vectors = normalized(np.random.default_rng(4).normal(size=(5, 8)))
    with pytest.raises(IndexMismatch, match="did not make"):
        MilvusCollection(uri, "theirs", exact, client=client).write(songs, vectors, described.scheme, KEY, {})
    with pytest.raises(IndexMismatch, match="no Moodring manifest"):
        load_collection(uri, "theirs", KEY, client=client)


def test_the_index_type_follows_catalogue_size():
    lite = segment_rows_for("songs.db", 768)

    def plan(count, index_type="auto"):
        defaults = Settings()
        return milvus_plan_for(count, defaults.approximate_above, defaults.milvus_quantize_above,
                               defaults.milvus_nprobe_share, lite, index_type)  # fmt: skip

    assert plan(200_000) == MilvusPlan() and plan(587).exact
    assert plan(200_001).index_type == "IVF_FLAT" and plan(10_000_000).index_type == "IVF_FLAT"
    assert plan(10_000_001).index_type == "IVF_SQ8"
    lists = dict(plan(1_000_000).build_params)["nlist"]
    assert lite == 43_690 and segment_rows_for("http://milvus:19530", 768) == 349_525
    assert lists == dict(plan(50_000_000).build_params)["nlist"] == 512  # lists follow the segments, not the total
    assert dict(plan(1_000_000).search_params)["nprobe"] == 128
    assert (
        dict(plan(1_000_000).search_params)["nprobe"]
        == plan(1_000_000).search_params_for(10, 10**6)["params"]["nprobe"]
    )
    assert plan(1_000_000).search_params_for(16_384, 10**6)["params"]["nprobe"] == 289  # a deep fetch probes more
    assert plan(10, "hnsw").index_type == "HNSW" and plan(10, "HNSW").search_params_for(500, 10)["params"]["ef"] == 500
    server = milvus_plan_for(20_000_000, 200_000, 10_000_000, 0.25, segment_rows_for("http://milvus:19530", 768))
    assert server.index_type == "IVF_SQ8" and dict(server.build_params)["nlist"] == 1024
    assert dict(server.search_params)["nprobe"] == 256
    with pytest.raises(ValueError, match="Unknown Milvus index type"):
        plan(10, "DISKANN")


def test_filters_on_unknown_fields_are_refused():
    from index_builder.vector_store import FeatureIn

    with pytest.raises(ValueError, match="no field"):
        filter_expression(FeatureIn("energy", ((0.5, None),)), frozenset())
    assert filter_expression(YearBetween(2010, None)) == "(year is not null and year >= 2010)"
    assert filter_expression(None) == ""


def test_an_unreachable_server_is_one_sentence():
    with pytest.raises(StoreUnavailable, match="cannot be reached"):
        connect("http://127.0.0.1:9")
