"""The quality evaluation: relevance rules on plain tables, metrics on arrays, baselines, and a smoke run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.__main__ import results_markdown
from evaluation.evaluate import TOP, EvaluationReport, QueryOutcome, Scores, evaluate_catalogue, run_evaluation
from evaluation.follow_ups import VISIBLE_STEP, judge_move, load_follow_ups, run_follow_ups
from evaluation.metrics import distinct_at, ndcg_at, precision_at, recall_at, violations_at
from evaluation.rules import (
    CATEGORIES,
    OPEN_CATEGORIES,
    OPEN_QUERIES_PATH,
    LabelledQuery,
    SkippedQuery,
    judge,
    load_queries,
)
from evaluation.systems import FeaturePresets, KeywordTfidf, MoodringPipeline, PlainEmbedding, load_presets
from evaluation.targets import issue_targets
from index_builder.catalogue import load_catalogue
from index_builder.errors import ConfigError
from index_builder.settings import BUNDLED_CATALOGUE
from tests.helpers import spotify_catalogue, test_settings


def _songs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "song_id": ["a", "b", "c", "d", "e", "f"],
            "title": ["One", "Two (feat. Kesha)", "Three", "Four", "Five", "Six"],
            "artist": ["Pitbull", "Pitbull", "Adele", "Drake", "Kesha", "The Popcorns"],
            "genre": ["dance pop", "dance pop", "british soul", "canadian hip hop", "pop", "popcorn rock"],
            "year": pd.array([2010, 2012, 2015, 2016, 2019, None], dtype="Int64"),
            "valence": [0.1, 0.2, 0.3, 0.7, 0.8, 0.9],
            "energy": [0.9, 0.8, 0.2, 0.6, np.nan, 0.5],
            "popularity": [50.0, 60, 70, 80, 90, 10],
            "description": [
                "sad mood. dance pop.",
                "sad mood. dance pop.",
                "bittersweet mood. british soul. acoustic.",
                "happy mood. canadian hip hop.",
                "very happy mood. pop.",
                "happy mood. popcorn rock.",
            ],
        }
    )


# ---- rules -------------------------------------------------------------------------------------------------


def test_terciles_are_taken_from_the_catalogue():
    sad = judge(LabelledQuery("sad", "mood", relevant={"valence": "lowest_third"}), _songs())
    assert sad.relevant.tolist() == [True, True, False, False, False, False]
    happy = judge(LabelledQuery("happy", "mood", relevant={"valence": "upper_two_thirds"}), _songs())
    assert happy.relevant.tolist() == [False, False, True, True, True, True]


def test_missing_values_never_count_as_relevant():
    calm = judge(LabelledQuery("calm", "mood", relevant={"energy": "lower_two_thirds"}), _songs())
    assert not calm.relevant[4]  # energy unknown


def test_genres_match_whole_words():
    pop = judge(LabelledQuery("pop", "genre", constraints={"genre": ["pop"]}), _songs())
    assert pop.relevant.tolist() == [True, True, False, False, True, False]  # not "popcorn rock"
    hip_hop = judge(LabelledQuery("hip hop", "genre", constraints={"genre": ["hip-hop"]}), _songs())
    assert hip_hop.relevant.tolist() == [False, False, False, True, False, False]


def test_artist_constraints_see_featured_credits():
    query = LabelledQuery(
        "no kesha", "mixed", relevant={"valence": "lowest_third"}, constraints={"exclude_artist": ["Kesha"]}
    )
    judged = judge(query, _songs())
    assert judged.allowed.tolist() == [True, False, True, True, False, True]
    assert judged.relevant.tolist() == [True, False, False, False, False, False]


def test_gains_are_graded_and_zero_when_a_constraint_breaks():
    query = LabelledQuery("x", "mixed", relevant={"valence": "lowest_third"}, constraints={"year_min": 2012})
    judged = judge(query, _songs())
    assert judged.gains.tolist() == pytest.approx([0.0, 1.0, 0.5, 0.5, 0.5, 0.0])  # row 0 too old, row 5 no year


def test_unanswerable_queries_are_skipped():
    with pytest.raises(SkippedQuery, match="no tempo"):
        judge(LabelledQuery("fast", "feature", relevant={"tempo": "highest_third"}), _songs())
    with pytest.raises(SkippedQuery, match="no song"):
        judge(LabelledQuery("90s", "era", constraints={"year_max": 1999}), _songs())


def test_the_shipped_query_set():
    queries = load_queries()
    assert len(queries) >= 60
    assert {q.category for q in queries} == set(CATEGORIES)
    assert len({q.text for q in queries}) == len(queries)
    assert {q.category for q in queries if q.smoke} == set(CATEGORIES)


def test_a_bad_query_file_is_named(tmp_path):
    path = tmp_path / "q.toml"
    path.write_text('[[queries]]\ntext = "sad"\ncategory = "mood"\nrelevant = { valence = "bottom" }\n')
    with pytest.raises(ConfigError, match="valence = 'bottom'"):
        load_queries(path)


def test_the_open_query_set_is_answerable_on_the_bundled_catalogue():
    queries = load_queries(OPEN_QUERIES_PATH)
    assert len(queries) >= 80
    assert {q.category for q in queries} == set(OPEN_CATEGORIES)
    assert len({q.text.casefold() for q in queries}) == len(queries)
    assert {q.category for q in queries if q.smoke} == set(OPEN_CATEGORIES)
    songs = load_catalogue(BUNDLED_CATALOGUE).songs
    for query in queries:
        assert judge(query, songs).relevant_count > 0, query.text  # SkippedQuery would raise


def test_the_shipped_follow_ups():
    cases = load_follow_ups()
    assert len(cases) >= 30
    assert len({c.turns for c in cases}) == len(cases)
    assert {c.direction for c in cases} == {"up", "down"}
    assert any(len(c.turns) > 2 for c in cases)
    assert 0 < sum(c.smoke for c in cases) < 10


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('turns = ["sad songs", "happier"]\nfeature = "mood"\ndirection = "up"', "about 'mood'"),
        ('turns = ["sad songs", "happier"]\nfeature = "valence"\ndirection = "higher"', "direction 'higher'"),
        ('turns = ["sad songs"]\nfeature = "valence"\ndirection = "up"', "at least one follow-up"),
        ('turns = ["sad songs", "happier"]\nfeature = "valence"\ndirection = "up"\nnote = 1', "unknown keys"),
    ],
)
def test_a_bad_follow_up_is_named(tmp_path, entry, message):
    path = tmp_path / "f.toml"
    path.write_text(
        '[[follow_ups]]\nturns = ["a", "b"]\nfeature = "energy"\ndirection = "down"\n\n[[follow_ups]]\n' + entry
    )
    with pytest.raises(ConfigError, match=rf"follow-up 2 .*({message})"):
        load_follow_ups(path)


def test_a_follow_up_file_that_does_not_parse_is_named(tmp_path):
    path = tmp_path / "f.toml"
    path.write_text("[[follow_ups]\nturns = [")
    with pytest.raises(ConfigError, match=r"Cannot read the follow-up cases .*f\.toml"):
        load_follow_ups(path)


def test_the_median_must_move_the_asked_way():
    before = np.array([0.8, 0.9, 0.7, np.nan])
    calmer = judge_move(before, np.array([0.3, 0.5, 0.4]), sign=-1, spread=0.2)
    assert (calmer.before, calmer.after) == pytest.approx((0.8, 0.4))
    assert calmer.right_way and calmer.visible
    barely = judge_move(before, np.array([0.79, 0.78, 0.8]), sign=-1, spread=0.2)
    assert barely.right_way and not barely.visible  # 0.01 < 0.25 x 0.2
    assert not judge_move(before, np.array([0.79]), sign=+1, spread=0.2).right_way
    tie = judge_move(before, np.array([0.8]), sign=-1, spread=0.2)
    assert not tie.right_way and not tie.visible
    empty = judge_move(before, np.array([]), sign=-1, spread=0.2)
    assert not empty.right_way and np.isnan(empty.after)
    step = judge_move(np.array([1.0]), np.array([1.0 + VISIBLE_STEP]), sign=+1, spread=1.0)
    assert step.visible  # exactly one step counts


def _outcome(text: str, relevant: int, returned: int, broken: int = 0) -> QueryOutcome:
    query = LabelledQuery(text, "state", relevant={"valence": "highest_third"})
    scores = Scores(precision=1.0, ndcg=1.0, recall=1.0, broken=broken, checked=returned, artists=5, returned=returned)
    return QueryOutcome(query, relevant, {MoodringPipeline.name: scores})


def test_short_answers_count_only_where_the_catalogue_holds_enough():
    report = EvaluationReport("c.csv", 100, [MoodringPipeline.name])
    report.outcomes = [_outcome("a", 50, 10), _outcome("b", 50, 3), _outcome("c", 4, 4), _outcome("d", TOP, TOP - 1)]
    assert report.short_answers(MoodringPipeline.name) == (2, 3)
    lines = report.problem_lines(MoodringPipeline.name)
    assert lines == [
        '- "b": 3 of 10 songs returned although 50 meet the rule',
        '- "d": 9 of 10 songs returned although 10 meet the rule',
    ]
    targets = {t.goal: t for t in issue_targets(None, report, None)}
    assert not targets["no answer shorter than asked where the catalogue holds enough"].met
    assert targets["open set P@10 >= 0.85"].met and targets["0 constraint violations"].met
    assert "existing set P@10 >= 0.80" not in targets  # a set that was not run has no target


# ---- metrics on arrays -------------------------------------------------------------------------------------


def test_metrics_on_arrays():
    relevant = np.array([True, False, True, False, True])
    gains = np.array([1.0, 0.0, 0.5, 0.0, 1.0])
    assert precision_at(np.array([0, 2, 1]), relevant, k=3) == pytest.approx(2 / 3)
    assert precision_at(np.array([0]), relevant, k=3) == pytest.approx(1 / 3)  # empty slots are misses
    assert ndcg_at(np.array([0, 4, 2]), gains, k=3) == pytest.approx(1.0)
    assert ndcg_at(np.array([2, 4, 0]), gains, k=3) < 1.0
    assert ndcg_at(np.array([1, 3]), gains, k=3) == 0.0
    assert recall_at(np.array([0, 1]), relevant, k=2) == pytest.approx(0.5)  # capped: 2 slots, 1 found
    assert recall_at(np.array([0, 1, 2, 3, 4]), relevant, k=5) == pytest.approx(1.0)
    assert violations_at(np.array([0, 1, 2]), np.array([True, False, True, True, True]), k=10) == (1, 3)
    assert distinct_at(np.array([0, 1, 2]), np.array(["x", "x", "y", "z", "z"]), k=10) == 2


# ---- baselines ---------------------------------------------------------------------------------------------


def test_keyword_baseline_finds_the_words():
    ranked = KeywordTfidf(_songs()["description"]).rank("british soul", 3)
    assert ranked[0] == 2


def test_feature_presets_rank_by_standardized_targets():
    songs = pd.DataFrame({"valence": [0.5, 0.1, 0.9], "energy": [0.5, 0.5, 0.6], "popularity": [10.0, 90.0, 50.0]})
    presets = FeaturePresets(songs)
    assert presets.rank("happy songs", 3).tolist()[0] == 2
    assert presets.rank("sad songs", 3).tolist()[0] == 1
    assert presets.rank("songs with no preset word", 3).tolist() == [1, 2, 0]  # most popular first


def test_shipped_presets_name_real_features():
    assert {"sad", "happy", "workout"} <= {p.name for p in load_presets()}


# ---- on the real model and the bundled catalogue -----------------------------------------------------------


def test_smoke_evaluation_on_the_bundled_catalogue(bundled_engine):
    queries = [q for q in load_queries() if q.smoke]
    report = run_evaluation(bundled_engine, queries)
    full, plain = MoodringPipeline.name, PlainEmbedding.name
    assert len(report.systems) == 4 and len(report.outcomes) == len(queries)
    broken, checked = report.violation_rate(full)
    assert broken == 0 and checked > 0
    assert report.mean(full, "precision") >= report.mean(plain, "precision")
    assert report.mean(full, "ndcg") >= report.mean(plain, "ndcg")
    markdown = report.to_markdown("test machine", "python -m evaluation --smoke")
    assert "| Moodring full pipeline |" in markdown and "nDCG@10 by query category" in markdown
    assert "test machine" in markdown


def test_smoke_follow_ups_through_the_dialogue(bundled_engine):
    cases = [c for c in load_follow_ups() if c.smoke]
    report = run_follow_ups(bundled_engine, cases)
    assert len(report.outcomes) == len(cases) and not report.skipped
    for outcome in report.outcomes:
        assert outcome.songs[0] > 0 and np.isfinite(outcome.move.before)
    open_set = run_evaluation(bundled_engine, [q for q in load_queries(OPEN_QUERIES_PATH) if q.smoke][:3])
    markdown = results_markdown("test machine", "python -m evaluation --smoke", None, open_set, report, [])
    assert "## Open set (issue 13)" in markdown and "### nDCG@10 by query category" in markdown
    assert "## Follow-ups (issue 13)" in markdown and cases[0].label in markdown


def test_evaluation_runs_on_another_schema(tmp_path, encoder):
    settings = test_settings(tmp_path, spotify_catalogue(tmp_path))
    queries = [
        LabelledQuery("calm acoustic folk", "mixed", relevant={"acousticness": "highest_third"}),
        LabelledQuery("dance pop", "genre", constraints={"genre": ["dance pop"]}),
        LabelledQuery("songs from 2019", "era", constraints={"year_min": 2019, "year_max": 2019}),
    ]
    report = evaluate_catalogue(settings, queries, encoder=encoder)
    assert report.song_count == 4 and len(report.outcomes) == 2
    assert [q.text for q, _ in report.skipped] == ["dance pop"]
    assert report.violation_rate(MoodringPipeline.name)[0] == 0
    assert 'skipped "dance pop"' in report.to_text()
