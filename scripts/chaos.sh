#!/usr/bin/env bash
# The long chaos test: rc-watchdog through random reloads on a faulty API, many seeds.
#
#   scripts/chaos.sh                          # seeds 1-20, a simulated day each at 1800x
#   CHAOS_SEEDS=21-40 CHAOS_DAYS=2 scripts/chaos.sh
#   CHAOS_SPEED=600 scripts/chaos.sh          # slower clock: a tighter data-age window
#
# Environment: CHAOS_SEEDS (1-20; "1,5,9" or "1-20"), CHAOS_DAYS (1, simulated days per seed),
# CHAOS_JOBS (500, jobs per simulated day), CHAOS_SPEED (1800, sim seconds per real second),
# CHAOS_DIR (keep every seed's files there; default: a temporary directory, removed on
# success), RCW_BINARY (use this binary: skips the build), BUILD_DIR (default build).
# Takes about seeds x (days x 86400 / speed + 5) seconds: ~18 minutes for the default.
# Prints each seed's figures and verdicts; exit 0 when the invariant holds for every seed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${RCW_BINARY:-}" ]; then
  build=${BUILD_DIR:-build}
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j"$(nproc)" --target rc-watchdog >/dev/null
  export RCW_BINARY=$PWD/$build/rc-watchdog
fi
py=$(python3 -c 'import sys; print(sys.executable)')
args=(--seeds "${CHAOS_SEEDS:-1-20}" --days "${CHAOS_DAYS:-1}" --jobs "${CHAOS_JOBS:-500}"
      --speed "${CHAOS_SPEED:-1800}")
[ -n "${CHAOS_DIR:-}" ] && args+=(--workdir "$CHAOS_DIR")
export RCW_SOURCE_DIR=$PWD
exec "$py" tests/chaos/chaos.py "${args[@]}" "$@"
