"""The whole assistant over a Milvus Lite collection answers as it does over the FAISS folder: the evaluation's
requests, explanations, follow-ups and the discovery features, on the bundled catalogue, with the real model."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from assistant.conditions import Filters
from assistant.dialogue import DialogueState, respond
from assistant.discovery.browse import filtered_search
from assistant.discovery.presets import preset_search
from assistant.discovery.similar import more_like_this
from assistant.discovery.taste import recommend_for_taste, taste_profile
from assistant.engine import SearchEngine
from evaluation.follow_ups import load_follow_ups
from evaluation.rules import load_queries
from index_builder.cli_common import add_settings_arguments, settings_from_args
from index_builder.errors import IndexMismatch
from index_builder.settings import PROJECT_ROOT, Settings


@pytest.fixture(scope="module")
def milvus_engine(bundled_engine, tmp_path_factory):
    """The bundled catalogue in a Milvus Lite file, built beside the session's folder (whose vectors it reuses)."""
    uri = str(tmp_path_factory.mktemp("milvus") / "songs.db")
    settings = dataclasses.replace(bundled_engine.settings, milvus_uri=uri)
    return SearchEngine.from_settings(settings, encoder=bundled_engine.encoder)


def same_response(faiss, milvus) -> None:
    """The same songs in the same order with the same explanations, notes and reading; scores (rounded to 4 places)
    to float rounding."""
    assert [r.song_id for r in milvus.results] == [r.song_id for r in faiss.results]
    assert [(r.explanation, r.matched) for r in milvus.results] == [(r.explanation, r.matched) for r in faiss.results]
    assert (milvus.understood, milvus.notes, milvus.relaxed) == (faiss.understood, faiss.notes, faiss.relaxed)
    np.testing.assert_allclose([r.score for r in milvus.results], [r.score for r in faiss.results], atol=2e-4)


def test_the_collection_reuses_the_folders_vectors_and_records_what_built_it(bundled_engine, milvus_engine):
    manifest = milvus_engine.index.manifest
    assert milvus_engine.index.pushes_down and not bundled_engine.index.pushes_down
    assert (manifest["embedded"], manifest["reused"]) == (0, len(bundled_engine.songs))
    folder = bundled_engine.index.manifest
    for field in ("model_name", "model_sha256", "catalogue_sha256", "template_sha256", "feature_words_sha256",
                  "thresholds_sha256", "column_map_sha256", "dimension", "song_count"):  # fmt: skip
        assert manifest[field] == folder[field], field
    assert manifest["milvus_index_type"] == "FLAT" and "Milvus collection" in milvus_engine.index.describe()
    np.testing.assert_allclose(milvus_engine.catalogue.vectors, bundled_engine.catalogue.vectors, atol=1e-6)


def test_every_evaluation_request_gets_the_same_top_10(bundled_engine, milvus_engine):
    queries = load_queries()
    assert len(queries) >= 80
    for query in queries:
        same_response(bundled_engine.search(query.text, 10), milvus_engine.search(query.text, 10))


def test_follow_ups_and_conversations_answer_the_same(bundled_engine, milvus_engine):
    conversations = [case.turns for case in load_follow_ups()]
    long_talk = ("upbeat songs for a party", "no more Drake", "why #3", "more like #2", "show more", "older ones",
                 "only after 2015", "give me 5", "start over: sad songs with no acoustic")  # fmt: skip
    conversations.append(long_talk)
    conversations.append(("dance pop by Nobody At All from 2031", "calmer"))  # relaxed, then refined
    for turns in conversations:
        faiss_state, milvus_state = DialogueState(), DialogueState()
        for message in turns:
            faiss_reply, faiss_state = respond(message, faiss_state, bundled_engine)
            milvus_reply, milvus_state = respond(message, milvus_state, milvus_engine)
            assert milvus_reply == faiss_reply, (turns, message)


def test_discovery_answers_the_same(bundled_engine, milvus_engine):
    filters = Filters.of(genres=["dance pop"], year_min=2014)
    for engine_call in (
        lambda engine: more_like_this(engine, "shape of yu", k=8),
        lambda engine: more_like_this(engine, "Bad Romance", k=8, filters=filters),
        lambda engine: preset_search(engine, "chill", k=8),
        lambda engine: preset_search(engine, "workout", k=8, filters=filters),
        lambda engine: filtered_search(engine, "happy summer songs", filters, k=8),
        lambda engine: filtered_search(engine, "", filters, k=8),
        lambda engine: recommend_for_taste(engine, taste_profile(engine, ["Hello", "Someone Like You"]), k=8),
    ):
        same_response(engine_call(bundled_engine), engine_call(milvus_engine))


def test_an_approximate_collection_keeps_recall(bundled_engine, milvus_engine, tmp_path):
    settings = dataclasses.replace(
        milvus_engine.settings, milvus_index="IVF_FLAT", milvus_collection="moodring_ivf", exact_search_limit=100
    )
    engine = SearchEngine.from_settings(settings, encoder=bundled_engine.encoder)
    assert engine.index.plan.index_type == "IVF_FLAT" and engine.index.manifest["embedded"] == 0
    recalls = []
    for query in load_queries():
        exact = {r.song_id for r in bundled_engine.search(query.text, 10).results}
        found = {r.song_id for r in engine.search(query.text, 10).results}
        recalls.append(len(exact & found) / max(len(exact), 1))
    assert np.mean(recalls) >= 0.95


def test_a_collection_built_from_another_template_is_refused(bundled_engine, milvus_engine, tmp_path):
    prompts = shutil.copytree(PROJECT_ROOT / "prompts", tmp_path / "prompts")
    (prompts / "song_description.txt").write_text((prompts / "song_description.txt").read_text() + " ")
    settings = dataclasses.replace(milvus_engine.settings, prompts_dir=prompts)
    with pytest.raises(IndexMismatch, match=r"Milvus .* is stale: song template"):
        SearchEngine.from_settings(settings, encoder=bundled_engine.encoder, rebuild=False)


def test_the_command_lines_take_milvus(bundled_engine, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    env.pop("MOODRING_MILVUS_URI", None)
    uri = str(tmp_path / "cli.db")
    base = ["--index", str(bundled_engine.settings.resolved_index_dir), "--milvus", uri, "--quiet"]

    def run(*command: str) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", *command], capture_output=True, text=True, env=env,
                              cwd=PROJECT_ROOT, timeout=600)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done

    built = run("index_builder", *base).stdout
    assert "Built Milvus collection moodring_top50MusicFrom2010_2019_" in built and "(0 embedded, 587 reused)" in built
    assert "OK, 587 songs" in run("index_builder", *base, "--check").stdout
    query = "upbeat workout songs with low acousticness, nothing before 2015"
    answer = json.loads(run("assistant", query, "--k", "5", "--json", *base).stdout)
    assert [r["song_id"] for r in answer] == [r.song_id for r in bundled_engine.search(query, 5).results]


def test_milvus_is_a_setting_a_flag_and_an_environment_variable():
    parser = argparse.ArgumentParser()
    add_settings_arguments(parser)
    assert settings_from_args(parser.parse_args(["--milvus", "songs.db"])).milvus_uri == "songs.db"
    assert settings_from_args(parser.parse_args([])).milvus_uri == Settings.from_env().milvus_uri
    assert Settings.from_env({"MOODRING_MILVUS_URI": "http://milvus:19530"}).milvus_uri == "http://milvus:19530"
    assert Settings().milvus_uri == "" and Settings().resolved_milvus_collection.startswith("moodring_top50Music")
