# Sourced by scripts/setup and scripts/setup-kernels.
# apt_install PKG...: installs the given Debian packages (nothing when none are given).
apt_install() {
  [ $# -gt 0 ] || return 0
  echo "setup: apt-get install $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
