#!/usr/bin/env bash
# Resolve requirements/torch.in + requirements/base.in into requirements/lock.txt (exact versions, every
# file hash), then regenerate what derives from the lock (requirements/torch.txt, environment.yml).
#
# Versions already in lock.txt are kept (uv prefers the output file's pins): adding a package to base.in
# adds it and its missing dependencies only.  To move a pinned package:  scripts/lock.sh --upgrade-package NAME
# (the book's committed results were computed with the locked scientific stack; re-run it after moving one).
#
# uv runs from a throwaway virtual environment outside the project (not .venv).  The lock is for
# CPython 3.11 on Linux x86_64, like the torch "+cpu" wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
UV_VERSION=0.13.9
# Where the torch "+cpu" wheel is: a local folder (this machine) or PyPI-style links page.
TORCH_FIND_LINKS=${TORCH_FIND_LINKS:-/opt/wheels}
[ -d "$TORCH_FIND_LINKS" ] || TORCH_FIND_LINKS=https://download.pytorch.org/whl/cpu/torch/

UV=${UV:-$(command -v uv || true)}
if [ -z "$UV" ]; then
  tools=${XDG_CACHE_HOME:-$HOME/.cache}/audio-repro/lock-tools
  if [ ! -x "$tools/bin/uv" ]; then
    "$PYTHON" -m venv "$tools"
    "$tools/bin/python" -m pip install --quiet "uv==$UV_VERSION"
  fi
  UV=$tools/bin/uv
fi

"$UV" pip compile requirements/torch.in requirements/base.in \
  --generate-hashes \
  --python-version 3.11.7 --python-platform x86_64-manylinux_2_28 \
  --index-url https://pypi.org/simple --find-links "$TORCH_FIND_LINKS" \
  --custom-compile-command scripts/lock.sh \
  --output-file requirements/lock.txt --quiet "$@"
if grep -qiE '^nvidia-' requirements/lock.txt; then
  echo "lock.sh: nvidia-* packages in the lock: torch resolved to a CUDA build" >&2
  exit 1
fi
"$PYTHON" scripts/gen-environment.py
