#!/usr/bin/env bash
# Makes sure headless Chromium and its WebDriver are installed (the browser
# tests in tests/test_site.py drive them through Selenium). Installs Debian's
# chromium and chromium-driver packages when either is missing.
set -euo pipefail
find_browser() { command -v chromium || command -v chromium-browser || command -v google-chrome || true; }
if [ -n "$(find_browser)" ] && command -v chromedriver >/dev/null; then
  echo "Chromium found: $(find_browser), $(command -v chromedriver)"
  exit 0
fi
echo "Chromium or chromedriver not found; installing Debian's chromium and chromium-driver packages."
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "error: run as root, or install chromium and chromium-driver yourself (the browser tests need them)." >&2
  exit 1
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
  chromium chromium-driver fonts-dejavu-core >/dev/null
[ -n "$(find_browser)" ] && command -v chromedriver >/dev/null || {
  echo "error: chromium or chromedriver still missing after apt-get install" >&2; exit 1; }
echo "Chromium installed: $(find_browser) ($("$(find_browser)" --version 2>/dev/null || true))"
