#!/usr/bin/env bash
# Static checks of the client package: mypy --strict (configured in pyproject.toml) and ruff (pyflakes + isort).
# Needs the test extras in ./.venv (bash scripts/test.sh installs them). Usage: bash scripts/typecheck.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# The package directory is client/ but its import name is ipyy_client: mypy finds it through a link
# under build/ (ignored by git), which also keeps mypy's cache valid from one run to the next.
mkdir -p build/typecheck
ln -sfn ../../client build/typecheck/ipyy_client
MYPYPATH=build/typecheck .venv/bin/python -m mypy -p ipyy_client --cache-dir build/typecheck/.mypy_cache
.venv/bin/python -m ruff check client
