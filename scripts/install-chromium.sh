#!/usr/bin/env bash
# Installs Debian's Chromium for the docs page's browser test (cmd/accounts), only when it
# is missing. Idempotent and quiet: a second run does nothing. Needs root (or sudo) only to
# install.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: chromium is missing and this is not a Debian/Ubuntu machine; install it yourself" >&2
  exit 1
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo -n)
  else
    echo "install-chromium: chromium is missing; run this script as root to install it" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() {
  "${as_root[@]}" apt-get install -y -qq chromium >/dev/null
}
# Fresh machines often have no package lists yet: refresh them only when the install fails.
if ! apt_install 2>/dev/null; then
  "${as_root[@]}" apt-get update -qq >/dev/null
  apt_install
fi

command -v chromium >/dev/null 2>&1 || { echo "install-chromium: chromium is still not on PATH" >&2; exit 1; }
