#!/usr/bin/env bash
# Makes sure a headless Chromium is installed (the audit export test opens the postmortem page in
# it and takes a screenshot). Idempotent: installs Debian's `chromium` from apt only when missing,
# then prints the path of the binary.
set -euo pipefail

find_chromium() {
  for candidate in chromium chromium-browser google-chrome; do
    command -v "$candidate" 2>/dev/null && return 0
  done
  return 1
}

if ! find_chromium >/dev/null; then
  command -v apt-get >/dev/null || { echo "chromium is missing and apt-get is not available; install Chromium by hand" >&2; exit 1; }
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "Installing chromium (apt)" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

find_chromium
