#!/usr/bin/env bash
# Makes sure a headless Chromium is installed (the audit export test opens the postmortem page in
# it and takes a screenshot). Idempotent: installs Debian's `chromium` from apt only when missing,
# then prints the path of the binary.
set -euo pipefail
source "$(dirname "$0")/../apt-install.sh"

find_chromium() {
  for candidate in chromium chromium-browser google-chrome; do
    command -v "$candidate" 2>/dev/null && return 0
  done
  return 1
}

if ! find_chromium >/dev/null; then
  apt_install chromium "install Chromium by hand"
fi

find_chromium
