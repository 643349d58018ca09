"""Every chapter executed once, through papermill with the `smoke` profile; its notebook checked as
executed (what nbval's lax mode checked, without a second execution); a smoke book build.

These are the slow tests (marked ``slow``); they run last.  The runner's promises are
tested here too: an unchanged chapter is not re-executed, and a broken chapter names
its failing cell and leaves the previous outputs untouched.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lib import runner

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = runner.chapter_list()
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_chapter_runs_with_smoke_profile(chapter, data_available):
    """The one execution of each chapter in CI: papermill runs every cell (a cell that raises fails the run)."""
    runner.run_chapter(chapter, "smoke", force=True)  # force: CI owes nothing to an earlier run's outputs
    nb = runner.executed_path(chapter, "smoke")
    assert nb.exists() and runner.results_path(chapter, "smoke").exists()
    # Unchanged code, lib, parameters and data: the second call does not execute anything.
    assert runner.run_chapter(chapter, "smoke") == "skipped"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_smoke_notebook_is_complete_and_clean(chapter, data_available):
    """What nbval's lax mode checked, read off the notebook papermill executed (no second execution):
    every code cell ran, in order, and none left an error or a stderr stream."""
    import nbformat

    path = runner.executed_path(chapter, "smoke")
    if not path.exists():
        pytest.skip("chapter did not run")
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code]
    assert None not in counts, f"cells never executed: {[i for i, n in enumerate(counts) if n is None]}"
    assert counts == sorted(counts), "cells executed out of order"
    for i, cell in enumerate(code):
        for out in cell.outputs:
            assert out.output_type != "error", f"code cell {i}: {out.get('ename')}: {out.get('evalue')}"
            assert not (out.output_type == "stream" and out.name == "stderr"), (
                f"code cell {i}: stderr: {out.text[:300]}"
            )
    results = json.loads(runner.results_path(chapter, "smoke").read_text())
    claims_file = ROOT / "book" / "claims" / f"{chapter.stem}.yml"
    if claims_file.exists():  # every claim of the paper is computed in smoke too
        import yaml

        wanted = {c["id"] for c in yaml.safe_load(claims_file.read_text())["claims"]}
        got = {c["id"] for c in results.get("claims", [])}
        assert wanted <= got, f"claims not computed in smoke: {sorted(wanted - got)}"


GOOD = """# %% tags=["parameters"]
profile = "smoke"
output_dir = None
data_dir = None
# %%
from lib import results
run = results.Run("zz_runner_probe", {"profile": profile}, output_dir)
run.log("x", 1.0)
run.save()
"""


def test_broken_chapter_names_the_cell_and_keeps_previous_outputs(tmp_path):
    chapter = tmp_path / "zz_runner_probe.py"
    chapter.write_text(GOOD)
    try:
        assert runner.run_chapter(chapter, "smoke") == "ran"
        nb, res = runner.executed_path(chapter, "smoke"), runner.results_path(chapter, "smoke")
        before = (nb.read_bytes(), res.read_bytes())
        chapter.write_text(GOOD + "# %%\nraise RuntimeError('deliberately broken')\n")
        with pytest.raises(runner.ChapterFailed) as err:
            runner.run_chapter(chapter, "smoke")
        message = str(err.value)
        assert "cell" in message and "deliberately broken" in message and "RuntimeError" in message
        assert (nb.read_bytes(), res.read_bytes()) == before
    finally:
        for p in [
            runner.executed_path(chapter, "smoke"),
            runner.results_path(chapter, "smoke"),
            ROOT / "runs" / "smoke" / "zz_runner_probe.failed.ipynb",
        ]:
            p.unlink(missing_ok=True)
        import shutil

        shutil.rmtree(runner.run_dir(chapter, "smoke"), ignore_errors=True)


def test_smoke_book_builds_with_every_chapter(data_available):
    missing = [c.stem for c in CHAPTERS if not runner.executed_path(c, "smoke").exists()]
    assert not missing, f"chapters without smoke output: {missing}"
    html = runner.build("smoke")
    page = html / "book" / "executed" / "smoke" / "00_data.html"
    text = page.read_text()
    assert "The data" in text and text.count("<img") >= 5
    assert "Traceback" not in text
    assert (html / "book" / "scoreboard.html").exists()


SLOW_PROBE = (
    GOOD
    + """# %%
import time
time.sleep(float(nap))
"""
)


def test_killed_run_leaves_previous_outputs_and_rerun_completes(tmp_path):
    """Interrupt a run mid-cell (SIGKILL to the runner's process group): nothing half-written is published."""
    import os
    import signal
    import time

    chapter = tmp_path / "zz_runner_probe.py"
    chapter.write_text(SLOW_PROBE.replace('profile = "smoke"', 'profile = "smoke"\nnap = 0'))
    nb, res = runner.executed_path(chapter, "smoke"), runner.results_path(chapter, "smoke")
    try:
        runner.run_chapter(chapter, "smoke", {"nap": 0})
        before = (nb.read_bytes(), res.read_bytes())
        proc = subprocess.Popen(
            [sys.executable, "-m", "lib.runner", "run", str(chapter), "--profile", "smoke", "-p", "nap=60"],
            cwd=ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(12)  # the kernel is now inside the 60-s cell
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert (nb.read_bytes(), res.read_bytes()) == before
        assert runner.run_chapter(chapter, "smoke", {"nap": 1}) == "ran"
        assert nb.read_bytes() != before[0]
    finally:
        import shutil

        for p in [nb, res, ROOT / "runs" / "smoke" / "zz_runner_probe.failed.ipynb"]:
            p.unlink(missing_ok=True)
        shutil.rmtree(runner.run_dir(chapter, "smoke"), ignore_errors=True)
        shutil.rmtree(ROOT / "runs" / "smoke" / ".zz_runner_probe.running", ignore_errors=True)


def test_toc_lists_every_chapter_once():
    toc = (ROOT / "_toc.yml").read_text()
    listed = [
        line.split("book/executed/book/")[1].strip()
        for line in toc.splitlines()
        if "book/executed/book/" in line and "file:" in line
    ]
    assert sorted(listed) == sorted(c.stem for c in CHAPTERS)


def test_same_seed_and_profile_give_identical_metrics(data_available):
    """The one re-run in the suite: the cheapest chapter, dispatched to a Dask LocalCluster, gives the
    metrics of its local smoke run above (timings excluded)."""
    from lib import cluster

    chapter = ROOT / "chapters" / "00_data.py"
    res = runner.results_path(chapter, "smoke")
    if not res.exists():
        runner.run_chapter(chapter, "smoke")
    local = json.loads(res.read_text())
    assert cluster.run_chapters([chapter], "smoke", scheduler="local", force=True) == []
    dispatched = json.loads(res.read_text())
    assert dispatched["runner"].get("dask_worker"), "the results file names the Dask worker that ran it"
    assert len(runner.comparable_metrics(local)) > 0
    assert runner.comparable_metrics(dispatched) == runner.comparable_metrics(local)
