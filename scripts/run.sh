#!/usr/bin/env bash
# Set up (first time only), index the shipped corpus if there is no index, and start the chat page
# on http://127.0.0.1:7860 (ASSISTANT_HOST / ASSISTANT_PORT to change). Offline, no API key needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/assistant serve "$@"
