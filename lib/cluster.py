"""Run chapters on a Dask cluster: one task per chapter that needs a re-run, the outputs back as bytes.

    python -m lib.runner book --profile full --scheduler tcp://gpu-head:8786
    python -m lib.runner run chapters/00_data.py --profile smoke --scheduler local --workers 2

The `full` profile (the papers' own scale) wants GPUs that the machine holding the book may not
have.  Dask distributed does the scheduling, retries and bookkeeping; this module only decides what
to send, checks the workers and publishes what comes back:

* The client (the machine with the book) decides which chapters are stale exactly as a local run
  does (:func:`lib.runner.is_up_to_date`); an up-to-date chapter is handed to
  :func:`lib.runner.run_chapter`, which skips it as it would locally.
* Before anything is sent, every worker's installed packages are compared with
  ``requirements/lock.txt`` and its ``lib`` with the client's (:func:`environment_differences`).  A
  worker that differs is refused by name, package, wanted and found version, and gets no task.
* Each stale chapter is one task (:func:`run_on_worker`): :func:`lib.runner.run_chapter` on the
  worker's own checkout (same commit, ``make env``, its own ``AUDIO_REPRO_DATA``), which publishes
  into the worker's ``book/``; the task reads the two published files back and returns them as
  bytes, so the worker needs no file system shared with the client.
* The client checks the returned run key against its own checkout and publishes both files
  atomically into ``book/executed/<profile>/`` and ``book/results/<profile>/``, the results with
  the worker that ran them (``runner.dask_worker``, ``runner.dask_worker_host``).
* Training chapters (:func:`trains`) ask for one GPU (``resources={"GPU": 1}``) when an accepted
  worker advertises that resource; otherwise a task asks for nothing and any accepted worker runs it.

Faults: a chapter that raises comes back as :class:`lib.runner.ChapterFailed` naming the cell, as
locally, and is not retried (it would fail again).  A worker that dies mid-chapter is Dask's
business: the scheduler re-runs the task on another worker up to
``distributed.scheduler.allowed-failures`` times (Dask's default 3), then the chapter is reported
failed.  Either way the client publishes nothing until it holds both files complete, so a failed
chapter leaves the previous outputs untouched.

Only the executed notebook and the results file come back: other run outputs (``runs/<profile>/``,
and models a ``book`` run ships to ``book/models/``) stay on the worker.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import socket
import sys
import threading
import time
import uuid
from pathlib import Path

from lib import runner
from lib.provenance import data_fingerprint, lib_hash, package_versions, run_key, write_json_atomic

LOCK = runner.ROOT / "requirements" / "lock.txt"
# How long a client waits for the first worker to connect (a batch job may sit in its queue a while).
WAIT_FOR_WORKERS_S = 600
# One pinned entry of a pip/uv lock file: ``name==version`` (continuation lines carry the hashes).
_LOCK_ENTRY = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>[^\s;\\]+)")
# run_chapter tells the notebook kernel its run through os.environ, which is per process: a worker
# started with several threads must still execute one chapter at a time (two trainings thrash anyway).
_ONE_CHAPTER_AT_A_TIME = threading.Lock()


class ClusterError(runner.ChapterFailed):
    """Nothing could be dispatched (no worker, every worker refused); reported like a failed chapter."""


# --------------------------------------------------------------------------
# What each chapter asks of a worker
# --------------------------------------------------------------------------
#: Numbered chapters that train nothing: the data chapter and the page that uses the shipped models.
NO_TRAINING = {"00", "07"}


def trains(chapter: Path) -> bool:
    """Whether a chapter trains models (and so wants a GPU): every numbered chapter but those in
    :data:`NO_TRAINING`.

    Chapters 01-06 train; 00 only reads and describes the data, 07 only scores a few clips with the
    shipped models; a file without a chapter number (a probe) trains nothing.
    """
    number = Path(chapter).name[:2]
    return number.isdigit() and number not in NO_TRAINING


def task_options(chapter: Path, worker_info: dict, accepted: list[str]) -> dict:
    """``Client.submit`` options for one chapter: only accepted workers; one GPU for training if any has one.

    ``worker_info`` is ``Client.scheduler_info()["workers"]`` (address -> info with ``resources``).
    """
    options = {"workers": list(accepted), "allow_other_workers": False}
    gpu_here = any(worker_info.get(w, {}).get("resources", {}).get("GPU", 0) >= 1 for w in accepted)
    if trains(chapter) and gpu_here:
        options["resources"] = {"GPU": 1}
    return options


# --------------------------------------------------------------------------
# The environment check (runs on every worker before dispatch)
# --------------------------------------------------------------------------
def canonical(name: str) -> str:
    """A distribution's normalised name (PEP 503), as both the lock and the installed metadata can spell it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions(lock_text: str | None = None) -> dict[str, str]:
    """``requirements/lock.txt`` as {normalised name: exact version}."""
    text = LOCK.read_text() if lock_text is None else lock_text
    found = (_LOCK_ENTRY.match(line) for line in text.splitlines())
    return {canonical(m["name"]): m["version"] for m in found if m}


def _public(version: str) -> str:
    # The local label (+cpu, +cu128) names a build of the same release: a GPU worker may hold the CUDA
    # build of the locked torch, which is the point of sending it training chapters.
    return version.split("+", 1)[0]


def environment_differences(
    locked: dict[str, str], lib_sha256: str, python: str, installed: dict[str, str] | None = None
) -> list[str]:
    """How this process's environment differs from the client's lock, ``lib`` and Python; [] when it matches.

    ``installed`` defaults to :func:`lib.provenance.package_versions` (every installed distribution).
    Each difference is one line naming the package, the wanted and the found version.
    """
    installed = {canonical(k): v for k, v in (package_versions() if installed is None else installed).items()}
    found_python = ".".join(installed.get("python", platform.python_version()).split(".")[:2])
    differences = [] if found_python == python else [f"python: wanted {python}, found {found_python}"]
    for name, wanted in sorted(locked.items()):
        found = installed.get(name)
        if found is None or _public(found) != _public(wanted):
            differences.append(f"{name}: wanted {wanted} (requirements/lock.txt), found {found or 'nothing'}")
    here = lib_hash()
    if here != lib_sha256:
        differences.append(f"lib: code hash {here}, the client's is {lib_sha256} (check out the client's commit)")
    return differences


def accepted_workers(client) -> tuple[list[str], dict]:
    """Check every connected worker against the lock; print each refusal; returns (accepted, worker info).

    Raises :class:`ClusterError` when no worker is left.
    """
    python = ".".join(platform.python_version().split(".")[:2])
    report = client.run(environment_differences, locked_versions(), lib_hash(), python, on_error="return")
    info = client.scheduler_info(n_workers=-1)["workers"]
    accepted, refusals = [], []
    for address, differences in sorted(report.items()):
        host = info.get(address, {}).get("host", "?")
        if isinstance(differences, BaseException):
            # e.g. ModuleNotFoundError: the worker has no checkout of the project (or no `make env`).
            differences = [f"cannot run the check: {type(differences).__name__}: {differences}"]
        if differences:
            shown = "; ".join(differences[:8]) + (f"; and {len(differences) - 8} more" if len(differences) > 8 else "")
            refusals.append(f"worker {address} (host {host}) refused, its environment differs from the lock: {shown}")
            print(f"[refuse] {refusals[-1]}", file=sys.stderr, flush=True)
        else:
            accepted.append(address)
    if not accepted:
        raise ClusterError(
            "no Dask worker matches this checkout's lock; each worker needs a checkout of the same commit "
            "and `make env`:\n  " + "\n  ".join(refusals)
        )
    return accepted, info


# --------------------------------------------------------------------------
# The task (runs on a worker)
# --------------------------------------------------------------------------
def chapter_reference(chapter: Path) -> str:
    """How a worker finds the chapter in its own checkout: relative to the project, else the path as it is."""
    chapter = Path(chapter).resolve()
    try:
        return chapter.relative_to(runner.ROOT).as_posix()
    except ValueError:  # a chapter outside the project (a test's probe): the worker must see the same path
        return str(chapter)


def run_on_worker(reference: str, profile: str, extra: dict | None) -> dict:
    """Execute one chapter on this worker with :func:`lib.runner.run_chapter`; return its outputs as bytes.

    The client already decided the chapter is stale, hence ``force=True``.  run_chapter publishes into
    this worker's ``book/`` (atomically; on a LocalCluster that is the client's folder too), and the
    two files are read back from there.  A failure is re-raised as :class:`lib.runner.ChapterFailed`
    with the worker named, since its partial notebook lies on that machine.
    """
    from distributed import get_worker

    address, host = get_worker().address, socket.gethostname()
    chapter = runner.ROOT / reference  # an absolute reference stays as it is
    started = time.time()
    with _ONE_CHAPTER_AT_A_TIME:
        try:
            runner.run_chapter(chapter, profile, extra, force=True)
        except runner.ChapterFailed as exc:
            raise runner.ChapterFailed(f"{exc}\n(ran on Dask worker {address}, host {host})") from None
        return {
            "notebook": runner.executed_path(chapter, profile).read_bytes(),
            "results": runner.results_path(chapter, profile).read_bytes(),
            "worker": address,
            "host": host,
            # The kernel's own versions are in the results file (provenance.versions); these are the worker's.
            "packages": package_versions(),
            "seconds": round(time.time() - started, 1),
        }


# --------------------------------------------------------------------------
# Publishing (on the client)
# --------------------------------------------------------------------------
def check_run_key(chapter: Path, key_params: dict, results: dict, worker: str) -> None:
    """Refuse results whose run key this checkout would not call up to date; note a data difference.

    The code and parameters must match (else the worker ran another commit, and ``status`` here would
    call the chapter stale forever).  The data fingerprint is compared only where the data are here
    too, as :func:`lib.runner.is_up_to_date` does; a difference is printed, not refused: the results
    honestly record the worker's data.
    """
    stored = results.get("run_key") or {}
    corpora = sorted(results["provenance"]["data_fingerprint"])
    here = run_key(chapter, key_params, None, results["provenance"]["code"]["lib_modules"])
    differ = [k for k in ("chapter_sha256", "lib_sha256", "params") if stored.get(k) != here[k]]
    if differ:
        raise runner.ChapterFailed(
            f"{chapter.name} ({key_params['profile']}) ran on Dask worker {worker}, but its run key differs from "
            f"this checkout's in {', '.join(differ)}: the worker's checkout is not at this commit; nothing was "
            "published, the previous book outputs were left untouched"
        )
    try:
        data_here = data_fingerprint(corpora)
    except FileNotFoundError:  # lib.data.DataMissingError: no data here, so code and parameters decide
        return
    if data_here != stored.get("data_fingerprint"):
        print(
            f"[note] {chapter.name}: the data on worker {worker} differ from the data here ({', '.join(corpora)}); "
            "`status` here will call the chapter stale",
            flush=True,
        )


def publish(chapter: Path, profile: str, key_params: dict, outcome: dict) -> None:
    """Put a worker's outputs into the book as the local runner does: each file complete, then one rename."""
    results = json.loads(outcome["results"])
    check_run_key(chapter, key_params, results, outcome["worker"])
    results.setdefault("runner", {}).update(dask_worker=outcome["worker"], dask_worker_host=outcome["host"])
    notebook = runner.executed_path(chapter, profile)
    notebook.parent.mkdir(parents=True, exist_ok=True)
    tmp = notebook.with_name(f".{notebook.name}.{os.getpid()}.tmp")
    tmp.write_bytes(outcome["notebook"])
    os.replace(tmp, notebook)
    write_json_atomic(runner.results_path(chapter, profile), results)


# --------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------
@contextlib.contextmanager
def connect(scheduler: str, workers: int = 1):
    """A Dask client: ``local`` starts a LocalCluster (processes, one thread each); else the scheduler's address."""
    from distributed import Client, LocalCluster

    if scheduler == "local":
        # memory_limit=0: the chapter's memory is in its notebook kernel, a child process the nanny does not
        # count; a limit would only cap the worker process that waits for it.
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit=0
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = Client(scheduler)
    except OSError as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    with client:
        try:
            client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS_S)
        except TimeoutError:
            raise ClusterError(f"no Dask worker connected to {scheduler} within {WAIT_FOR_WORKERS_S} s") from None
        yield client


def run_chapters(
    chapters, profile: str, scheduler: str, extra: dict | None = None, force: bool = False, workers: int = 1
) -> list[str]:
    """Run ``chapters`` on the Dask cluster at ``scheduler`` (``local``: a LocalCluster of ``workers``).

    Up-to-date chapters are skipped here as locally; the others go out as one task each and their
    outputs are published as they come back.  A failure does not stop the others.  Returns the
    failure messages (as :func:`lib.runner.run_all`); raises :class:`ClusterError` when no worker
    can take the work.
    """
    from distributed import as_completed

    if profile not in runner.PROFILES:
        raise ValueError(f"profile must be one of {runner.PROFILES}, got {profile!r}")
    key_params = {"profile": profile, **(extra or {})}
    stale = []
    for chapter in (Path(c).resolve() for c in chapters):
        if not force and runner.is_up_to_date(chapter, profile, key_params):
            runner.run_chapter(chapter, profile, extra)  # the local skip: its message, the prose refresh
        else:
            stale.append(chapter)
    if not stale:
        return []

    failures = []
    with connect(scheduler, workers) as client:
        accepted, info = accepted_workers(client)
        sent = {}
        for order, chapter in enumerate(stale):
            options = task_options(chapter, info, accepted)
            future = client.submit(
                run_on_worker,
                chapter_reference(chapter),
                profile,
                extra,
                key=f"{chapter.stem}-{profile}-{uuid.uuid4().hex[:8]}",
                priority=len(stale) - order,  # the book's order when workers are fewer than chapters
                **options,
            )
            sent[future] = chapter
            gpu = " (GPU)" if "resources" in options else ""
            print(f"[send] {chapter.name} ({profile}){gpu} to {len(accepted)} accepted worker(s)", flush=True)
        for future in as_completed(sent):
            chapter = sent[future]
            try:
                outcome = future.result()
                publish(chapter, profile, key_params, outcome)
            except Exception as exc:  # one chapter's failure does not stop the others
                failures.append(failure_message(chapter, profile, exc, client))
                print(f"[FAIL] {failures[-1]}", file=sys.stderr, flush=True)
                continue
            print(
                f"[done] {chapter.name} ({profile}) on Dask worker {outcome['worker']} (host {outcome['host']}) "
                f"in {outcome['seconds']:.0f} s",
                flush=True,
            )
    return failures


def failure_message(chapter: Path, profile: str, exc: Exception, client) -> str:
    """What the user reads for a chapter that came back failed: the chapter's own message where there is one."""
    from distributed.scheduler import KilledWorker

    if isinstance(exc, runner.ChapterFailed):
        return str(exc)
    if isinstance(exc, KilledWorker):
        allowed = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures)
        return (
            f"{chapter.name} ({profile}): every Dask worker that ran it died, {allowed + 1} in all "
            f"(distributed.scheduler.allowed-failures = {allowed}; {exc}); the previous book outputs were left untouched"
        )
    return f"{chapter.name} ({profile}) could not run on the cluster: {type(exc).__name__}: {exc}"
