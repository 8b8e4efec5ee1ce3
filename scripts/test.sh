#!/usr/bin/env bash
# Set up (if needed, with test tools), lint, then run the whole test suite, browser tests included.
# Usage: scripts/test.sh [pytest options]
# Without options it also runs the page tests as if today were a day well after the demo's end and
# a day in January (IPMON_TODAY, see monitor/domain/clock.py), so no page depends on the calendar.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
if [ $# -eq 0 ]; then
  PAGE_TESTS=(tests/test_pages.py tests/test_regional_pages.py tests/test_access_pages.py)
  for day in 2027-08-15 2027-01-10; do
    echo "[test] page tests as if today were $day"
    IPMON_TODAY=$day .venv/bin/python -m pytest -q "${PAGE_TESTS[@]}"
  done
fi
