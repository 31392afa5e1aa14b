#!/usr/bin/env bash
# The long soak: rc-watchdog against the API simulator for a simulated week.
#
#   scripts/soak.sh                          # 7 days, 5600 jobs, 20 iTwins, 12 restarts, 600x
#   SOAK_SEED=42 scripts/soak.sh             # replay a run (the seed is printed first)
#   SOAK_DAYS=2 SOAK_JOBS=2000 scripts/soak.sh
#
# Environment: SOAK_DAYS (7), SOAK_JOBS (5600), SOAK_ITWINS (20), SOAK_SPEED (600, sim
# seconds per real second), SOAK_RESTARTS (12), SOAK_SEED (random), SOAK_DIR (keep the
# simulator's and daemon's files there; default a temporary directory, removed on success),
# RCW_BINARY (use this binary: skips the build), BUILD_DIR (default build).
# Takes about days x 86400 / speed seconds plus a minute: ~18 minutes for the default.
# Prints the figures and every invariant with its count; exit 0 when all hold.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${RCW_BINARY:-}" ]; then
  build=${BUILD_DIR:-build}
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j"$(nproc)" --target rc-watchdog >/dev/null
  export RCW_BINARY=$PWD/$build/rc-watchdog
fi
py=$(python3 -c 'import sys; print(sys.executable)')
args=(--days "${SOAK_DAYS:-7}" --jobs "${SOAK_JOBS:-5600}" --itwins "${SOAK_ITWINS:-20}"
      --speed "${SOAK_SPEED:-600}" --restarts "${SOAK_RESTARTS:-12}")
[ -n "${SOAK_SEED:-}" ] && args+=(--seed "$SOAK_SEED")
[ -n "${SOAK_DIR:-}" ] && args+=(--workdir "$SOAK_DIR")
export RCW_SOURCE_DIR=$PWD
exec "$py" tests/soak/soak.py "${args[@]}" "$@"
