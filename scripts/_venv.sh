# Sourced by scripts/mock.sh and scripts/test.sh: make ./.venv hold this checkout, installed once.
#
# Why a stamp: pip takes seconds even when there is nothing to do. The stamp in
# .venv records what was installed (pyproject.toml, which holds the version and
# every dependency, the install command and where the checkout is); when it
# matches, pip is skipped and set-up takes a few milliseconds. The install is
# editable, so code changes need no reinstall; a changed pyproject.toml does.
# IPYY_REINSTALL=1 forces the install.
PYTHON=${PYTHON:-python3}
IPYY_INSTALL_SPEC=".[test]"  # the test extra too, so a first test of your own runs right after mock.sh
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi
ipyy_stamp() {
  { cat pyproject.toml; echo "$IPYY_INSTALL_SPEC"; pwd -P; readlink -f .venv/bin/python; } | sha256sum | cut -d' ' -f1
}
if [ "${IPYY_REINSTALL:-}" = 1 ] || [ ! -x .venv/bin/ipyy-mock ] || [ "$(cat .venv/ipyy-sms.stamp 2>/dev/null)" != "$(ipyy_stamp)" ]; then
  echo "== installing ipyy-sms and its test extra into .venv (once, about a minute; again only when pyproject.toml changes)"
  rm -f .venv/ipyy-sms.stamp
  # pip's own lines, one per package it collects and the final list: progress without pip's whole chatter
  # (errors go to stderr, unfiltered). sed, unlike grep, succeeds when nothing matches: pipefail sees pip's status.
  .venv/bin/python -m pip install --disable-pip-version-check -e "$IPYY_INSTALL_SPEC" \
    | sed -un -e 's/^Collecting \([^ ]*\).*/   collecting \1/p' -e 's/^Installing collected packages: .*/   installing.../p' \
      -e 's/^Successfully installed .*/   done/p'
  ipyy_stamp > .venv/ipyy-sms.stamp
fi
