"""Book rebuild times: cold, warm with nothing changed, and after editing one chapter.

    .venv/bin/python benchmarks/book_rebuild.py [--profile smoke]

Works on a temporary copy of the project (``git worktree``-free: a plain copy of the
tracked files plus the executed outputs), so the real book is never touched.

1. cold: no executed outputs of the profile, no HTML -> every chapter executes, then the build;
2. warm: run again -> no chapter executes (each is skipped), only the HTML build;
3. edit: append a comment to one chapter -> only that chapter executes.

For the ``book`` profile the cold time is the sum of the chapters' recorded wall times
(re-training everything is what the committed outputs avoid); warm and edit are measured.
Prints the three times, the number of chapters executed in each, and the ratios.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def book(copy: Path, profile: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "lib.runner", "book", "--profile", profile], cwd=copy, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"book build failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return elapsed, out.stdout.count("[run ]")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", default="smoke", choices=["smoke", "book"])
    ap.add_argument("--chapter", default="00_data.py", help="the chapter to edit")
    args = ap.parse_args()
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "book"
        for f in files:
            (copy / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, copy / f)
        shutil.rmtree(copy / "_build", ignore_errors=True)
        if args.profile == "book":
            walls = [
                json.loads(p.read_text())["provenance"]["wall_time_s"]
                for p in (copy / "book" / "results" / "book").glob("*.json")
            ]
            cold, n_cold = sum(walls), len(walls)
            html_cold, _ = book(copy, "book")
            cold += html_cold
        else:
            shutil.rmtree(copy / "book" / "executed" / "smoke", ignore_errors=True)
            shutil.rmtree(copy / "book" / "results" / "smoke", ignore_errors=True)
            cold, n_cold = book(copy, "smoke")
        warm, n_warm = book(copy, args.profile)
        chapter = copy / "chapters" / args.chapter
        chapter.write_text(chapter.read_text() + "\n# edited by benchmarks/book_rebuild.py\n")
        edit, n_edit = book(copy, args.profile)
    print(f"profile {args.profile}")
    print(
        f"cold : {cold:8.1f} s, {n_cold} chapters executed"
        + (" (recorded wall times + HTML)" if args.profile == "book" else "")
    )
    print(
        f"warm : {warm:8.1f} s, {n_warm} chapters executed   (target: < 60 s, 0 executed)  warm/cold {warm / cold:.1%}"
    )
    print(f"edit : {edit:8.1f} s, {n_edit} chapter(s) executed (target: 1)              edit/cold {edit / cold:.1%}")


if __name__ == "__main__":
    main()
