#!/usr/bin/env bash
# Set up (if needed, with test tools), lint, then run the whole test suite, browser tests included.
# Usage: scripts/test.sh [pytest options]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
