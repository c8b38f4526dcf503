#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, idempotently (run as root).
# PostgreSQL and Redis are expected to be running already (see README, "Tests").
set -euo pipefail
# Channels that need a local server or tool (Dovecot, Tesseract, Chromium) add it here.
PACKAGES=(chromium fonts-noto-cjk fonts-wqy-zenhei tesseract-ocr tesseract-ocr-chi-sim dovecot-imapd swaks)
missing=()
for package in "${PACKAGES[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run this script as root)" >&2
    exit 1
  fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
