"""A fixture run of the `full` profile shrinks repeat counts only, says so, and cannot pass for a real run."""

import importlib.util
import json
from pathlib import Path

import pytest

from lib import chapter

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("fixtures_script", ROOT / "scripts" / "make-official-fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_overrides_apply_to_full_only_and_to_known_sizes(monkeypatch):
    monkeypatch.setenv(chapter.SIZE_OVERRIDES_ENV, json.dumps({"epochs": 1}))
    assert chapter.full_size_overrides("full", {"epochs": 30, "corpus": "iemocap"}) == {"epochs": 1}
    with pytest.raises(ValueError, match="full profile only"):
        chapter.full_size_overrides("book", {"epochs": 30})
    monkeypatch.setenv(chapter.SIZE_OVERRIDES_ENV, json.dumps({"epoch": 1}))
    with pytest.raises(ValueError, match=r"\['epoch'\] are not sizes"):
        chapter.full_size_overrides("full", {"epochs": 30})
    monkeypatch.delenv(chapter.SIZE_OVERRIDES_ENV)
    assert chapter.full_size_overrides("full", {"epochs": 30}) == {}


def test_fixture_runs_keep_every_code_path_setting_of_full():
    script = _script()
    for path in sorted((ROOT / "chapters").glob("[0-9][0-9]_*.py")):
        sizes = script.chapter_sizes(path)
        overrides = script.fixture_overrides(path)
        assert not set(overrides) & script.KEEP_FROM_FULL, path.name
        assert all(overrides[k] == sizes["smoke"][k] for k in overrides), path.name
        for key in ("corpus", "split_scheme", "kws_split"):
            assert key not in overrides, (path.name, key)


def test_a_fixture_run_is_keyed_apart_from_a_real_run(monkeypatch, tmp_path):
    """The runner puts the overrides into the run key, so `status` never counts a fixture run as the profile's."""
    from lib import runner

    seen = {}

    def fake_up_to_date(chapter_path, profile, params):
        seen["params"] = params
        return True

    monkeypatch.setattr(runner, "is_up_to_date", fake_up_to_date)
    monkeypatch.setattr(runner, "refresh_presentation", lambda *a: False)
    monkeypatch.setenv(chapter.SIZE_OVERRIDES_ENV, json.dumps({"epochs": 1}))
    runner.run_chapter(ROOT / "chapters" / "00_data.py", "full")
    assert seen["params"] == {"profile": "full", "size_overrides": {"epochs": 1}}
    runner.run_chapter(ROOT / "chapters" / "00_data.py", "book")
    assert seen["params"] == {"profile": "book"}
