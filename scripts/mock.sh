#!/usr/bin/env bash
# Install ipyy-sms into ./.venv and start the mock (SQLite file ./ipyy-mock.db, demo account seeded).
# Usage: bash scripts/mock.sh [ipyy-mock serve options, e.g. --port 8080 --workers 2]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
exec .venv/bin/ipyy-mock serve "$@"
