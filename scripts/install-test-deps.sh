#!/usr/bin/env bash
# Installs the system packages that some tests need, only when they are missing:
#   pgbouncer  the connection pooler of TestPgBouncerTransactionPooling (go test -tags faults)
# Idempotent and quiet: a second run does nothing. Needs root (or sudo) only to install.
set -euo pipefail

here=$(dirname "$0")
if command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]; then
  exit 0
fi
bash "$here/apt-install.sh" pgbouncer pgbouncer --no-install-recommends

# The tests start their own pgbouncer on a free port; the package's system service is not
# needed. Where systemd runs it, stop and disable it (it was not there before this script).
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  "${sudo[@]}" systemctl disable --now pgbouncer.service >/dev/null 2>&1 || true
fi
