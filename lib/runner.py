"""Run chapters with parameters and build the book.

    python -m lib.runner run chapters/01_keyword_spotting.py --profile smoke [-p seeds=1] [--force]
    python -m lib.runner all --profile book          # every chapter, then nothing else
    python -m lib.runner build --profile book        # HTML from the executed notebooks
    python -m lib.runner book --profile book         # all + build (what `make book` calls)
    python -m lib.runner status --profile book       # which chapters would execute, and why
    python -m lib.runner rekey --before OLD --after NEW   # carry results over a result-neutral lib change

A run converts the jupytext chapter to a notebook (kernel ``python3``), executes
it with papermill into a scratch folder, and only when every cell succeeded
moves the executed notebook to ``book/executed/<profile>/`` and the results to
``book/results/<profile>/``.  A failing run names the failing cell, keeps its
partial notebook under ``runs/<profile>/`` and leaves the last good outputs and
the last good HTML untouched.  A chapter whose code (its code cells, with only the
profile's entry of ``SIZES``), the ``lib`` modules it imported, its parameters and the
fingerprint of the corpora it read are unchanged is not executed again; its prose and cell
tags are carried into the published notebook instead (:func:`refresh_presentation`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from lib.provenance import (  # noqa: F401 (runner.run_key, runner.portable_paths)
    RUN_ENV,
    chapter_code_hash,
    lib_hash,
    portable_paths,
    run_key,
)

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
PROFILES = ("smoke", "book", "full")
# Per-cell limits (seconds): a hung cell fails the run instead of blocking CI.
CELL_TIMEOUT = {"smoke": 900, "book": 5400, "full": None}


def executed_path(chapter: Path, profile: str) -> Path:
    return ROOT / "book" / "executed" / profile / f"{chapter.stem}.ipynb"


def results_path(chapter: Path, profile: str) -> Path:
    return ROOT / "book" / "results" / profile / f"{chapter.stem}.json"


def run_dir(chapter: Path, profile: str) -> Path:
    return ROOT / "runs" / profile / chapter.stem


def chapter_list() -> list[Path]:
    return sorted(CHAPTERS.glob("[0-9][0-9]_*.py"))


class ChapterFailed(RuntimeError):
    pass


def is_up_to_date(chapter: Path, profile: str, params: dict) -> bool:
    res, nb = results_path(chapter, profile), executed_path(chapter, profile)
    if not (res.exists() and nb.exists()):
        return False
    from lib import data

    try:
        stored = json.loads(res.read_text())
        corpora = sorted(stored["provenance"]["data_fingerprint"])
        modules = stored["provenance"]["code"]["lib_modules"]
    except Exception:
        return False
    try:
        return stored.get("run_key") == run_key(chapter, params, corpora, modules)
    except data.DataMissingError:
        # No data here (e.g. a reader who only wants the HTML): code and parameters decide;
        # the committed outputs are rendered as they are.
        code_only = run_key(chapter, params, None, modules)
        same = {k: v for k, v in stored.get("run_key", {}).items() if k != "data_fingerprint"} == {
            k: v for k, v in code_only.items() if k != "data_fingerprint"
        }
        if same:
            print(f"[note] {chapter.name}: data not available here; keeping the committed outputs")
        return same


def run_chapter(chapter: Path, profile: str, extra: dict | None = None, force: bool = False) -> str:
    """Execute one chapter; returns "skipped" or "ran"; raises :class:`ChapterFailed` naming the cell."""
    import jupytext
    import papermill as pm

    from lib import data

    chapter = Path(chapter).resolve()
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    key_params = {"profile": profile, **(extra or {})}
    from lib.chapter import SIZE_OVERRIDES_ENV

    overrides = os.environ.get(SIZE_OVERRIDES_ENV, "").strip()
    # A fixture run: its key (and results) must never pass for a real run of the profile.
    if overrides and profile == "full":
        key_params["size_overrides"] = json.loads(overrides)
    if not force and is_up_to_date(chapter, profile, key_params):
        refreshed = refresh_presentation(chapter, profile)
        note = "; prose and cell tags refreshed from the source" if refreshed else ""
        print(f"[skip] {chapter.name} ({profile}): code, lib, parameters and data unchanged{note}")
        return "skipped"

    data.corpus_dir  # noqa: B018  (import check: fail early if lib is broken)
    scratch = ROOT / "runs" / profile / f".{chapter.stem}.running"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    notebook = jupytext.read(chapter, fmt="py:percent")
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    source_nb = scratch / f"{chapter.stem}.source.ipynb"
    jupytext.write(notebook, source_nb)
    out_nb = scratch / f"{chapter.stem}.ipynb"
    # The kernel inherits AUDIO_REPRO_DATA; the output folder is given relative to the project so the
    # executed notebook carries no machine-specific path.
    parameters = {**key_params, "output_dir": str((scratch / "output").relative_to(ROOT))}
    print(f"[run ] {chapter.name} ({profile}) parameters={json.dumps(key_params)}", flush=True)
    started = time.time()
    # The kernel's Run.save is the results file's one writer: tell it the chapter and parameters the
    # run key is for (the kernel inherits this process's environment).
    previous = os.environ.get(RUN_ENV)
    os.environ[RUN_ENV] = json.dumps(
        {"chapter": str(chapter), "params": key_params, "started": started, "profile": profile}
    )
    try:
        pm.execute_notebook(
            str(source_nb),
            str(out_nb),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(ROOT),
            progress_bar=False,
            execution_timeout=CELL_TIMEOUT[profile],
        )
    except pm.PapermillExecutionError as exc:
        failed = ROOT / "runs" / profile / f"{chapter.stem}.failed.ipynb"
        if out_nb.exists():
            shutil.copy(out_nb, failed)
        first_line = exc.source.strip().splitlines()[0] if exc.source.strip() else ""
        raise ChapterFailed(
            f"{chapter.name} ({profile}) failed in cell {exc.cell_index} (execution count {exc.exec_count}, "
            f"starting `{first_line}`): {exc.ename}: {exc.evalue}\n"
            f"partial notebook: {failed}; the previous book outputs were left untouched"
        ) from None
    except Exception as exc:
        raise ChapterFailed(f"{chapter.name} ({profile}) could not run: {type(exc).__name__}: {exc}") from None
    finally:
        if previous is None:
            os.environ.pop(RUN_ENV, None)
        else:
            os.environ[RUN_ENV] = previous

    results_file = scratch / "output" / "results.json"
    if not results_file.exists():
        raise ChapterFailed(f"{chapter.name} ({profile}) finished but wrote no results.json (call run.save())")
    if "run_key" not in json.loads(results_file.read_text()):
        raise ChapterFailed(
            f"{chapter.name} ({profile}) wrote a results.json without a run key (write it with lib.results.Run.save())"
        )

    hide_machinery(out_nb)
    # The published form is the one a later prose-only refresh reproduces byte for byte.
    import nbformat

    nbformat.write(presentation_of(chapter, out_nb), out_nb)
    # Machine-specific absolute paths would make the committed notebook differ between machines: show them
    # relative to the data setting and the project instead (Run.save did the same for the results file).
    out_nb.write_text(portable_paths(out_nb.read_text()))

    # Publish: everything is complete in scratch, so each move is a rename of finished files.
    final_dir = run_dir(chapter, profile)
    old = final_dir.with_name(f".{chapter.stem}.old")
    shutil.rmtree(old, ignore_errors=True)
    if final_dir.exists():
        os.replace(final_dir, old)
    os.replace(scratch / "output", final_dir)
    for target, source in [
        (executed_path(chapter, profile), out_nb),
        (results_path(chapter, profile), final_dir / "results.json"),
    ]:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        shutil.copy(source, tmp)
        os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(scratch, ignore_errors=True)
    print(f"[done] {chapter.name} ({profile}) in {time.time() - started:.0f} s", flush=True)
    return "ran"


def presentation_of(chapter: Path, executed: Path):
    """The executed notebook with the chapter source's prose and cell tags, outputs kept.

    The run key covers only what a chapter executes (:func:`lib.provenance.chapter_code_hash`), so
    Markdown cells, cell tags and comments may change without a re-run.  This rebuilds the executed
    notebook from the source: Markdown cells from the source; each code cell of the source, in order,
    with the outputs and execution record of its executed twin; papermill's injected parameters cell
    kept after the parameters cell.  Raises ``ValueError`` when the code cells do not pair up (then
    the code changed, and the chapter must be executed instead).
    """
    import jupytext
    import nbformat

    source = jupytext.read(chapter, fmt="py:percent")
    old = nbformat.read(executed, as_version=4)
    executed_code = [c for c in old.cells if c.cell_type == "code" and "injected-parameters" not in _tags(c)]
    injected = [c for c in old.cells if "injected-parameters" in _tags(c)]
    source_code = [c for c in source.cells if c.cell_type == "code"]
    if len(executed_code) != len(source_code):
        raise ValueError(
            f"{chapter.name}: {len(source_code)} code cells in the source, {len(executed_code)} executed; re-run it"
        )
    twins = iter(executed_code)
    cells = []
    for position, cell in enumerate(source.cells):
        if cell.cell_type != "code":
            markdown = nbformat.v4.new_markdown_cell(cell.source, metadata=dict(cell.metadata))
            # A stable id: refreshing an unchanged source must give the same bytes.
            markdown["id"] = hashlib.sha256(f"{position}\0{cell.source}".encode()).hexdigest()[:8]
            cells.append(markdown)
            continue
        twin = next(twins)
        tags = list(cell.metadata.get("tags", []))
        if "parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
        metadata = {**{k: v for k, v in twin.metadata.items() if k != "tags"}, **dict(cell.metadata)}
        metadata["tags"] = tags
        code = nbformat.v4.new_code_cell(
            cell.source, metadata=metadata, outputs=twin.outputs, execution_count=twin.execution_count
        )
        code["id"] = twin.get("id", code["id"])
        cells.append(code)
        if "parameters" in tags:
            cells.extend(injected)
    notebook = nbformat.v4.new_notebook(cells=cells, metadata=old.metadata)
    notebook.nbformat, notebook.nbformat_minor = old.nbformat, old.nbformat_minor
    return notebook


def _tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def refresh_presentation(chapter: Path, profile: str) -> bool:
    """Carry the source's prose and tags into the published notebook (atomically); True if it changed."""
    import nbformat

    executed = executed_path(chapter, profile)
    notebook = presentation_of(chapter, executed)
    text = portable_paths(nbformat.writes(notebook, version=4)) + "\n"
    if text == executed.read_text():
        return False
    tmp = executed.with_name(f".{executed.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, executed)
    return True


def hide_machinery(notebook_path: Path) -> None:
    """Keep the parameters cells (the chapter's and papermill's injected one) off the rendered page.

    They stay in the notebook, so a reader re-running it in JupyterLab still sees and edits them.
    """
    import nbformat

    nb = nbformat.read(notebook_path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if ("parameters" in tags or "injected-parameters" in tags) and "remove-cell" not in tags:
            tags.append("remove-cell")
    nbformat.write(nb, notebook_path)


# Measurements of the machine, not results: timings, memory, and serialised file sizes (a saved Keras model's
# zip carries timestamps, so its size can move by a byte between identical runs).
TIMING_METRICS = (
    "scaling/",
    "time",
    "latency",
    "throughput",
    "per_s",
    "ms_per",
    "real_time_factor",
    "memory",
    "rss",
    "size_mib",
    "seconds",
    "minutes",
    "speedup",
)


def comparable_metrics(results: dict) -> dict:
    """A results file's metrics without the ones that measure speed or memory (those vary run to run)."""
    return {k: v["per_seed"] for k, v in results["metrics"].items() if not any(t in k for t in TIMING_METRICS)}


def rekey(
    profile: str,
    before: Path,
    after: Path,
    chapters=None,
    chapter_code: bool = False,
    tolerate: tuple[str, ...] = (),
    why: str = "",
) -> list[str]:
    """Carry ``profile``'s committed results over a result-neutral ``lib`` change, with evidence.

    A chapter qualifies when (1) its stored run key differs from the current one only in the
    ``lib`` hash (its own code, parameters and data are unchanged; with ``chapter_code``, a change
    of the chapter's own code is allowed too, for a refactor that renames what the chapter imports
    or calls, and the evidence says so) and (2) its ``smoke``
    results computed with the old code (``before``: a results folder, e.g. from a worktree of
    the previous commit) and with the current code (``after``) agree in every metric that is not
    a timing.  Its results file then gets the current key and a ``rekeyed`` record saying so.
    ``tolerate``: substrings of metric names that may differ, for a component shown not to repeat
    between processes; ``why`` (required with it) says how that was shown, and the record lists every
    tolerated metric that moved, with both values.
    Returns the chapters re-keyed; prints why the others were not.
    """
    from lib import provenance

    done = []
    for chapter in chapter_list():
        if chapters and not any(c in chapter.stem for c in chapters):
            continue
        res = results_path(chapter, profile)
        if not res.exists():
            continue
        stored = json.loads(res.read_text())
        params = {"profile": profile}
        if stored.get("run_key", {}).get("params") != params:
            print(f"[keep] {chapter.name}: run with extra parameters; re-run it instead")
            continue
        modules = stored["provenance"]["code"]["lib_modules"]
        corpora = sorted(stored["provenance"]["data_fingerprint"])
        current = run_key(chapter, params, corpora, modules)
        old = stored.get("run_key", {})
        if old == current:
            print(f"[same] {chapter.name}: already up to date")
            continue
        changed = sorted(k for k in current if current[k] != old.get(k))
        allowed = {"lib_sha256", "chapter_sha256"} if chapter_code else {"lib_sha256"}
        if not set(changed) <= allowed:
            print(f"[keep] {chapter.name}: {', '.join(changed)} changed, not only lib; re-run it")
            continue
        b, a = Path(before) / f"{chapter.stem}.json", Path(after) / f"{chapter.stem}.json"
        if not (b.exists() and a.exists()):
            print(f"[keep] {chapter.name}: no smoke results before/after ({b}, {a})")
            continue
        # The evidence must come from the code as it is now: the "after" smoke run's key is today's.
        after_key = json.loads(a.read_text()).get("run_key") or {}
        after_modules = json.loads(a.read_text()).get("provenance", {}).get("code", {}).get("lib_modules") or modules
        if after_key and (
            after_key.get("chapter_sha256") != chapter_code_hash(chapter, "smoke")
            or after_key.get("lib_sha256") != lib_hash(after_modules)
        ):
            print(f"[keep] {chapter.name}: the 'after' smoke results were computed with other code; re-run smoke first")
            continue
        mb, ma = comparable_metrics(json.loads(b.read_text())), comparable_metrics(json.loads(a.read_text()))
        moved = {
            k: {"before": mb.get(k), "after": ma.get(k)}
            for k in sorted(set(mb) | set(ma))
            if mb.get(k) != ma.get(k) and any(t in k for t in tolerate)
        }
        mb = {k: v for k, v in mb.items() if k not in moved}
        ma = {k: v for k, v in ma.items() if k not in moved}
        if mb != ma:
            diff = sorted(k for k in set(mb) | set(ma) if mb.get(k) != ma.get(k))
            print(f"[keep] {chapter.name}: smoke results differ in {len(diff)} metrics (e.g. {diff[:3]}); re-run it")
            continue
        # The lib modules the chapter imports now (a split module brings new files): the carried-over key
        # must cover them, or a later change to one of them would not make the chapter stale.
        now = json.loads(a.read_text()).get("provenance", {}).get("code", {}).get("lib_modules")
        if now and now != modules:
            current = run_key(chapter, params, corpora, now)
            stored["provenance"]["code"]["lib_modules"] = now
        stored.setdefault("rekeyed", []).append(
            {
                "from": old,
                "to": current,
                "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "evidence": f"smoke results identical before and after the "
                f"{'lib and chapter code' if 'chapter_sha256' in changed else 'lib'} change: {len(ma)} metrics "
                f"(timings excluded); before = {json.loads(b.read_text())['provenance']['code']['git_commit']}"
                + (f"; {len(moved)} metrics tolerated as not repeatable between processes: {why}" if moved else ""),
                **({"tolerated": moved} if moved else {}),
            }
        )
        stored["run_key"] = current
        provenance.write_json_atomic(res, stored)
        print(f"[rekey] {chapter.name}: {len(ma)} smoke metrics identical; key carried over")
        done.append(chapter.name)
    return done


def run_all(profile: str, extra: dict | None = None, force: bool = False, only=None) -> list[str]:
    """Run every chapter; a failure does not stop the others. Returns the failure messages."""
    failures = []
    for chapter in chapter_list():
        if only and not any(o in chapter.stem for o in only):
            continue
        try:
            run_chapter(chapter, profile, extra, force)
        except ChapterFailed as exc:
            print(f"[FAIL] {exc}", file=sys.stderr, flush=True)
            failures.append(str(exc))
    return failures


def toc_for(profile: str) -> Path:
    """The book's table of contents, pointing at ``profile``'s executed notebooks."""
    toc = ROOT / "_toc.yml"
    if profile == "book":
        return toc
    text = toc.read_text().replace("book/executed/book/", f"book/executed/{profile}/")
    generated = ROOT / "_build" / f"_toc_{profile}.yml"
    generated.parent.mkdir(exist_ok=True)
    generated.write_text(text)
    return generated


def build(profile: str) -> Path:
    """Build the HTML with warnings as errors into a staging folder, then swap it in."""
    from lib import scoreboard

    scoreboard.write(profile)
    staging = ROOT / "_build" / f".staging-{profile}"
    shutil.rmtree(staging, ignore_errors=True)
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [
        str(jb) if jb.exists() else "jupyter-book",
        "build",
        str(ROOT),
        "--toc",
        str(toc_for(profile)),
        "--config",
        str(ROOT / "_config.yml"),
        "--path-output",
        str(staging),
        "-W",
        "-n",
        "--keep-going",
    ]
    print("[book]", " ".join(cmd[1:]), flush=True)
    # jupyter-book closes by naming the staging folder, which is renamed below: print its log without
    # that farewell, and the real location at the end.
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    farewell = False
    for line in proc.stdout:
        farewell = farewell or "Finished generating HTML" in line
        if not farewell:
            print(line, end="", flush=True)
    proc.wait()
    if proc.returncode != 0:
        raise ChapterFailed(f"jupyter-book build ({profile}) failed; the previous HTML was left untouched")
    final = ROOT / "_build" / ("html" if profile == "book" else f"html-{profile}")
    old = final.with_name(final.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.replace(final, old)
    os.replace(staging / "_build" / "html", final)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)
    print(f"[book] HTML at {final.relative_to(ROOT)}/index.html", flush=True)
    return final


def _parse_params(pairs):
    params = {}
    for pair in pairs or []:
        k, _, v = pair.partition("=")
        try:
            params[k] = json.loads(v)
        except json.JSONDecodeError:
            params[k] = v
    return params


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lib.runner", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["run", "all", "build", "book", "status", "rekey"])
    parser.add_argument("chapter", nargs="*", help="chapter file(s) for `run`; name filters for `all`/`book`")
    parser.add_argument("--profile", default="book", choices=PROFILES)
    parser.add_argument("-p", "--param", action="append", help="extra parameter key=value (JSON values)")
    parser.add_argument("--force", action="store_true", help="execute even when nothing changed")
    parser.add_argument("--before", help="rekey: smoke results folder computed with the old code")
    parser.add_argument("--after", help="rekey: smoke results folder computed with the current code")
    parser.add_argument(
        "--chapter-code", action="store_true", help="rekey: the chapter's own code changed too (a rename)"
    )
    parser.add_argument(
        "--tolerate", action="append", help="rekey: metrics (name substring) not repeatable between processes"
    )
    parser.add_argument("--why", help="rekey --tolerate: how those metrics were shown not to repeat")
    parser.add_argument(
        "--scheduler",
        help="run/all/book: execute on a Dask cluster, one task per chapter: a scheduler address, or `local`",
    )
    parser.add_argument("--workers", type=int, default=1, help="--scheduler local: how many workers (1 thread each)")
    args = parser.parse_args(argv)
    extra = _parse_params(args.param)
    if args.scheduler and args.command not in ("run", "all", "book"):
        parser.error("--scheduler goes with `run`, `all` or `book`")

    def on_cluster(chapters) -> list[str]:
        # lib.cluster imports lib.runner, which under `python -m lib.runner` is a second copy of this module,
        # so its errors are caught by lib.cluster's own class.
        from lib import cluster

        try:
            return cluster.run_chapters(chapters, args.profile, args.scheduler, extra, args.force, args.workers)
        except cluster.ClusterError as exc:
            print(f"[FAIL] {exc}", file=sys.stderr)
            return [str(exc)]

    try:
        if args.command == "status":
            stale = 0
            for chapter in chapter_list():
                fresh = is_up_to_date(chapter.resolve(), args.profile, {"profile": args.profile, **extra})
                stale += not fresh
                print(f"{'up to date' if fresh else 'would run ':10s}  {chapter.name}")
            return 1 if stale else 0
        if args.command == "rekey":
            if not (args.before and args.after):
                parser.error("`rekey` needs --before and --after results folders")
            if args.tolerate and not args.why:
                parser.error("--tolerate needs --why: how the tolerated metrics were shown not to repeat")
            rekey(
                args.profile,
                Path(args.before),
                Path(args.after),
                args.chapter,
                args.chapter_code,
                tuple(args.tolerate or ()),
                args.why or "",
            )
            return 0
        if args.command == "run":
            if not args.chapter:
                parser.error("`run` needs a chapter file")
            if args.scheduler:
                return 1 if on_cluster([Path(c) for c in args.chapter]) else 0
            for c in args.chapter:
                run_chapter(Path(c), args.profile, extra, args.force)
            return 0
        if args.command == "build":
            failures = []
        elif args.scheduler:
            chosen = [c for c in chapter_list() if not args.chapter or any(o in c.stem for o in args.chapter)]
            failures = on_cluster(chosen)
        else:
            failures = run_all(args.profile, extra, args.force, args.chapter)
        if args.command in ("build", "book"):
            build(args.profile)
        if failures:
            print(f"\n{len(failures)} chapter(s) failed; their previous outputs are kept:", file=sys.stderr)
            for f in failures:
                print("  -", f.splitlines()[0], file=sys.stderr)
            return 1
        return 0
    except ChapterFailed as exc:
        print(f"[FAIL] {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # missing data, bad parameters: one clear line, not a traceback
        from lib.data import DataError

        if isinstance(exc, (DataError, ValueError, KeyError)):
            print(f"[FAIL] {type(exc).__name__}: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
