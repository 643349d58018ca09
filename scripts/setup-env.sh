#!/usr/bin/env bash
# Create .venv with the pinned dependencies (idempotent: re-runs only when requirements change).
# PyTorch's CPU wheel is installed first so that nothing pulls a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
stamp=.venv/.requirements.sha256
want=$(cat requirements/*.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r requirements/torch.txt
.venv/bin/python -m pip install --quiet -r requirements/base.txt -c requirements/torch.txt
.venv/bin/python -m pip install --quiet --no-deps -e .
echo "$want" > "$stamp"
echo "environment ready: .venv"
