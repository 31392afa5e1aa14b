#!/usr/bin/env bash
# Usage: scripts/fuzz.sh [SECONDS]   (default 30)
#
# Builds the libFuzzer targets (fuzz/*_fuzz.cpp) with clang, ASan and UBSan in
# ${FUZZ_BUILD_DIR:-build-fuzz} and runs each for SECONDS, up to nproc at once
# (FUZZ_JOBS overrides; FUZZ_TARGETS="a b" runs a subset). Each run starts from
# tests/data/fuzz/<target>/ (seed corpus and regression inputs) and adds what
# it finds to a scratch corpus in the build directory, never to the tree.
# A crash, leak, timeout or OOM input is copied to tests/data/fuzz/<target>/
# under libFuzzer's name (crash-<sha1>, ...), where the replay tests
# ("ctest -L fuzz") run it in every build from then on; the script then exits 1
# naming the target and the file. One summary line per target, quiet otherwise.
# FUZZ_SEED=N starts every target from libFuzzer seed N, so a run repeats the
# same inputs in the same order (the test command sets one: its fuzz phase
# replays what passed before, on any machine); unset, each run draws a new
# seed and explores: use that for the long runs.
set -euo pipefail

seconds=${1:-30}
if [ -n "${FUZZ_SEED:-}" ] && ! [[ $FUZZ_SEED =~ ^[1-9][0-9]{0,8}$ ]]; then
  echo "$0: FUZZ_SEED must be a whole number from 1 to 999999999" >&2
  exit 2
fi
if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: $0 [SECONDS]  (SECONDS: a whole number >= 1, default 30)" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-build-fuzz}
[[ $build = /* ]] || build=$root/$build
jobs=${FUZZ_JOBS:-$(nproc)}

"$root/scripts/setup.sh"

if [ -n "${FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$FUZZ_TARGETS"
else
  targets=()
  for src in "$root"/fuzz/*_fuzz.cpp; do
    name=$(basename "$src" _fuzz.cpp)
    targets+=("$name")
  done
fi

mkdir -p "$build"
log=$build/fuzz-build.log
if ! { CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
         -DRCW_FUZZ=ON -DRCW_BUILD_TESTS=OFF -DRCW_WERROR=ON &&
       cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/rcw_fuzz_}"; } >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "fuzz.sh: the build failed (full log: $log)" >&2
  exit 1
fi

# Sanitizer reports with stack traces; a UBSan finding is fatal (the build
# has -fno-sanitize-recover=all).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Runs one target; its output goes to $build/fuzz-run/<target>/log.
run_one() {
  local name=$1 work=$build/fuzz-run/$1
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  local args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
              -artifact_prefix="$work/artifacts/")
  [ -f "$root/fuzz/$name.dict" ] && args+=(-dict="$root/fuzz/$name.dict")
  [ -n "${FUZZ_SEED:-}" ] && args+=(-seed="$FUZZ_SEED")
  local rc=0
  # The hard limit covers loading the corpus and writing the final stats.
  timeout -k 10 $((seconds + 120)) "$build/fuzz/rcw_fuzz_$name" "${args[@]}" \
    "$work/corpus" "$root/tests/data/fuzz/$name" >"$work/log" 2>&1 || rc=$?
  echo "$rc" >"$work/rc"
}

running=0
for name in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
  run_one "$name" &
  running=$((running + 1))
done
wait

final_stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -n 1; }
failed=0
for name in "${targets[@]}"; do
  work=$build/fuzz-run/$name
  rc=$(cat "$work/rc")
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*' "$work/log" | tail -n 1 |
        sed 's/cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\)/cov \1  ft \2  corpus \3/')
  result=ok
  found=$(find "$work/artifacts" -type f | sort)
  if [ "$rc" -ne 0 ] || [ -n "$found" ]; then
    result=FAILED
    failed=1
  fi
  printf '%-15s %-6s runs %-10s %7s exec/s  %s\n' "$name" "$result" \
    "$(final_stat number_of_executed_units "$work/log")" "$(final_stat average_exec_per_sec "$work/log")" \
    "${cov:-cov ?}"
  if [ "$result" != ok ]; then
    # The report's headline and the frames in our code.
    grep -E 'ERROR: |runtime error:|SUMMARY: |fuzz property violated|#[0-9]+ .* /.*/(daemon|fuzz)/' \
      "$work/log" | head -n 12 | sed 's/^ */    /' >&2 || true
    for f in $found; do
      dest=$root/tests/data/fuzz/$name/$(basename "$f")
      cp "$f" "$dest"
      echo "fuzz.sh: $name: failing input saved as ${dest#"$root"/} (a regression input now)" >&2
    done
    [ -n "$found" ] || echo "fuzz.sh: $name: exit status $rc without an input; see $work/log" >&2
  fi
done
if [ "$failed" -ne 0 ]; then
  echo "fuzz.sh: FAILED (logs: $build/fuzz-run/<target>/log)" >&2
  exit 1
fi
