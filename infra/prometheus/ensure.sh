#!/usr/bin/env bash
# Makes sure Prometheus is installed (the prometheus metric source's integration and e2e tests run
# the real server). Idempotent: installs from apt only when `prometheus` is missing, then prints
# its version.
set -euo pipefail
source "$(dirname "$0")/../apt-install.sh"

find_prometheus() {
  command -v prometheus 2>/dev/null && return 0
  for candidate in /usr/bin/prometheus /usr/local/bin/prometheus; do
    if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

if ! find_prometheus >/dev/null; then
  # The package's service is not wanted: tests start their own server on a free port.
  apt_install prometheus "install Prometheus 2.x by hand" --no-install-recommends
fi

version="$("$(find_prometheus)" --version 2>&1)"
echo "${version%%$'\n'*}"
