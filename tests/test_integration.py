"""End to end on the real model and real FAISS: the bundled catalogue, a small Spotify export, the CLIs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from assistant.engine import SearchEngine
from index_builder.build import open_index
from index_builder.errors import QueryError
from index_builder.settings import PROJECT_ROOT
from tests.helpers import SPOTIFY_HEADER, SPOTIFY_ROWS, spotify_catalogue, test_settings, write_csv

HIGH_ENERGY = {"high energy", "very high energy", "intense energy"}


def _rows(engine, response):
    songs = engine.songs.set_index("song_id")
    return [songs.loc[r.song_id] for r in response.results]


def test_high_energy_dance_pop(bundled_engine):
    response = bundled_engine.search("high energy dance pop", 5)
    assert len(response.results) == 5
    for result, song in zip(response.results, _rows(bundled_engine, response), strict=True):
        assert song["genre"] == "dance pop"
        assert song["energy"] >= 0.55
        assert "matches:" in result.explanation and "dance pop" in result.explanation
        assert set(result.matched) & HIGH_ENERGY


def test_sad_acoustic_query_returns_low_valence(bundled_engine):
    response = bundled_engine.search("sad acoustic songs", 5)
    valences = [song["valence"] for song in _rows(bundled_engine, response)]
    assert all(v < 0.4 for v in valences), valences
    assert all(song["acousticness"] >= 0.35 for song in _rows(bundled_engine, response))


def test_mood_without_feature_words_leans_sad(bundled_engine):
    response = bundled_engine.search("songs for a rainy heartbreak", 5)
    valences = [song["valence"] for song in _rows(bundled_engine, response)]
    assert sum(valences) / len(valences) < bundled_engine.songs["valence"].median()


def test_every_stated_constraint_holds(bundled_engine):
    response = bundled_engine.search("upbeat workout songs with low acousticness, nothing before 2015", 10)
    assert len(response.results) == 10
    for song in _rows(bundled_engine, response):
        assert song["year"] >= 2015
        assert song["acousticness"] < 0.1
        assert song["energy"] >= 0.55
    assert response.understood == "high energy, workout, not acoustic; 2015 or later"


def test_excluded_artist_never_appears(bundled_engine):
    response = bundled_engine.search("party songs like TiK ToK, no Kesha", 20)
    assert response.results
    for result in response.results:
        assert "kesha" not in result.artist.casefold() and "kesha" not in result.title.casefold()


def test_impossible_combination_is_relaxed_and_said(bundled_engine):
    response = bundled_engine.search("hip hop songs by Adele", 3)
    assert response.relaxed is not None and response.results
    assert "Nothing matches" in response.notes[0]


def test_results_carry_every_field(bundled_engine):
    result = bundled_engine.search("happy songs", 3).results[0].to_dict()
    assert set(result) >= {"title", "artist", "year", "genre", "score", "description", "explanation"}
    assert result["description"].startswith(f"{result['title']} by {result['artist']}.")


@pytest.mark.parametrize("query", ["", "   ", "?!?", "x" * 600])
def test_unusable_queries_get_a_helpful_error(bundled_engine, query):
    with pytest.raises(QueryError):
        bundled_engine.search(query)


def test_spotify_catalogue_builds_reuses_and_rebuilds(tmp_path, encoder):
    catalogue = spotify_catalogue(tmp_path)
    settings = test_settings(tmp_path, catalogue)
    first = open_index(settings, encoder)
    assert len(first) == 4 and first.manifest["embedded"] == 4
    again = open_index(settings, encoder)
    assert again.manifest["built_at"] == first.manifest["built_at"]  # loaded, not rebuilt

    extra = [["id9", "Night Drive", "Neon", "60", "2020", "synthwave", "0.6", "0.7", "-6", "0.04", "0.05", "0.3",
              "0.1", "0.4", "110", "230000"]]  # fmt: skip
    write_csv(catalogue, SPOTIFY_HEADER, SPOTIFY_ROWS + extra)
    grown = open_index(settings, encoder)
    # Only descriptions that changed are embedded again: the new song, plus any song whose popularity word
    # moved because the catalogue's popularity quantiles moved.
    changed = set(grown.songs["text_sha256"]) - set(first.songs["text_sha256"])
    assert len(grown) == 5 and grown.manifest["embedded"] == len(changed) < 5
    assert grown.manifest["reused"] == 5 - len(changed)

    prompts = tmp_path / "prompts"
    shutil.copytree(settings.prompts_dir, prompts)
    template = prompts / "song_description.txt"
    template.write_text(template.read_text().replace("Genre: {genre}.", "Style: {genre}."))
    edited = open_index(settings.with_changes(prompts_dir=prompts), encoder)
    assert edited.manifest["embedded"] == 5 and "Style: edm." in " ".join(edited.songs["description"])


def test_search_on_a_spotify_catalogue(tmp_path, encoder):
    engine = SearchEngine.from_settings(test_settings(tmp_path, spotify_catalogue(tmp_path)), encoder=encoder)
    top = engine.search("calm acoustic folk for a rainy day", 1).results[0]
    assert top.title == "Quiet Rain"
    instrumental = engine.search("instrumental", 5)  # one instrumental song: the nearest fill the answer, said so
    assert instrumental.results[0].title == "Gym Rush" and len(instrumental.results) == 4
    assert instrumental.notes[0].startswith("Only 1 song here is instrumental or partly instrumental")
    only = engine.search("only instrumental", 5)  # insisted on: a strict condition
    assert [r.title for r in only.results] == ["Gym Rush"]


def test_cli_json_output(tmp_path):
    catalogue = spotify_catalogue(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    command = [sys.executable, "-m", "assistant", "energetic workout songs", "--k", "2", "--json", "--quiet",
               "--catalogue", str(catalogue), "--index", str(tmp_path / "cli-index")]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert len(results) == 2 and results[0]["title"] == "Gym Rush"
    assert set(results[0]) >= {"title", "artist", "year", "genre", "score", "description", "explanation"}


def test_cli_reports_bad_catalogue_in_one_line(tmp_path):
    bad = write_csv(tmp_path / "bad.csv", ["label", "energy"], [["x", "0.1"]])
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    command = [sys.executable, "-m", "index_builder", "--catalogue", str(bad), "--out", str(tmp_path / "i"), "--quiet"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=600)
    assert done.returncode == 2
    assert done.stderr.startswith("error: This catalogue cannot be used: missing required column(s): title, artist")
    assert "Traceback" not in done.stderr
