"""Locked installs: requirements/lock.txt pins every package with hashes; environment.yml and
requirements/torch.txt are generated from it; .venv (scripts/setup-env.sh) holds the lock and the
project's Jupyter kernel."""

import importlib.util
import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
REQ = ROOT / "requirements"
VENV = ROOT / ".venv"
STAMP = VENV / ".requirements.sha256"  # written by scripts/setup-env.sh when it succeeds
KERNEL = "audio-repro"
KERNEL_DISPLAY = "Python (audio-repro book)"


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_environment", ROOT / "scripts" / "gen-environment.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


gen = _load_generator()
LOCK_TEXT = (REQ / "lock.txt").read_text()
LOCKED = gen.parse_lock(LOCK_TEXT)  # raises on any entry that is not an exact name==version pin
BY_NAME = {e.key: e for e in LOCKED}


def top_level_requirements():
    for name in ("torch.in", "base.in"):
        for line in (REQ / name).read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                yield name, Requirement(line)


def test_derived_files_are_generated_from_the_lock():
    for path, text in gen.outputs(LOCK_TEXT).items():
        rel = path.relative_to(ROOT).as_posix()
        assert path.exists(), f"{rel} is missing: run scripts/gen-environment.py"
        assert path.read_text() == text, f"{rel} is not what scripts/gen-environment.py makes from the lock: run it"


def test_every_top_level_requirement_is_in_the_lock():
    missing, outside = [], []
    for source, req in top_level_requirements():
        entry = BY_NAME.get(canonicalize_name(req.name))
        if entry is None:
            missing.append(f"{req} ({source})")
        elif not req.specifier.contains(Version(entry.version), prereleases=True):
            outside.append(f"{req} ({source}) but the lock has {entry.name}=={entry.version}")
    assert not missing, f"not in requirements/lock.txt: {missing}; run scripts/lock.sh"
    assert not outside, f"lock out of date: {outside}; run scripts/lock.sh"


def test_every_locked_package_has_a_hash():
    assert len(LOCKED) > 100 and len(BY_NAME) == len(LOCKED), "duplicate or missing entries in the lock"
    without = [e.requirement() for e in LOCKED if not e.hashes]
    assert not without, f"packages without --hash in requirements/lock.txt: {without}"
    malformed = [(e.name, h) for e in LOCKED for h in e.hashes if not re.fullmatch(r"sha256:[0-9a-f]{64}", h)]
    assert not malformed, f"hashes that are not sha256: {malformed}"


def test_torch_is_the_cpu_build_installed_first():
    torch = BY_NAME["torch"]
    assert torch.version.endswith("+cpu"), f"torch must be the CPU wheel, the lock has {torch.version}"
    cuda = sorted(e.name for e in LOCKED if e.key.startswith("nvidia-"))
    assert not cuda, f"CUDA packages in the lock (torch resolved to a CUDA build): {cuda}"
    (only,) = gen.parse_lock((REQ / "torch.txt").read_text())
    assert (only.key, only.version, only.hashes) == (torch.key, torch.version, torch.hashes)
    setup = (ROOT / "scripts" / "setup-env.sh").read_text()
    assert setup.index("-r requirements/torch.txt") < setup.index("-r requirements/lock.txt")
    assert "--require-hashes" in setup


def _in_project_venv() -> bool:
    return STAMP.exists() and Path(sys.prefix).resolve() == VENV.resolve()


def test_venv_holds_the_locked_versions():
    if not _in_project_venv():
        pytest.skip(".venv was not made by scripts/setup-env.sh (make env), or the tests run outside it")
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    wrong = [
        f"{e.name}: locked {e.version}, installed {installed.get(e.key, 'nothing')}"
        for e in LOCKED
        if installed.get(e.key) != e.version
    ]
    assert not wrong, f".venv differs from requirements/lock.txt (run make env): {wrong}"


def test_jupyter_kernel_is_registered_in_venv():
    if not STAMP.exists():
        pytest.skip(".venv was not made by scripts/setup-env.sh (make env): no kernel to check")
    spec_file = VENV / "share" / "jupyter" / "kernels" / KERNEL / "kernel.json"
    assert spec_file.exists(), f"kernel {KERNEL!r} not registered in .venv: run make env"
    spec = json.loads(spec_file.read_text())
    assert spec["display_name"] == KERNEL_DISPLAY
    assert Path(spec["argv"][0]).resolve() == (VENV / "bin" / "python").resolve(), spec["argv"]
    listed = subprocess.run(
        [str(VENV / "bin" / "jupyter"), "kernelspec", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    kernels = json.loads(listed.stdout)["kernelspecs"]
    assert KERNEL in kernels, f"jupyter kernelspec list does not show {KERNEL!r}: {sorted(kernels)}"
    assert Path(kernels[KERNEL]["resource_dir"]).resolve() == spec_file.parent.resolve()
