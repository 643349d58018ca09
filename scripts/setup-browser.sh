#!/usr/bin/env bash
# Debian's chromium + chromedriver for the browser test (tests/test_browser.py).
# Installs them when missing and we may (root with apt); otherwise the browser test skips and says why.
set -uo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 ||
   (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium chromium-driver >/dev/null 2>&1)) ||
   echo "setup-browser: could not install chromium (the browser test will be skipped)"
else
  echo "setup-browser: chromium/chromedriver missing and no root apt (the browser test will be skipped)"
fi
exit 0
