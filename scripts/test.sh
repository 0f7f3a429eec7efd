#!/usr/bin/env bash
# Install everything the test suite needs into ./.venv, then run the whole suite.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
echo "== installing ipyy-sms with its test extras"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
echo "== running the suite"
exec .venv/bin/python -m pytest "$@"
