#!/usr/bin/env python3
"""Write the files derived from requirements/lock.txt: environment.yml and requirements/torch.txt.

Never edit those two files by hand: edit requirements/*.in, run scripts/lock.sh (which calls this
script), and commit the results.  ``--check`` only compares and exits 1 when a file is stale;
tests/test_install.py does the same.  Standard library only, so it runs without .venv.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "lock.txt"
ENVIRONMENT = ROOT / "environment.yml"
TORCH = ROOT / "requirements" / "torch.txt"

# Where pip finds the "+cpu" torch wheel when there is no local wheel folder (conda users).
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# Managed by conda itself in environment.yml, not by the pip section.
CONDA_MANAGED = {"pip"}


@dataclass
class Locked:
    name: str
    version: str
    marker: str = ""
    hashes: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """Normalised project name (PEP 503)."""
        return normalise(self.name)

    def requirement(self) -> str:
        return f"{self.name}=={self.version}" + (f" ; {self.marker}" if self.marker else "")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


_ENTRY = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>[^\s;\\]+)\s*(?:;(?P<marker>[^\\]*))?"
)


def parse_lock(text: str) -> list[Locked]:
    """The entries of a pip/uv lock file: name, exact version, environment marker, hashes."""
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line.strip() and not current:
            continue
        current += " " + line.strip() if current else line.strip()
        if current.endswith("\\"):
            current = current[:-1].rstrip()
            continue
        if current:
            logical.append(current)
        current = ""
    if current:
        logical.append(current)

    entries = []
    for line in logical:
        if line.startswith("-"):  # options such as --index-url: not an entry
            continue
        hashes = re.findall(r"--hash=(\S+)", line)
        head = re.sub(r"\s*--hash=\S+", "", line).strip()
        m = _ENTRY.match(head)
        if not m:
            raise ValueError(f"lock entry is not an exact pin (name==version): {line[:120]!r}")
        entries.append(Locked(m["name"], m["version"], (m["marker"] or "").strip(), hashes))
    return entries


def render_environment(entries: list[Locked]) -> str:
    pins = [e for e in entries if e.key not in CONDA_MANAGED]
    torch = [e for e in pins if e.key == "torch"]
    rest = sorted((e for e in pins if e.key != "torch"), key=lambda e: e.key)
    lines = [
        "# GENERATED from requirements/lock.txt by scripts/gen-environment.py -- do not edit by hand",
        "# (edit requirements/*.in, then run scripts/lock.sh).",
        "# Conda environment with exactly the versions of the lock.  The hash-checked install is",
        "# scripts/setup-env.sh (pip --require-hashes); hashes are left out here because pip's hash mode",
        "# refuses the editable `-e .` line.  torch is the CPU build, from PyTorch's CPU index.",
        "name: audio-repro-book",
        "channels: [conda-forge]",
        "dependencies:",
        "  - python>=3.11.5,<3.12",
        "  - pip",
        "  - pip:",
        f"      - --extra-index-url {TORCH_CPU_INDEX}",
    ]
    lines += [f"      - {quote(e.requirement())}" for e in torch + rest]
    lines.append("      - -e .")
    return "\n".join(lines) + "\n"


def render_torch(entries: list[Locked]) -> str:
    torch = [e for e in entries if e.key == "torch"]
    if len(torch) != 1:
        raise ValueError("requirements/lock.txt must hold exactly one torch entry")
    (e,) = torch
    lines = [
        "# GENERATED from requirements/lock.txt by scripts/gen-environment.py -- do not edit by hand.",
        "# scripts/setup-env.sh installs this first (--no-deps --require-hashes): the CPU wheel, found in a local",
        "# wheel folder (pip's find-links, /opt/wheels here) or at " + TORCH_CPU_INDEX + " (set",
        "# PIP_EXTRA_INDEX_URL to it).  Its dependencies come from requirements/lock.txt.",
        e.requirement() + "".join(f" \\\n    --hash={h}" for h in e.hashes),
    ]
    return "\n".join(lines) + "\n"


def quote(s: str) -> str:
    """YAML-safe scalar for a requirement (markers hold quotes and semicolons)."""
    if re.fullmatch(r"[A-Za-z0-9._+=<>!~,-]+", s):
        return s
    return "'" + s.replace("'", "''") + "'"


def outputs(lock_text: str) -> dict[Path, str]:
    entries = parse_lock(lock_text)
    return {ENVIRONMENT: render_environment(entries), TORCH: render_torch(entries)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only compare; exit 1 when a file is stale")
    args = ap.parse_args(argv)
    stale = []
    for path, text in outputs(LOCK.read_text()).items():
        if path.exists() and path.read_text() == text:
            continue
        if args.check:
            stale.append(path.relative_to(ROOT).as_posix())
        else:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print(f"stale (run scripts/gen-environment.py): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
