"""Run keys follow what the code does, not how it is written; a result-neutral lib change is carried over
only with evidence (identical smoke results before and after)."""

import json

import pytest

from lib import provenance, results, runner

SOURCE = '''"""Module docstring."""
import math


def area(r):
    """Docstring."""
    return math.pi * r ** 2  # a comment
'''


def test_fingerprint_ignores_comments_docstrings_and_layout(tmp_path):
    a, b, c = tmp_path / "a.py", tmp_path / "b.py", tmp_path / "c.py"
    a.write_text(SOURCE)
    b.write_text('import math\n\n\ndef area(r):\n    """Other words."""\n    return (math.pi\n            * r**2)\n')
    c.write_text(SOURCE.replace("** 2", "** 3"))
    assert provenance.code_fingerprint(a) == provenance.code_fingerprint(b)
    assert provenance.code_fingerprint(a) != provenance.code_fingerprint(c)


def _fake_project(tmp_path, monkeypatch, metrics_before, metrics_after):
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    chapter = chapters / "99_probe.py"
    chapter.write_text("# %%\nx = 1\n")
    res_dir = tmp_path / "results"
    res_dir.mkdir()
    monkeypatch.setattr(runner, "chapter_list", lambda: [chapter])
    monkeypatch.setattr(runner, "results_path", lambda ch, profile: res_dir / f"{ch.stem}.json")
    key = runner.run_key(chapter, {"profile": "book"}, [], ["lib/claims.py"])
    stale = {**key, "lib_sha256": "0" * 16}
    stored = {
        "run_key": stale,
        "metrics": {},
        "provenance": {"code": {"lib_modules": ["lib/claims.py"]}, "data_fingerprint": {}},
    }
    (res_dir / "99_probe.json").write_text(json.dumps(stored))
    for name, metrics in [("before", metrics_before), ("after", metrics_after)]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "99_probe.json").write_text(
            json.dumps(
                {
                    "metrics": {k: {"per_seed": v} for k, v in metrics.items()},
                    "provenance": {"code": {"git_commit": "abc1234"}},
                }
            )
        )
    return res_dir / "99_probe.json", key


def test_rekey_carries_results_over_only_when_smoke_results_agree(tmp_path, monkeypatch):
    res, key = _fake_project(
        tmp_path, monkeypatch, {"acc": {"0": 0.5}, "time_s": {"0": 1.0}}, {"acc": {"0": 0.5}, "time_s": {"0": 9.0}}
    )
    assert runner.rekey("book", tmp_path / "before", tmp_path / "after") == ["99_probe.py"]
    stored = json.loads(res.read_text())
    assert stored["run_key"] == key and "identical" in stored["rekeyed"][0]["evidence"]


def test_rekey_refuses_when_a_metric_moved(tmp_path, monkeypatch):
    res, key = _fake_project(tmp_path, monkeypatch, {"acc": {"0": 0.5}}, {"acc": {"0": 0.51}})
    assert runner.rekey("book", tmp_path / "before", tmp_path / "after") == []
    assert json.loads(res.read_text())["run_key"] != key


def test_rekey_covers_the_modules_the_chapter_imports_now(tmp_path, monkeypatch):
    res, _ = _fake_project(tmp_path, monkeypatch, {"acc": {"0": 0.5}}, {"acc": {"0": 0.5}})
    after = tmp_path / "after" / "99_probe.json"
    split = ["lib/claims.py", "lib/metrics.py"]  # e.g. a module split: the new code imports more files
    content = json.loads(after.read_text())
    content["provenance"]["code"]["lib_modules"] = split
    after.write_text(json.dumps(content))
    assert runner.rekey("book", tmp_path / "before", tmp_path / "after") == ["99_probe.py"]
    stored = json.loads(res.read_text())
    chapter = tmp_path / "chapters" / "99_probe.py"
    assert stored["provenance"]["code"]["lib_modules"] == split
    assert stored["run_key"] == runner.run_key(chapter, {"profile": "book"}, [], split)


def test_run_save_is_the_one_writer_and_stamps_the_run_key_under_the_runner(tmp_path, monkeypatch):
    chapter = tmp_path / "99_probe.py"
    chapter.write_text("# %%\nx = 1\n")
    run = results.Run("99_probe", {"profile": "smoke"}, tmp_path / "manual")
    run.log("acc", 0.5, 0)
    assert "run_key" not in json.loads(run.save().read_text())  # a manual run: no runner, no key

    context = {"chapter": str(chapter), "params": {"profile": "smoke"}, "started": 0.0, "profile": "smoke"}
    monkeypatch.setenv(provenance.RUN_ENV, json.dumps(context))
    run = results.Run("99_probe", {"profile": "smoke"}, tmp_path / "runner")
    run.log("acc", 0.5, 0)
    stored = json.loads(run.save().read_text())
    modules = stored["provenance"]["code"]["lib_modules"]
    assert stored["run_key"] == runner.run_key(chapter, {"profile": "smoke"}, [], modules)
    assert stored["runner"]["profile"] == "smoke" and stored["provenance"]["data_dir"] == "$AUDIO_REPRO_DATA"


CHAPTER = """# %% [markdown]
# # A probe

# %% tags=["parameters"]
profile = "smoke"

# %% tags=["remove-cell"]
SIZES = {"smoke": {"n": 2}, "book": {"n": 20}}
n = SIZES[profile]["n"]  # a comment

# %%
print(n * 2)
"""


def test_chapter_key_counts_what_runs_not_prose_tags_or_other_profiles(tmp_path):
    from lib.provenance import chapter_code_hash

    chapter = tmp_path / "99_probe.py"

    def key(text, profile):
        chapter.write_text(text)
        return chapter_code_hash(chapter, profile)

    base = {p: key(CHAPTER, p) for p in ("smoke", "book")}
    presentation = (
        CHAPTER.replace("# # A probe", "# # A probe, retitled\n#\n# ```{literalinclude} x.py\n# ```")
        .replace('tags=["remove-cell"]', 'tags=["hide-input"]')
        .replace("# a comment", "# another comment")
    )
    assert {p: key(presentation, p) for p in base} == base
    resized_smoke = CHAPTER.replace('"smoke": {"n": 2}', '"smoke": {"n": 3}')
    assert key(resized_smoke, "book") == base["book"] and key(resized_smoke, "smoke") != base["smoke"]
    assert key(CHAPTER.replace("n * 2", "n * 3"), "book") != base["book"]


def test_refresh_carries_prose_and_tags_into_the_executed_notebook_keeping_outputs(tmp_path, monkeypatch):
    import nbformat

    chapter = tmp_path / "99_probe.py"
    chapter.write_text(CHAPTER)
    executed = tmp_path / "99_probe.ipynb"
    monkeypatch.setattr(runner, "executed_path", lambda ch, profile: executed)
    import jupytext

    nb = jupytext.read(chapter, fmt="py:percent")
    code = [c for c in nb.cells if c.cell_type == "code"]
    code[-1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="4\n")]
    injected = nbformat.v4.new_code_cell('profile = "book"', metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(2, injected)
    nbformat.write(nb, executed)

    chapter.write_text(CHAPTER.replace("# # A probe", "# # A probe, retitled").replace("remove-cell", "hide-input"))
    assert runner.refresh_presentation(chapter, "book") is True
    assert runner.refresh_presentation(chapter, "book") is False  # idempotent: same bytes
    fresh = nbformat.read(executed, as_version=4)
    assert fresh.cells[0].source == "# A probe, retitled"
    assert [c.outputs[0]["text"] for c in fresh.cells if c.cell_type == "code" and c.outputs] == ["4\n"]
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in fresh.cells)
    assert "hide-input" in fresh.cells[-2].metadata["tags"]

    chapter.write_text(CHAPTER + "\n# %%\nprint('a new cell')\n")
    with pytest.raises(ValueError, match="re-run"):
        runner.refresh_presentation(chapter, "book")


def test_rekey_tolerates_named_unrepeatable_metrics_only_with_a_reason(tmp_path, monkeypatch):
    before = {"acc": {"0": 0.5}, "e2e/sphinx_cer": {"all": 0.64}}
    after = {"acc": {"0": 0.5}, "e2e/sphinx_cer": {"all": 0.65}}
    res, key = _fake_project(tmp_path, monkeypatch, before, after)
    assert runner.rekey("book", tmp_path / "before", tmp_path / "after") == []  # not without tolerance
    why = "the synthesiser's noise is drawn from an unseeded C generator"
    assert runner.rekey("book", tmp_path / "before", tmp_path / "after", tolerate=("sphinx",), why=why) == [
        "99_probe.py"
    ]
    record = json.loads(res.read_text())["rekeyed"][-1]
    assert why in record["evidence"]
    assert record["tolerated"] == {"e2e/sphinx_cer": {"before": {"all": 0.64}, "after": {"all": 0.65}}}


def test_rekey_tolerance_does_not_excuse_other_metrics(tmp_path, monkeypatch):
    res, key = _fake_project(tmp_path, monkeypatch, {"acc": {"0": 0.5}}, {"acc": {"0": 0.6}})
    assert runner.rekey("book", tmp_path / "before", tmp_path / "after", tolerate=("sphinx",), why="x") == []


def test_rekey_refuses_evidence_computed_with_other_code(tmp_path, monkeypatch):
    res, key = _fake_project(tmp_path, monkeypatch, {"acc": {"0": 0.5}}, {"acc": {"0": 0.5}})
    after = tmp_path / "after" / "99_probe.json"
    content = json.loads(after.read_text())
    content["run_key"] = {"chapter_sha256": "0" * 16, "lib_sha256": key["lib_sha256"]}  # an older chapter
    after.write_text(json.dumps(content))
    assert runner.rekey("book", tmp_path / "before", tmp_path / "after", chapter_code=True) == []
