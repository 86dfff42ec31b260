#!/usr/bin/env bash
# Makes sure HAProxy is installed (the haproxy data plane and its integration tests run the real
# binary). Idempotent: installs from apt only when `haproxy` is missing, then prints its version.
set -euo pipefail
source "$(dirname "$0")/../apt-install.sh"

find_haproxy() {
  command -v haproxy 2>/dev/null && return 0
  for candidate in /usr/sbin/haproxy /usr/local/sbin/haproxy; do
    if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

if ! find_haproxy >/dev/null; then
  apt_install haproxy "install HAProxy 2.4+ by hand"
fi

# Read the whole output first: `| head -1` would close the pipe early and, under pipefail,
# fail the script with SIGPIPE whenever haproxy is still writing.
version="$("$(find_haproxy)" -v)"
echo "${version%%$'\n'*}"
