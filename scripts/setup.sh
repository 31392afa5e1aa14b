#!/usr/bin/env bash
# Installs every Debian package rc-watchdog needs to build, test, fuzz, benchmark, run the
# simulator and the demo.
# Idempotent: when everything is present it prints nothing and installs nothing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libcurl4-openssl-dev libyaml-cpp-dev libsimdjson-dev libspdlog-dev prometheus-cpp-dev catch2
  libsystemd-dev libhowardhinnant-date-dev libre2-dev tzdata
  libsqlite3-dev sqlite3    # the state database (state/state_db.cpp); sqlite3 to query it
  python3 openssl ca-certificates curl prometheus systemd dpkg-dev
  prometheus-alertmanager   # per-job alerts: the e2e tests run the real one (and amtool)
  debhelper lintian scdoc   # the Debian package (debian/, scripts/package.sh) and its man pages
  man-db groff-base python3-jsonschema python3-yaml  # man page and config schema tests
  clang libclang-rt-14-dev  # libFuzzer targets (fuzz/) and the sanitizer builds
  libbenchmark-dev          # benchmarks (bench/)
  linux-perf heaptrack      # the benchmarks' diagnosis of a missed target (bench/)
  time                      # GNU time: a command's own peak RSS (bench/issue11_bench.py)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: missing packages: ${missing[*]}; run this script as root" >&2
  exit 1
fi
echo "setup.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
