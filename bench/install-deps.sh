#!/usr/bin/env bash
# Installs what `go tool task bench` needs and a developer may lack: wrk, from Debian's
# packages, only when it is missing (root, or sudo). pgbench comes with PostgreSQL itself.
set -euo pipefail

bash "$(dirname "$0")/../scripts/apt-install.sh" wrk wrk --no-install-recommends
if ! command -v pgbench >/dev/null; then
  echo "pgbench is missing: it comes with PostgreSQL (the postgresql-15 package on Debian)" >&2
  exit 1
fi
