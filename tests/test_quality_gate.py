"""The quality gate's verdicts, its deterministic catalogue subset and its kept scores (no model needed)."""

from __future__ import annotations

import json

from bench.quality_gate import GATE_FILE, SetScores, _results_key, _saved_scores, every_kth_row, gate_table
from index_builder.settings import BUNDLED_CATALOGUE


def _scores(precision: float, ndcg: float, tops: list[list[int]]) -> dict[str, SetScores]:
    return {name: SetScores(precision, ndcg, tops) for name in ("existing", "open")}


def test_a_path_fails_only_past_the_allowed_drop():
    plain = _scores(0.800, 0.900, [[1, 2, 3, 4]])
    within = _scores(0.791, 0.890, [[1, 2, 3, 9]])  # 0.009 and 0.010 below: allowed
    beyond = _scores(0.800, 0.888, [[5, 6, 7, 8]])  # nDCG 0.012 below
    table, passed = gate_table({"plain": plain, "int8": within})
    assert passed and "| existing | int8 | 0.791 | -0.009 | 0.890 | -0.010 | 0.750 | PASS |" in table
    table, passed = gate_table({"plain": plain, "int8": within, "bf16": beyond})
    assert not passed and "| open | bf16 | 0.800 | +0.000 | 0.888 | -0.012 | 0.000 | FAIL |" in table


def test_the_subset_is_every_kth_row_and_written_once(tmp_path):
    target = tmp_path / "subset.csv"
    every_kth_row(BUNDLED_CATALOGUE, 10, target)
    rows = target.read_text(encoding="utf-8").splitlines()
    source = BUNDLED_CATALOGUE.read_text(encoding="utf-8", errors="replace").splitlines()
    assert len(rows) == 1 + -(-(len(source) - 1) // 10)
    written = target.stat().st_mtime_ns
    every_kth_row(BUNDLED_CATALOGUE, 10, target)
    assert target.stat().st_mtime_ns == written  # same subset: the file is left alone


def test_kept_scores_are_reused_only_for_the_same_index_query_path_and_word_lists(tmp_path):
    (tmp_path / "manifest.json").write_text('{"files": "a"}')
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "words.toml").write_text("a = 1")
    key = _results_key(tmp_path, "w:fast:fp32", prompts)
    kept = tmp_path / GATE_FILE.format(label="int8")
    sets = {"existing": {"precision": 0.9, "ndcg": 0.95, "tops": [[1]]}}
    kept.write_text(json.dumps({"key": key, "query_identity": "w:fast:fp32", "sets": sets}))
    assert _saved_scores(kept, key)["existing"].precision == 0.9
    assert _saved_scores(kept, _results_key(tmp_path, "w:fast:int8", prompts)) is None  # other queries
    (prompts / "words.toml").write_text("a = 2")  # requests are read another way
    assert _saved_scores(kept, _results_key(tmp_path, "w:fast:fp32", prompts)) is None
    (prompts / "words.toml").write_text("a = 1")
    (tmp_path / "manifest.json").write_text('{"files": "b"}')  # the index changed
    assert _saved_scores(kept, _results_key(tmp_path, "w:fast:fp32", prompts)) is None
