#!/usr/bin/env bash
# Set up (if needed), create/migrate the store, load demo data when it is empty, serve the dashboard.
# Usage: scripts/run.sh [extra streamlit options]   (default port 8501; PORT=… to change)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m etl init --demo --maps
exec .venv/bin/streamlit run dashboard.py --server.port "${PORT:-8501}" --server.headless true \
  --browser.gatherUsageStats false "$@"
