#!/usr/bin/env bash
# apt-install.sh COMMAND PACKAGE [APT-GET OPTION...]
#
# Installs the Debian package PACKAGE when COMMAND is missing, for the tasks that need a
# system program (chromium, pgbouncer, wrk). Idempotent and quiet: when COMMAND is there it
# does nothing. Needs root (or sudo) only to install.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: apt-install.sh COMMAND PACKAGE [APT-GET OPTION...]" >&2
  exit 2
fi
cmd=$1 pkg=$2
shift 2

# Debian puts daemons in /usr/sbin, which is not on every user's PATH.
have() { command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ]; }

if have; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-install: $cmd is missing and this is not a Debian/Ubuntu machine; install $pkg yourself" >&2
  exit 1
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo -n)
  else
    echo "apt-install: $cmd is missing; run this as root to install $pkg" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() {
  "${as_root[@]}" apt-get install -y -qq "$@" "$pkg" >/dev/null
}
# Fresh machines often have no package lists yet: refresh them only when the install fails.
if ! apt_install "$@" 2>/dev/null; then
  "${as_root[@]}" apt-get update -qq >/dev/null
  apt_install "$@"
fi

have || { echo "apt-install: $cmd is still missing after installing $pkg" >&2; exit 1; }
