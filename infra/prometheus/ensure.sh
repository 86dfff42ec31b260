#!/usr/bin/env bash
# Makes sure Prometheus is installed (the prometheus metric source's integration and e2e tests run
# the real server). Idempotent: installs from apt only when `prometheus` is missing, then prints
# its version.
set -euo pipefail

find_prometheus() {
  command -v prometheus 2>/dev/null && return 0
  for candidate in /usr/bin/prometheus /usr/local/bin/prometheus; do
    if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

if ! find_prometheus >/dev/null; then
  command -v apt-get >/dev/null || { echo "prometheus is missing and apt-get is not available; install Prometheus 2.x by hand" >&2; exit 1; }
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "Installing prometheus (apt)" >&2
  $sudo apt-get update -qq
  # The package's service is not wanted: tests start their own server on a free port.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

version="$("$(find_prometheus)" --version 2>&1)"
echo "${version%%$'\n'*}"
