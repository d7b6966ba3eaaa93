#!/usr/bin/env bash
# Installs what `go tool task bench` needs and a developer may lack: wrk, from Debian's
# packages, only when it is missing (root, or sudo). pgbench comes with PostgreSQL itself.
set -euo pipefail

if ! command -v wrk >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -qq --no-install-recommends wrk >/dev/null ||
    { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
fi
if ! command -v pgbench >/dev/null; then
  echo "pgbench is missing: it comes with PostgreSQL (the postgresql-15 package on Debian)" >&2
  exit 1
fi
