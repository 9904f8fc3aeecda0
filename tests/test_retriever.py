"""MoodringRetriever: LangChain's retriever interface over the engine, through invoke, batch and ainvoke, over the
FAISS folder and over Milvus Lite."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from assistant.conditions import Filters
from assistant.engine import SearchEngine
from assistant.retriever import MoodringRetriever
from index_builder.errors import QueryError

RESULT_FIELDS = {"rank", "song_id", "title", "artist", "year", "genre", "score", "explanation", "matched"}


def test_invoke_answers_a_request_with_documents(bundled_engine):
    retriever = MoodringRetriever(engine=bundled_engine, k=5)
    assert isinstance(retriever, BaseRetriever)
    documents = retriever.invoke("upbeat workout songs with low acousticness, nothing before 2015")
    response = bundled_engine.search("upbeat workout songs with low acousticness, nothing before 2015", 5)
    assert all(isinstance(d, Document) for d in documents) and len(documents) == 5
    for document, result in zip(documents, response.results, strict=True):
        assert document.page_content == result.description and document.id == result.song_id
        assert set(document.metadata) == RESULT_FIELDS | {"understood", "relaxed"}
        assert {k: document.metadata[k] for k in RESULT_FIELDS} == {
            k: v for k, v in result.to_dict().items() if k in RESULT_FIELDS
        }
        assert document.metadata["understood"] == response.understood
        assert document.metadata["year"] >= 2015


def test_batch_answers_each_request_as_invoke_does(bundled_engine):
    retriever = MoodringRetriever(engine=bundled_engine, k=3)
    queries = ["sad songs", "songs for a rainy heartbreak", "give me 2 calm songs for studying"]
    batched = retriever.batch(queries)
    assert [[d.id for d in docs] for docs in batched] == [[d.id for d in retriever.invoke(q)] for q in queries]
    assert [len(docs) for docs in batched] == [3, 3, 2]  # a count in the request wins
    failed = retriever.batch(["sad songs", "   "], return_exceptions=True)
    assert len(failed[0]) == 3 and isinstance(failed[1], QueryError)
    assert [d.id for d in asyncio.run(retriever.ainvoke("sad songs"))] == [d.id for d in batched[0]]


def test_filters_and_diversity_apply(bundled_engine):
    filters = Filters.of(genres=["dance pop"], year_min=2016)
    documents = MoodringRetriever(engine=bundled_engine, k=6, filters=filters).invoke("happy summer songs")
    assert documents and all(d.metadata["genre"] == "dance pop" and d.metadata["year"] >= 2016 for d in documents)
    popular = MoodringRetriever(engine=bundled_engine, k=4, filters=filters).invoke("")
    assert len(popular) == 4
    artist = bundled_engine.songs["artist"].value_counts().index[0]  # the catalogue's most frequent artist
    plain = MoodringRetriever(engine=bundled_engine, k=10, diverse=False).invoke(f"songs by {artist}")
    mixed = MoodringRetriever(engine=bundled_engine, k=10).invoke(f"songs like {artist} sings")
    assert sum(d.metadata["artist"] == artist for d in plain) > 2  # without diversity one artist may fill it
    assert sum(d.metadata["artist"] == artist for d in mixed) <= 2
    with pytest.raises(QueryError):
        MoodringRetriever(engine=bundled_engine).invoke("")


def test_the_same_documents_over_milvus(bundled_engine, tmp_path_factory):
    uri = str(tmp_path_factory.mktemp("retriever-milvus") / "songs.db")
    settings = dataclasses.replace(bundled_engine.settings, milvus_uri=uri)
    milvus = SearchEngine.from_settings(settings, encoder=bundled_engine.encoder)
    queries = ["sad songs", "dance pop from 2015 without Drake", "high energy rap"]
    over_milvus = MoodringRetriever(engine=milvus, k=5).batch(queries)
    over_folder = MoodringRetriever(engine=bundled_engine, k=5).batch(queries)
    assert [[d.id for d in docs] for docs in over_milvus] == [[d.id for d in docs] for docs in over_folder]
    assert [[d.page_content for d in docs] for docs in over_milvus] == [
        [d.page_content for d in docs] for docs in over_folder
    ]
