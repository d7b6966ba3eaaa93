#!/usr/bin/env bash
# Installs the system packages that some tests need, only when they are missing:
#   pgbouncer  the connection pooler of TestPgBouncerTransactionPooling (go test -tags faults)
# Idempotent and quiet: a second run does nothing. Needs root (or sudo) only to install.
set -euo pipefail

# Debian puts it in /usr/sbin, which is not on every user's PATH.
have_pgbouncer() { command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]; }

if have_pgbouncer; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: pgbouncer is missing and this is not a Debian/Ubuntu machine; install it yourself" >&2
  exit 1
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo -n)
  else
    echo "install-test-deps: pgbouncer is missing; run this script as root to install it" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() {
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null
}
# Fresh machines often have no package lists yet: refresh them only when the install fails.
if ! apt_install 2>/dev/null; then
  "${as_root[@]}" apt-get update -qq >/dev/null
  apt_install
fi

# The tests start their own pgbouncer on a free port; the package's system service is not
# needed. Where systemd runs it, stop and disable it (it was not there before this script).
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  "${as_root[@]}" systemctl disable --now pgbouncer.service >/dev/null 2>&1 || true
fi

have_pgbouncer || { echo "install-test-deps: pgbouncer is still not on PATH" >&2; exit 1; }
