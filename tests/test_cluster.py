"""Chapters dispatched to Dask workers (lib/cluster.py), each promise tested on a small local cluster.

A tiny probe chapter stands in for a real one (a few seconds per run): published atomically with the
worker recorded, skipped when fresh, a failing cell named as locally, a worker that dies mid-chapter
replaced (then, past the allowed failures, the chapter reported failed) without anything half-written
in the book, a worker whose packages differ from the lock refused, and the README's "Run on a
cluster" commands followed once with a real `dask scheduler` and `dask worker`.
"""

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import cloudpickle
import dask
import pytest

from lib import cluster, runner
from lib.provenance import lib_hash

ROOT = Path(__file__).resolve().parents[1]
NAME = "zz_cluster_probe"
PROBE = f"""# %% tags=["parameters"]
profile = "smoke"
output_dir = None
data_dir = None
# %%
from lib import results
run = results.Run("{NAME}", {{"profile": profile}}, output_dir)
run.log("x", 1.0)
run.save()
"""
# After run.save(): the results file exists in the worker's scratch folder but is not published yet.
KILL_MY_WORKER = """# %%
import os, pathlib, signal
marker = pathlib.Path({marker!r})
if {always} or not marker.exists():
    marker.write_text(str(os.getppid()))  # the kernel's parent is the Dask worker process running the chapter
    os.kill(os.getppid(), signal.SIGKILL)
    os._exit(1)
"""
BROKEN = "# %%\nraise RuntimeError('deliberately broken')\n"

# The functions below that run on a worker (client.run) live in this test module, which the workers
# cannot import: send them by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture
def probe(tmp_path):
    chapter = tmp_path / f"{NAME}.py"
    chapter.write_text(PROBE)
    yield chapter
    runs = ROOT / "runs" / "smoke"
    for path in [
        runner.executed_path(chapter, "smoke"),
        runner.results_path(chapter, "smoke"),
        runs / f"{NAME}.failed.ipynb",
    ]:
        path.unlink(missing_ok=True)
    for folder in [runner.run_dir(chapter, "smoke"), runs / f".{NAME}.running", runs / f".{NAME}.old"]:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def two_workers():
    """A LocalCluster of two single-threaded worker processes; a dead worker may fail a task once."""
    from distributed import Client, LocalCluster

    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 1}),
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local,
        Client(local) as client,
    ):
        yield local.scheduler_address, client


def outputs(chapter) -> tuple[bytes, bytes]:
    return runner.executed_path(chapter, "smoke").read_bytes(), runner.results_path(chapter, "smoke").read_bytes()


def ran_on(chapter) -> dict:
    return json.loads(runner.results_path(chapter, "smoke").read_text())["runner"]


# --------------------------------------------------------------------------
# Without a cluster
# --------------------------------------------------------------------------
def test_training_chapters_ask_for_a_gpu_only_where_an_accepted_worker_offers_one():
    workers = {"tcp://gpu:1": {"resources": {"GPU": 1}}, "tcp://cpu:2": {"resources": {}}}
    training = {c.stem[:2] for c in runner.chapter_list() if cluster.trains(c)}
    assert training == {"01", "02", "03", "04", "05", "06"}
    assert not cluster.trains(Path(f"/tmp/{NAME}.py"))
    for chapter in runner.chapter_list():
        options = cluster.task_options(chapter, workers, ["tcp://gpu:1", "tcp://cpu:2"])
        assert options["workers"] == ["tcp://gpu:1", "tcp://cpu:2"] and options["allow_other_workers"] is False
        assert options.get("resources") == ({"GPU": 1} if cluster.trains(chapter) else None)
        # A GPU on a refused worker (not in the accepted list) does not count: the task would wait forever.
        assert "resources" not in cluster.task_options(chapter, workers, ["tcp://cpu:2"])


def test_environment_check_names_the_package_the_wanted_and_the_found_version():
    lock = "numpy==2.4.1 \\\n    --hash=sha256:00\n    # via pandas\ntorch==2.13.0+cpu \\\nscikit_learn==1.8.0 \\\n"
    locked = cluster.locked_versions(lock)
    assert locked == {"numpy": "2.4.1", "torch": "2.13.0+cpu", "scikit-learn": "1.8.0"}
    # Names as the installed metadata may spell them; torch's CUDA build of the locked version is accepted.
    installed = {"python": "3.11.7", "numpy": "2.4.1", "torch": "2.13.0+cu128", "Scikit_Learn": "1.8.0"}
    assert cluster.environment_differences(locked, lib_hash(), "3.11", installed) == []
    installed = {"python": "3.12.1", "numpy": "1.0.0", "scikit-learn": "1.8.0"}
    assert cluster.environment_differences(locked, "0" * 16, "3.11", installed) == [
        "python: wanted 3.11, found 3.12",
        "numpy: wanted 2.4.1 (requirements/lock.txt), found 1.0.0",
        "torch: wanted 2.13.0+cpu (requirements/lock.txt), found nothing",
        f"lib: code hash {lib_hash()}, the client's is {'0' * 16} (check out the client's commit)",
    ]


def test_this_environment_passes_its_own_check():
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        pytest.skip("the tests run outside .venv, which is what matches the lock")
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert cluster.environment_differences(cluster.locked_versions(), lib_hash(), python) == []


# --------------------------------------------------------------------------
# On a LocalCluster
# --------------------------------------------------------------------------
def test_local_cluster_publishes_the_outputs_skips_fresh_chapters_and_names_a_failing_cell(probe, monkeypatch):
    assert cluster.run_chapters([probe], "smoke", "local") == []
    record = ran_on(probe)
    assert record["dask_worker"].startswith("tcp://") and record["dask_worker_host"] == socket.gethostname()
    # The client's view of the run key is the local one: `status` calls the chapter up to date.
    assert runner.is_up_to_date(probe, "smoke", {"profile": "smoke"})
    before = outputs(probe)
    # Results from a worker whose checkout is at another commit would never be up to date here: refused.
    results = json.loads(before[1])
    results["run_key"]["lib_sha256"] = "0" * 16
    with pytest.raises(runner.ChapterFailed, match="differs from this checkout's in lib_sha256"):
        cluster.publish(probe, "smoke", {"profile": "smoke"}, {"results": json.dumps(results), "worker": "tcp://x:1"})

    def no_cluster(*args, **kwargs):
        raise AssertionError("an up-to-date chapter must not be sent")

    monkeypatch.setattr(cluster, "connect", no_cluster)
    assert cluster.run_chapters([probe], "smoke", "local") == []
    monkeypatch.undo()

    probe.write_text(PROBE + BROKEN)
    (failure,) = cluster.run_chapters([probe], "smoke", "local")
    assert "failed in cell" in failure and "RuntimeError: deliberately broken" in failure
    assert "ran on Dask worker tcp://" in failure
    assert outputs(probe) == before


def test_a_worker_dying_mid_chapter_is_replaced_then_the_chapter_reported_failed(probe, two_workers, tmp_path):
    address, client = two_workers
    client.wait_for_workers(2, timeout=30)
    marker = tmp_path / "killed_worker_pid"
    pids = client.run(os.getpid)  # worker address -> its process id
    probe.write_text(PROBE + KILL_MY_WORKER.format(marker=str(marker), always=False))
    assert cluster.run_chapters([probe], "smoke", address) == []
    killed = {pid: worker for worker, pid in pids.items()}[int(marker.read_text())]
    assert ran_on(probe)["dask_worker"] != killed  # the scheduler re-ran it on another worker
    before = outputs(probe)

    # A chapter that kills every worker it lands on is reported failed once the scheduler's allowed failures
    # are spent (none here, to spend one worker restart only).
    probe.write_text(PROBE + KILL_MY_WORKER.format(marker=str(marker), always=True))
    client.run_on_scheduler(_allow_failures, 0)
    try:
        (failure,) = cluster.run_chapters([probe], "smoke", address)
    finally:
        client.run_on_scheduler(_allow_failures, 1)
    assert "every Dask worker that ran it died, 1 in all" in failure and "allowed-failures = 0" in failure
    assert outputs(probe) == before  # nothing half-written: the results in the scratch folder never left it


def _allow_failures(n: int, dask_scheduler=None) -> None:
    dask_scheduler.allowed_failures = n


def _pretend_installed(name: str, version: str) -> None:
    """On a worker: its check sees ``version`` of ``name`` installed."""
    from lib import cluster as on_worker
    from lib.provenance import package_versions

    on_worker.package_versions = lambda: {**package_versions(), name: version}


def _installed_as_it_is() -> None:
    from lib import cluster as on_worker
    from lib.provenance import package_versions

    on_worker.package_versions = package_versions


def test_a_worker_whose_packages_differ_from_the_lock_is_refused(probe, two_workers, capsys):
    address, client = two_workers
    client.wait_for_workers(2, timeout=30)
    bad, good = sorted(client.scheduler_info(n_workers=-1)["workers"])
    wanted = cluster.locked_versions()["numpy"]
    try:
        client.run(_pretend_installed, "numpy", "1.0.0", workers=[bad])
        assert cluster.run_chapters([probe], "smoke", address) == []
        refusal = capsys.readouterr().err
        assert f"worker {bad}" in refusal and f"numpy: wanted {wanted} (requirements/lock.txt), found 1.0.0" in refusal
        assert good not in refusal
        assert ran_on(probe)["dask_worker"] == good

        client.run(_pretend_installed, "numpy", "1.0.0", workers=[good])
        with pytest.raises(cluster.ClusterError) as nobody:
            cluster.run_chapters([probe], "smoke", address, force=True)
        assert "no Dask worker matches" in str(nobody.value)
        assert bad in str(nobody.value) and good in str(nobody.value) and "found 1.0.0" in str(nobody.value)
    finally:
        client.run(_installed_as_it_is)


# --------------------------------------------------------------------------
# The README, followed once
# --------------------------------------------------------------------------
def readme_cluster_commands() -> dict[str, list[str]]:
    """The README's "Run on a cluster" shell block: the scheduler, worker and `run` command lines."""
    section = (ROOT / "README.md").read_text().split("## Run on a cluster", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    commands = [shlex.split(line, comments=True) for line in block.splitlines() if line.strip()]
    return {
        "scheduler": next(c for c in commands if c[1:2] == ["scheduler"]),
        "worker": next(c for c in commands if c[1:2] == ["worker"]),
        "run": next(c for c in commands if "lib.runner" in c and "run" in c and "--scheduler" in c),
    }


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_the_readme_cluster_section_followed_once(probe, tmp_path):
    commands = readme_cluster_commands()
    scheduler_file = tmp_path / "scheduler.json"
    logs = {name: open(tmp_path / f"{name}.log", "w") for name in ("scheduler", "worker")}  # noqa: SIM115
    started = []

    def start(name, argv):
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=logs[name], stderr=subprocess.STDOUT, start_new_session=True)
        started.append(proc)

    try:
        # A free port instead of 8786 and a file to read the address from; otherwise as written.
        start(
            "scheduler",
            [*commands["scheduler"], "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)],
        )
        deadline = time.time() + 30
        while not scheduler_file.exists() and time.time() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        worker = [address if a.startswith("tcp://") else a for a in commands["worker"]]
        assert "--resources" in worker and "GPU=1" in worker
        start("worker", [*worker, "--no-dashboard"])
        run = [address if a.startswith("tcp://") else str(probe) if a.endswith(".py") else a for a in commands["run"]]
        proc = subprocess.run(run, cwd=ROOT, capture_output=True, text=True, timeout=120)
        logged = "".join((tmp_path / f"{name}.log").read_text()[-2000:] for name in logs)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:] + logged
        assert f"[done] {NAME}.py (smoke) on Dask worker tcp://" in proc.stdout
        assert ran_on(probe)["dask_worker"].startswith("tcp://")
        assert runner.is_up_to_date(probe, "smoke", {"profile": "smoke"})
    finally:
        for proc in reversed(started):
            _stop(proc)
        for log in logs.values():
            log.close()
