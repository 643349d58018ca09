"""CI owes nothing to the machine it ran on before, and prints where its time goes."""

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CI = ROOT / ".ci" / "run"


def test_ci_sets_no_cache_location_outside_the_clone():
    text = CI.read_text()
    assert "unset AUDIO_REPRO_CACHE" in text
    for name, value in re.findall(r"^\s*export\s+(\w+)=(.*)$", text, re.M):
        if "CACHE" in name or name in {"HOME", "XDG_CACHE_HOME", "TMPDIR"}:
            raise AssertionError(f".ci/run points {name} at {value}: a cache outside the clone")
    for folder in (".cache", "runs", "_build", "book/executed/smoke", "book/results/smoke"):
        assert re.search(rf"rm -rf[^\n]*\s{re.escape(folder)}(\s|$)", text), f".ci/run does not start without {folder}"


def test_the_feature_cache_defaults_to_the_clone(monkeypatch):
    from lib import features

    monkeypatch.delenv(features.CACHE_ENV, raising=False)
    assert features.cache_dir().resolve().is_relative_to(ROOT)


def test_ci_clears_an_outside_cache_setting(tmp_path):
    """Run the top of .ci/run (everything before `make test`) with a cache setting inherited from the shell."""
    prelude = CI.read_text().split("make test")[0]
    script = prelude.replace('cd "$(dirname "$0")/.."', f"cd {tmp_path}") + 'echo "cache=${AUDIO_REPRO_CACHE:-unset}"\n'
    (tmp_path / ".cache" / "features").mkdir(parents=True)
    env = {**os.environ, "AUDIO_REPRO_CACHE": "/somewhere/warm", "AUDIO_REPRO_DATA": str(tmp_path)}
    out = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=True).stdout
    assert "cache=unset" in out and not (tmp_path / ".cache").exists()


def test_ci_prints_the_slowest_tests():
    assert re.search(r"pytest[^\n]*--durations=15", (ROOT / "Makefile").read_text())
