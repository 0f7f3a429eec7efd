#!/usr/bin/env bash
# The static checks, in the order scripts/test.sh runs them: ruff lint, ruff format, mypy. Any failure fails.
# Usage: bash scripts/check.sh          (after scripts/mock.sh or scripts/test.sh has made .venv)
#        bash scripts/check.sh --fix    (apply ruff's fixes and formatting instead of reporting them)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --fix ]; then
  .venv/bin/ruff check --fix --quiet .
  exec .venv/bin/ruff format --quiet .
fi
echo "== ruff check"
.venv/bin/ruff check --quiet .
echo "== ruff format --check"
.venv/bin/ruff format --check --quiet .
echo "== mypy"
exec .venv/bin/mypy -p ipyy_client -p ipyy_mock
