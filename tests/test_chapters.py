"""Every chapter through papermill with the `smoke` profile, nbval on the result, and a smoke book build.

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
    runner.run_chapter(chapter, "smoke")
    nb = runner.executed_path(chapter, "smoke")
    assert nb.exists() and runner.results_path(chapter, "smoke").exists()
    # Unchanged source, lib, parameters and data: the second call does not execute anything.
    assert runner.run_chapter(chapter, "smoke") == "skipped"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_executed_notebook_passes_nbval_lax(chapter, data_available):
    nb = runner.executed_path(chapter, "smoke")
    if not nb.exists():
        pytest.skip("chapter did not run")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--nbval-lax",
            "--nbval-cell-timeout=900",
            str(nb),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


GOOD = """# %% tags=["parameters"]
profile = "smoke"
output_dir = None
data_dir = None
# %%
from lib import report
run = report.Run("zz_runner_probe", {"profile": profile}, output_dir)
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


TIMING_METRICS = ("scaling/", "time", "latency", "throughput", "per_s", "real_time_factor", "memory")


def test_same_seed_and_profile_give_identical_metrics(data_available):
    """A chapter with training (the triple-header one: k-means, embedding, detectors) run twice."""
    chapter = ROOT / "chapters" / "03_triple_header_events.py"
    runs = []
    for _ in range(2):
        runner.run_chapter(chapter, "smoke", force=True)
        metrics = json.loads(runner.results_path(chapter, "smoke").read_text())["metrics"]
        runs.append({k: v["per_seed"] for k, v in metrics.items() if not any(t in k for t in TIMING_METRICS)})
    assert any(k.startswith("eer/") for k in runs[0])
    assert runs[0] == runs[1]
