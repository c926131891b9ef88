#!/usr/bin/env bash
# Set up (first time only) and run the test suite CI runs: everything but the `slow` marker,
# including the browser test (Debian's chromium is installed when missing), then ruff.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "warning: could not install chromium"
  else
    echo "warning: /usr/bin/chromium is missing; install Debian's chromium package for the browser test"
  fi
fi
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -m "not slow" "$@"
