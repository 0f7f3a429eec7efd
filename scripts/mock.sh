#!/usr/bin/env bash
# Install ipyy-sms into ./.venv (first time only) and start the mock (SQLite file ./ipyy-mock.db, demo account seeded).
# Usage: bash scripts/mock.sh [ipyy-mock serve options, e.g. --port 8080 --workers 2]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
exec .venv/bin/ipyy-mock serve "$@"
