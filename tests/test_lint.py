"""ruff (configured in pyproject.toml): the whole project is linted; lib, tests, benchmarks and scripts
are formatted.  Chapters are linted but never formatted (their source feeds the run key)."""

import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORMATTED = ["lib", "tests", "benchmarks", "scripts"]


def ruff(*args: str) -> subprocess.CompletedProcess:
    if importlib.util.find_spec("ruff") is None:
        pytest.fail("ruff is not installed in this environment: run `make env` (it is in requirements/lock.txt)")
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_check():
    proc = ruff("check", ".", "--output-format", "concise")
    if proc.returncode != 0:
        pytest.fail(f"`ruff check .` found problems (try `ruff check --fix`):\n{proc.stdout}{proc.stderr}")


def test_ruff_format():
    proc = ruff("format", "--check", "--output-format", "concise", *FORMATTED)
    if proc.returncode != 0:
        pytest.fail(
            f"`ruff format --check {' '.join(FORMATTED)}` (fix with `ruff format {' '.join(FORMATTED)}`):\n"
            f"{proc.stdout}{proc.stderr}"
        )


def test_chapters_are_not_formatted():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]
    assert "chapters/*.py" in config["format"]["exclude"]
    for excluded in (".venv", "_build", "runs", "book/executed"):
        assert excluded in config["extend-exclude"]
