#!/usr/bin/env python3
"""Fixtures in the official datasets' layouts, and every chapter's ``full`` profile run on them.

    .venv/bin/python scripts/make-official-fixtures.py build DIR [--corpora timit iemocap ...]
    .venv/bin/python scripts/make-official-fixtures.py test-full [--chapters 02 05] [--timeout 300] [--keep]

``build`` writes the fixture data folder (one sub-folder per corpus, see ``tests/fixtures_official.py``)
from the offline mirror (``--mirror``, default ``$AUDIO_REPRO_DATA`` or ``../shared/data``).

``test-full`` (what ``make test-full`` runs) builds the fixtures into a temporary folder, then runs each
chapter's ``full`` profile on them **one at a time** through the runner
(``python -m lib.runner run chapters/NN.py --profile full --force`` with ``AUDIO_REPRO_DATA`` at the
fixtures and ``AUDIO_REPRO_CACHE`` in the temporary folder), and prints one row per chapter: pass /
FAIL (the failing cell and error) / timeout (the cell it was in).  Fixtures hold a handful of clips per
class, so a fixture run keeps every setting of ``full`` that picks a code path (corpus, split scheme,
features, architecture, precision: :data:`KEEP_FROM_FULL`) and takes the ``smoke`` values of the repeat
counts (seeds, epochs, caps, sweeps, bootstrap draws), through ``$AUDIO_REPRO_FULL_SIZE_OVERRIDES``;
the results record them as ``size_overrides`` and their run key can never pass for a real ``full`` run.  A chapter still running after
``--timeout`` seconds is stopped (its runner and kernel processes, by id).  A fixture run must not pass
for a real ``full`` result: whatever it publishes to ``book/results/full/`` and ``book/executed/full/``
is moved to ``runs/full/fixture-outputs/`` and the files that were there before are put back.
Exit status 1 when a chapter did not pass.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import fixtures_official as fo  # noqa: E402  (tests/ on the path first)

from lib import runner  # noqa: E402
from lib.chapter import SIZE_OVERRIDES_ENV  # noqa: E402


def default_mirror() -> Path:
    """``$AUDIO_REPRO_DATA`` (a relative setting is relative to the project, as in lib.corpora), else ../shared/data."""
    value = os.environ.get("AUDIO_REPRO_DATA")
    path = Path(value).expanduser() if value else ROOT.parent / "shared" / "data"
    return (path if path.is_absolute() else ROOT / path).resolve()


def build(args) -> int:
    started = time.time()
    out = fo.build(Path(args.dir), args.corpora, mirror=args.mirror)
    print(fo.summary(out).to_string(index=False))
    print(f"fixtures in {out} ({time.time() - started:.0f} s)")
    return 0


# --------------------------------------------------------------------------
# test-full
# --------------------------------------------------------------------------
def _stop(proc: subprocess.Popen) -> None:
    """Stop a runner started in its own session: SIGINT to its group (papermill shuts its kernel down),
    then SIGKILL to whatever of it is left, and to the kernel (which runs in a session of its own)."""
    import psutil

    try:
        kids = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        kids = []
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    for kid in kids:
        try:
            kid.kill()
        except psutil.NoSuchProcess:
            pass


def _where(notebook: Path) -> str:
    """The cell a partially executed notebook was in (papermill marks it `running`)."""
    import nbformat

    if not notebook.exists():
        return "no partial notebook"
    nb = nbformat.read(notebook, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    done = sum(c.get("metadata", {}).get("papermill", {}).get("status") == "completed" for c in code)
    for i, cell in enumerate(code):
        meta = cell.get("metadata", {}).get("papermill", {})
        if meta.get("status") == "running":
            line = next((s for s in cell.source.splitlines() if s.strip() and not s.startswith("#")), "")
            return f"in code cell {i + 1}/{len(code)} (`{line.strip()[:60]}`), {done} cells done"
    return f"{done}/{len(code)} code cells done"


def _failure(log: str) -> str:
    lines = [line for line in log.splitlines() if line.startswith("[FAIL]")]
    if lines:
        return lines[-1].removeprefix("[FAIL] ").strip()
    tail = [line for line in log.splitlines() if line.strip()]
    return tail[-1].strip() if tail else "no output"


# Settings of a chapter's `full` profile that choose what runs (data, split, features, model, precision):
# a fixture run keeps them.  Every other setting that differs from `smoke` is a repeat count or a size
# and takes its `smoke` value.
KEEP_FROM_FULL = {
    "corpus",
    "split_scheme",
    "clip_s",
    "crop_s",
    "n_mels",
    "time_stride",
    "rnn_dim",
    "n_rnn_layers",
    "cnn_channels",
    "n_res_blocks",
    "bf16",
    "max_lr",
    "batch_size",
    "max_train_s",
    "fraction",
    "n_speakers",
    "per_speaker_emotion",
    "train_utts",
    "dev_utts",
    "test_utts",
    "catalogue_rows",
    "scan_limit",
    "limit",
    "eval_per_class",
    "clips_per_class",
    "ship_model",
}


def chapter_sizes(chapter: Path) -> dict:
    """The chapter's ``SIZES`` literal (read from its source, not executed as a chapter)."""
    import ast

    tree = ast.parse(chapter.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "SIZES" for t in node.targets):
            namespace: dict = {}
            exec(compile(ast.Module([node], []), str(chapter), "exec"), {"dict": dict}, namespace)  # literals only
            return namespace["SIZES"]
    raise ValueError(f"{chapter}: no SIZES assignment")


def fixture_overrides(chapter: Path) -> dict:
    """The repeat counts a fixture run of ``chapter``'s ``full`` profile takes from ``smoke``."""
    sizes = chapter_sizes(chapter)
    full, smoke = sizes["full"], sizes["smoke"]
    return {k: smoke[k] for k in full if k in smoke and k not in KEEP_FROM_FULL and smoke[k] != full[k]}


def run_one(chapter: Path, data_dir: Path, cache: Path, logs: Path, timeout: float | None, previous: Path) -> dict:
    published = [runner.results_path(chapter, "full"), runner.executed_path(chapter, "full")]
    saved = []
    for target in published:  # never let a fixture run stand in for a real `full` result
        if target.exists():
            keep = previous / target.name
            keep.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(target, keep)
            saved.append((keep, target))
    env = {**os.environ, "AUDIO_REPRO_DATA": str(data_dir), "AUDIO_REPRO_CACHE": str(cache)}
    env[SIZE_OVERRIDES_ENV] = json.dumps(fixture_overrides(chapter))
    env.pop("AUDIO_REPRO_DOWNLOAD", None)
    env.setdefault("PYTHONHASHSEED", "0")
    cmd = [sys.executable, "-m", "lib.runner", "run", str(chapter.relative_to(ROOT)), "--profile", "full", "--force"]
    log_file = logs / f"{chapter.stem}.log"
    started = time.time()
    with open(log_file, "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            rc = proc.wait(timeout=timeout)
            status = "pass" if rc == 0 else "FAIL"
        except subprocess.TimeoutExpired:
            partial = ROOT / "runs" / "full" / f".{chapter.stem}.running" / f"{chapter.stem}.ipynb"
            where = _where(partial)  # read before the runner is stopped
            _stop(proc)
            status = "timeout"
    seconds = time.time() - started
    text = log_file.read_text(errors="replace")
    if status == "pass":
        detail = "every cell ran"
    elif status == "FAIL":
        detail = _failure(text).removeprefix(f"{chapter.name} (full) ")
    else:
        detail = f"stopped after {timeout:.0f} s {where}"
    moved = ROOT / "runs" / "full" / "fixture-outputs"
    for target in published:
        if target.exists():
            moved.mkdir(parents=True, exist_ok=True)
            shutil.move(target, moved / target.name)
    for keep, target in saved:
        shutil.move(keep, target)
    return {
        "chapter": chapter.stem,
        "result": status,
        "seconds": round(seconds),
        "detail": detail,
        "log": str(log_file),
    }


def test_full(args) -> int:
    chapters = [c for c in runner.chapter_list() if not args.chapters or any(s in c.stem for s in args.chapters)]
    if not chapters:
        print(f"no chapter matches {args.chapters}", file=sys.stderr)
        return 2
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="audio-repro-full-"))
    data_dir, cache, logs, previous = work / "data", work / "cache", work / "logs", work / "previous"
    logs.mkdir(parents=True, exist_ok=True)
    started = time.time()
    needed = sorted({c for ch in chapters for c in fo.FULL_PROFILE_READS.get(ch.stem, fo.BUILDERS)})
    fo.build(data_dir, needed, mirror=args.mirror)
    print(f"fixtures ({time.time() - started:.0f} s) in {data_dir}:")
    print(fo.summary(data_dir).to_string(index=False), flush=True)
    rows = []
    for chapter in chapters:
        print(f"\n[full] {chapter.name} on the fixtures (timeout {args.timeout or 'none'} s) ...", flush=True)
        row = run_one(chapter, data_dir, cache, logs, args.timeout or None, previous)
        rows.append(row)
        print(f"[{row['result']}] {chapter.name} in {row['seconds']} s: {row['detail']}", flush=True)
    print("\n| chapter | result | time | detail |\n|---|---|---|---|")
    for r in rows:
        minutes, seconds = divmod(r["seconds"], 60)
        print(f"| {r['chapter']} | {r['result']} | {minutes}:{seconds:02d} | {r['detail']} |")
    (work / "test-full.json").write_text(json.dumps(rows, indent=1))
    if args.keep:
        print(f"\nfixtures, logs and caches kept in {work}")
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)
        print(f"\nlogs in {logs}")
    return 0 if all(r["result"] == "pass" for r in rows) else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write the fixture data folder")
    b.add_argument("dir")
    b.add_argument("--corpora", nargs="*", help=f"among {', '.join(fo.BUILDERS)} (default: all)")
    b.add_argument("--mirror", type=Path, default=default_mirror(), help="the offline mirror")
    t = sub.add_parser("test-full", help="run every chapter's `full` profile on the fixtures, one at a time")
    t.add_argument("--chapters", nargs="*", help="name filters, e.g. 02 05 (default: every chapter)")
    t.add_argument("--timeout", type=float, default=300, help="seconds per chapter (0: none); default 300")
    t.add_argument("--workdir", help="folder for fixtures, cache and logs (default: a new temporary folder)")
    t.add_argument("--keep", action="store_true", help="keep the fixtures and the feature cache")
    t.add_argument("--mirror", type=Path, default=default_mirror(), help="the offline mirror")
    args = parser.parse_args(argv)
    return build(args) if args.command == "build" else test_full(args)


if __name__ == "__main__":
    sys.exit(main())
