#!/usr/bin/env bash
# Makes sure HAProxy is installed (the haproxy data plane and its integration tests run the real
# binary). Idempotent: installs from apt only when `haproxy` is missing, then prints its version.
set -euo pipefail

find_haproxy() {
  command -v haproxy 2>/dev/null && return 0
  for candidate in /usr/sbin/haproxy /usr/local/sbin/haproxy; do
    if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

if ! find_haproxy >/dev/null; then
  command -v apt-get >/dev/null || { echo "haproxy is missing and apt-get is not available; install HAProxy 2.4+ by hand" >&2; exit 1; }
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "Installing haproxy (apt)" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq haproxy >/dev/null
fi

# Read the whole output first: `| head -1` would close the pipe early and, under pipefail,
# fail the script with SIGPIPE whenever haproxy is still writing.
version="$("$(find_haproxy)" -v)"
echo "${version%%$'\n'*}"
