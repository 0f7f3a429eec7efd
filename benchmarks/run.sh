#!/usr/bin/env bash
# One command for the benchmarks: installs what is missing, then runs benchmarks/bench.py.
#   wrk and a Java runtime (Debian packages wrk, default-jre-headless) via apt-get,
#   the npm package `wiremock` (it ships the WireMock standalone jar) into benchmarks/.cache/npm,
#   ipyy-sms into ./.venv (editable) if it is not there yet, py-spy into benchmarks/.cache/tools.
# Usage: bash benchmarks/run.sh [bench.py options, e.g. --quick, --configs 2x4,4x2, --only throughput]
# Output: a table on stdout and benchmarks/results.json.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=benchmarks/.cache
WIREMOCK_VERSION=${WIREMOCK_VERSION:-3.13.2}   # newest 3.13.x on npm (`npm view wiremock versions`)
mkdir -p "$CACHE"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if ! command -v java >/dev/null 2>&1 || ! java -version 2>&1 | grep -Eq 'version "(1[1-9]|[2-9][0-9])'; then
  missing+=(default-jre-headless)   # WireMock 3 needs Java 11+
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "== apt-get install ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

jar="$CACHE/npm/node_modules/wiremock/build/wiremock-standalone-$WIREMOCK_VERSION.jar"
if [ ! -f "$jar" ]; then
  command -v npm >/dev/null 2>&1 || { echo "npm is needed to fetch the WireMock jar (apt-get install npm)" >&2; exit 1; }
  echo "== npm install wiremock@$WIREMOCK_VERSION into $CACHE/npm"
  npm install --prefix "$CACHE/npm" --no-audit --no-fund --no-save --silent "wiremock@$WIREMOCK_VERSION"
  jar=$(ls "$CACHE"/npm/node_modules/wiremock/build/wiremock-standalone-*.jar | head -1)
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PYTHON" -m venv .venv
fi
if ! .venv/bin/python -c 'import ipyy_mock.app, ipyy_client, requests' 2>/dev/null; then
  echo "== installing ipyy-sms into .venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
fi

# py-spy samples a live worker under load (optional: the run goes on without it)
if [ ! -x "$CACHE/tools/bin/py-spy" ]; then
  echo "== pip install py-spy into $CACHE/tools"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --target "$CACHE/tools" py-spy \
    || echo "   (py-spy unavailable: the live profile will be skipped)"
fi

exec .venv/bin/python benchmarks/bench.py --wiremock-jar "$jar" "$@"
