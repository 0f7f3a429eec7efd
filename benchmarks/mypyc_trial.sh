#!/usr/bin/env bash
# Does compiling the send's hot path with mypyc make it faster? (docs/benchmarks.md, "What it would take")
#
#   bash benchmarks/mypyc_trial.sh [work dir]
#
# Copies the two packages under their import names into a work directory, compiles the modules a send runs
# through with mypyc (the project's .venv has it, with mypy), and runs benchmarks/profile_send.py in process
# twice as Python and twice compiled, interleaved (the compiled copy first on the import path). Nothing in the
# tree changes. mypyc refuses core/store (weak references to a native class) and edge (a `continue` inside
# try/finally): those two stay Python. The type-error codes the project carries as known debt are switched off
# for the copy, as pyproject.toml switches them off per module.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=${1:-$(mktemp -d /tmp/ipyy-mypyc-XXXXXX)}
mkdir -p "$work"
rm -rf "$work/ipyy_mock" "$work/ipyy_client" "$work/build"
cp -r mockserver "$work/ipyy_mock"
cp -rL client "$work/ipyy_client"
printf '[mypy]\npython_version = 3.11\nignore_missing_imports = True\ndisable_error_code = arg-type\n' >"$work/mypy.ini"
modules=(core/validation core/billing core/platform core/group httpapi/params httpapi/api httpapi/domestic
         httpapi/replies httpapi/domestic_replies devtools/journal devtools/faults soap/front soap/reader soap/envelope)
files=()
for m in "${modules[@]}"; do files+=("ipyy_mock/$m.py"); done
echo "== compiling ${#files[@]} modules in $work (about a minute)"
(cd "$work" && "$root/.venv/bin/mypyc" "${files[@]}" >mypyc.log 2>&1) || {
  echo "mypyc failed: see $work/mypyc.log" >&2; exit 1; }
for round in 1 2; do
  for how in python compiled; do
    echo "== $how, run $round"
    path=""; [ "$how" = compiled ] && path="$work"
    PYTHONPATH="$path" .venv/bin/python benchmarks/profile_send.py --rounds 3 --surfaces soap 2>/dev/null \
      | grep -m1 "whole stack" || true
  done
done
