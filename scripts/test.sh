#!/usr/bin/env bash
# Install everything the test suite needs into ./.venv (first time only), run the static checks, then the suite.
# Usage: bash scripts/test.sh [pytest args...]      e.g. bash scripts/test.sh -m 'not slow' -x
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian packages some tests need: PHP's SoapClient (an independent SOAP client), Chromium.
need=()
{ command -v php >/dev/null && php -m | grep -qi '^soap$'; } || need+=(php-cli php-soap)
# [inbox] the web inbox's browser tests: headless Chromium driven through chromedriver (tests/test_inbox.py).
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
# [image] the OCI image's test builds it with podman on a base made by mmdebstrap (tests/test_image.py, scripts/image.sh).
command -v podman >/dev/null || need+=(podman)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
# [asmx] the ASMX oracle of the vendor's SOAP contract and the clients Mono's wsdl generates (tests/oracle/).
{ command -v mono >/dev/null && command -v mcs >/dev/null && command -v wsdl >/dev/null; } || need+=(mono-complete)
# [axis] clients generated from the served WSDL by Apache Axis 1.4's WSDL2Java.
{ command -v javac >/dev/null && [ -f /usr/share/java/axis.jar ]; } || need+=(libaxis-java default-jdk-headless)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing Debian packages: ${need[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "== note: ${need[*]} missing and not root; the tests that need them will be skipped"
  fi
fi
source scripts/_venv.sh
bash scripts/check.sh
echo "== running the suite"
exec .venv/bin/python -m pytest "$@"
