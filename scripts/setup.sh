#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine: system packages, then a virtualenv in .venv.
# Usage: scripts/setup.sh [--dev]   (--dev adds the test and lint tools)
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: chromium (browser tests, chart export, the briefing's PDF), a CJK font (Chinese in
# charts and PDFs), poppler-utils (pdftotext/pdffonts in tests).
APT_PACKAGES=(chromium fonts-noto-cjk poppler-utils)
# --dev: PostgreSQL's server, whose initdb/pg_ctl the tests use to start a throw-away cluster
# (devtools/postgres.py); the tests never touch a cluster the package itself may have created;
# nginx, in front of several dashboard processes in the replica test and the load test
# (devtools/replicas.py runs its own instance on a free port, never the package's service);
# fonts-dejavu-core, the Latin-only font the PDF glyph test prints with to prove it sees boxes.
[ "${1:-}" = "--dev" ] && APT_PACKAGES+=(postgresql nginx fonts-dejavu-core)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup] installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $PY"
  "$PY" -m venv .venv
fi

req=requirements.txt
[ "${1:-}" = "--dev" ] && req=requirements-dev.txt
stamp=".venv/.installed-$(basename "$req" .txt)"
digest=$(cat requirements.txt "$req" | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
  echo "[setup] installing Python packages from $req"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r "$req"
  echo "$digest" > "$stamp"
fi
