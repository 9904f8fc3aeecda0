"""The bundled catalogue's index ships in data/index/ so a fresh clone embeds nothing before its first answer.

When this fails after editing prompts/, data/ or the code that describes songs, rebuild it with
``python -m index_builder --ship`` and commit data/index/.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from index_builder.build import describe_catalogue, load_checked_folder, open_index, shipped_key
from index_builder.errors import IndexMismatch
from index_builder.settings import PROJECT_ROOT, SHIPPED_INDEX_DIR, Settings
from tests.helpers import test_settings

REBUILD = "The shipped index (data/index/) is stale: rebuild it with `python -m index_builder --ship`"


def _app_settings(tmp_path, **changes) -> Settings:
    """The app's default settings (bundled catalogue, shipped index), with the writable folders under tmp_path."""
    return Settings(index_root=tmp_path / "indexes", show_progress=False, **changes)  # type: ignore[arg-type]


def test_shipped_index_matches_the_code_and_prompts(encoder, tmp_path):
    settings = _app_settings(tmp_path)
    try:
        shipped = load_checked_folder(SHIPPED_INDEX_DIR, shipped_key(settings, encoder), settings)
    except IndexMismatch as problem:
        pytest.fail(f"{REBUILD} ({problem})")
    described = describe_catalogue(settings, previous=shipped.scheme)  # what a build would write now
    assert described.scheme.fingerprint() == shipped.manifest["thresholds_sha256"], REBUILD
    try:
        pd.testing.assert_frame_equal(described.songs.reset_index(drop=True), shipped.songs, check_dtype=False)
    except AssertionError as difference:
        pytest.fail(f"{REBUILD} (the songs table differs: {difference})")
    assert shipped.manifest["model_name"] == encoder.location.name  # full-precision vectors, the best there are


def test_the_app_serves_the_shipped_index_and_writes_nothing(encoder, tmp_path):
    before = sorted((p.name, p.stat().st_mtime_ns) for p in SHIPPED_INDEX_DIR.iterdir())
    index = open_index(_app_settings(tmp_path), encoder, rebuild=False)
    assert index.folder == SHIPPED_INDEX_DIR and len(index) == 587
    assert sorted((p.name, p.stat().st_mtime_ns) for p in SHIPPED_INDEX_DIR.iterdir()) == before
    assert not (tmp_path / "indexes").exists()


def test_a_stale_shipped_index_is_passed_over_for_the_usual_folder(encoder, tmp_path):
    prompts = shutil.copytree(PROJECT_ROOT / "prompts", tmp_path / "prompts")
    template = prompts / "song_description.txt"
    template.write_text(template.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # a developer's edit
    settings = _app_settings(tmp_path, prompts_dir=prompts)
    with pytest.raises(IndexMismatch, match=r"No index at .*indexes"):  # not the shipped one: the usual folder
        open_index(settings, encoder, rebuild=False)


def test_other_folders_and_catalogues_never_use_it(tmp_path, bundled_csv):
    assert _app_settings(tmp_path).uses_shipped_index
    assert not _app_settings(tmp_path, index_dir=tmp_path / "mine").uses_shipped_index
    assert not _app_settings(tmp_path, milvus_uri=str(tmp_path / "songs.db")).uses_shipped_index
    assert not _app_settings(tmp_path, catalogue_path=tmp_path / "other.csv").uses_shipped_index
    assert not test_settings(tmp_path, bundled_csv).uses_shipped_index  # the tests build the bundled one themselves
    assert not _app_settings(tmp_path, shipped_index_dir=None).uses_shipped_index
