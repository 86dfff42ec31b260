# Sourced by the infra/*/ensure.sh scripts: installs one Debian package when a tool is missing.
# Usage: apt_install PACKAGE "what to do without apt" [extra apt-get install options...]

apt_install() {
  local package=$1 fallback=$2
  shift 2
  command -v apt-get >/dev/null || { echo "$package is missing and apt-get is not available; $fallback" >&2; exit 1; }
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "Installing $package (apt)" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" "$package" >/dev/null
}
