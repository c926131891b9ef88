#!/usr/bin/env bash
# Set up (first time only) and run the test suite CI runs: everything but the `slow` marker, including the browser
# test, then ruff. Debian's chromium and fonts-noto-cjk (so the browser draws Chinese, not boxes) are installed when
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null) \
      || echo "warning: could not install ${missing[*]}"
  else
    echo "warning: ${missing[*]} missing; install Debian's packages for the browser test (as root: apt-get install -y ${missing[*]})"
  fi
fi
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -m "not slow" "$@"
