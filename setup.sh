#!/usr/bin/env bash
# proclab set-up: install what is missing (Debian 12 packages only), build, then run.
#
#   ./setup.sh run    install, build (release), run every demo through the runner, print the claims table
#                     and write the report folder proclab-report/ (report.md, suite.json, plots, and the
#                     crosscheck against perf bench, stress-ng, cyclictest and hackbench)
#   ./setup.sh test   install, build (release), run every test with ctest
#   ./setup.sh build  install and build only
#   ./setup.sh deb    install, build, and make the Debian package build/<preset>/proclab_<version>_<arch>.deb
#                     (what deploy/ansible/proclab.yml installs on a fleet)
#
# Idempotent: installs only the packages that are missing and reuses the build folder; the compiler
# cache (ccache, in ~/.cache/ccache outside the checkout) lets another clone reuse what one built.
# Without root (and without password-less sudo) it prints the exact apt-get line and exits 1.
# Each phase (install, configure, build, test) ends with one line on stderr giving its wall time.
# Environment: PROCLAB_PRESET (default: release; asan, tsan, debug, and arm64: a cross build whose
# unit and OS tests run under qemu-user), PROCLAB_JOBS (default: online CPUs),
# CCACHE_MAXSIZE (default: 2G), PROCLAB_PHASE_LOG (a file each phase's time is appended to).
set -euo pipefail

cd "$(dirname "$0")"

# Each package and why it is here is listed in README.md ("Dependencies").
packages=(cmake make g++ ccache libboost1.81-dev catch2 libfmt-dev nlohmann-json3-dev libcli11-dev libtbb-dev python3-matplotlib linux-perf stress-ng rt-tests help2man)
# Only the tests need these: a headless browser that renders report.html at a phone's width; the
# fleet playbook's test (Ansible, an sshd in a network namespace, the .deb built with cpack); the VM
# lab's test (QEMU and a static busybox for the guests' first program).
test_packages=(chromium ansible-core openssh-server openssh-client iproute2 dpkg-dev file qemu-system-x86 busybox-static)
# The arm64 preset (PROCLAB_PRESET=arm64 ./setup.sh test): Debian's cross compiler, and qemu-user
# to run the arm64 unit and OS tests on this machine.
arm64_packages=(g++-aarch64-linux-gnu qemu-user-static)
# The .deb: cpack's dependency list comes from dpkg-shlibdeps (dpkg-dev), which needs file.
deb_packages=(dpkg-dev file)

die() { echo "setup.sh: $*" >&2; exit 1; }

missing_packages() {
  local pkg
  for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
  done
}

install_missing() {
  command -v dpkg-query >/dev/null || die "this set-up expects Debian 12 (dpkg-query not found)"
  local missing
  mapfile -t missing < <(missing_packages)
  [ ${#missing[@]} -eq 0 ] && return 0
  local apt_line="apt-get install -y --no-install-recommends ${missing[*]}"
  local as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      as_root=(sudo -n)
    else
      echo "setup.sh: missing Debian packages: ${missing[*]}" >&2
      echo "setup.sh: run as root:  apt-get update && $apt_line" >&2
      exit 1
    fi
  fi
  echo "setup.sh: installing ${missing[*]}" >&2
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive $apt_line -qq >/dev/null
  mapfile -t missing < <(missing_packages)
  [ ${#missing[@]} -eq 0 ] || die "still missing after apt-get: ${missing[*]}"
}

preset="${PROCLAB_PRESET:-release}"
if [ "$preset" = arm64 ]; then
  packages+=("${arm64_packages[@]}")
  [ "${1:-}" = test ] || [ "${1:-}" = build ] ||
    { echo "setup.sh: the arm64 preset cross-builds the unit and OS tests only: PROCLAB_PRESET=arm64 ./setup.sh test" >&2; exit 2; }
fi
jobs="${PROCLAB_JOBS:-$(nproc)}"
# The compiler cache's cap (ccache's own default is 5G); the three presets take about 100M of it.
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-2G}"

# timed PHASE COMMAND...: runs COMMAND, then prints "setup.sh: <preset> PHASE: M:SS" on stderr and
# appends "<preset> PHASE <seconds> <exit status>" to $PROCLAB_PHASE_LOG when it is set.
timed() {
  local phase="$1"; shift
  local start end status=0
  start=$(date +%s.%N)
  "$@" || status=$?
  end=$(date +%s.%N)
  local seconds
  seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  local failed=""
  [ "$status" -eq 0 ] || failed=" (failed: exit $status)"
  echo "setup.sh: $preset $phase: $(awk -v s="$seconds" 'BEGIN { printf "%d:%04.1f", s / 60, s - 60 * int(s / 60) }')$failed" >&2
  if [ -n "${PROCLAB_PHASE_LOG:-}" ]; then echo "$preset $phase $seconds $status" >>"$PROCLAB_PHASE_LOG"; fi
  return "$status"
}

build() {
  timed install install_missing
  timed configure cmake --preset "$preset" >/dev/null
  timed build cmake --build --preset "$preset" -j "$jobs"
}

binary_dir() { echo "build/$preset"; }

case "${1:-}" in
  run)
    shift
    build
    exec "$(binary_dir)/bin/proclab" report proclab-report "$@"
    ;;
  test)
    shift
    packages+=("${test_packages[@]}")
    build
    timed test ctest --preset "$preset" -j "$jobs" "$@"
    ;;
  build)
    build
    ;;
  deb)
    packages+=("${deb_packages[@]}")
    build
    log="$(binary_dir)/cpack.log"
    (cd "$(binary_dir)" && cpack -G DEB >cpack.log 2>&1) || { cat "$log" >&2; die "cpack -G DEB failed"; }
    ls "$(binary_dir)"/proclab_*.deb
    ;;
  *)
    echo "usage: ./setup.sh run|test|build|deb [ARGS...]" >&2
    exit 2
    ;;
esac
