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
# mypy finds packages by their directory name, and ours are installed from client/ and mockserver/ under other
# names (an editable install's import hook, which mypy cannot follow). A tree of two symlinks gives it the names;
# its paths are mapped back to client/ and mockserver/ in the output.
echo "== mypy"
links=.venv/mypy-path
mkdir -p "$links"
ln -sfn ../../client "$links/ipyy_client"
ln -sfn ../../mockserver "$links/ipyy_mock"
set +e
MYPYPATH="$links" .venv/bin/mypy -p ipyy_client -p ipyy_mock >.venv/mypy.out 2>&1
rc=$?
set -e
sed -e "s#$links/ipyy_client/#client/#g" -e "s#$links/ipyy_mock/#mockserver/#g" .venv/mypy.out
exit $rc
