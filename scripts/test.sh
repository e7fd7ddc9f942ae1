#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine, then runs the whole suite.
# Usage: bash scripts/test.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: chromium (browser tests, chart images), poppler-utils (PDF to PNG/text),
# fonts-dejavu-core (Unicode in PDFs), fonts-liberation (Arial's metrics, the app's font, so browser
# tests lay pages out as a Windows laptop does), postgresql (the store tests run against a real server),
# nginx and systemd (tests/deploy runs the shipped nginx site and checks the systemd units).
DEBS="chromium poppler-utils fonts-dejavu-core fonts-liberation postgresql nginx systemd"
missing=""
for pkg in $DEBS; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages:$missing. Run this script as root, or install them with apt-get." >&2
    exit 1
  fi
  echo "Installing Debian packages:$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r requirements.txt

# From the npm registry (tests/browser/package.json): axe-core for the accessibility checks in the
# browser tests, and oidc-provider for the test OpenID Connect provider (tests/oidc/provider.js,
# which loads it from tests/browser/node_modules). Installed when either is missing.
if [ -f tests/browser/package.json ] && { [ ! -d tests/browser/node_modules/axe-core ] \
    || [ ! -d tests/browser/node_modules/oidc-provider ]; }; then
  (cd tests/browser && npm install --no-audit --no-fund --silent)
fi

# Lint first (settings in pyproject.toml): a lint failure fails the run.
python3 -m ruff check --quiet .

exec python3 -m pytest "$@"
