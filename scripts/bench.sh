#!/usr/bin/env bash
# Builds a Release tree, runs the micro benchmarks (bench/*_bench.cpp), the
# end-to-end benchmark (bench/e2e_bench.py) and issue 11's benchmark
# (bench/issue11_bench.py: run --once vs the cron peer, the steady poll), then
# writes bench/RESULTS.md (bench/write_results.py). See bench/README.md.
#
#   scripts/bench.sh                  # BUILD_DIR=build-release, 3 repetitions
#   BENCH_REPETITIONS=5 scripts/bench.sh
#   BENCH_E2E=0 scripts/bench.sh      # micro benchmarks only
#   BENCH_E2E_ARGS=--quick scripts/bench.sh   # extra arguments for bench/e2e_bench.py
#   BENCH_ISSUE11=0 scripts/bench.sh  # without bench/issue11_bench.py
#   BENCH_ISSUE11_ARGS=--quick scripts/bench.sh   # extra arguments for it
#   BENCH_BACKTEST=0 scripts/bench.sh # without bench/backtest_bench.py (issue 13)
#   BENCH_BACKTEST_ARGS="--days 3" scripts/bench.sh  # a short form of it
#
# -O2 rather than CMake's Release -O3: the shipped daemon is built with -O2
# (RelWithDebInfo).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build=${BUILD_DIR:-build-release}
reps=${BENCH_REPETITIONS:-3}
jobs=$(nproc)

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" \
  -DRCW_WERROR=ON >/dev/null
cmake --build "$build" -j"$jobs" --target rc-watchdog rcw_bench_decode rcw_bench_policy \
  rcw_bench_cycle rcw_bench_memory

out="$build/bench"
mkdir -p "$out"
rm -rf "$out"/*.json "$out/profiles" "$build/e2e.json" "$build/issue11.json"
echo "load average before the benchmarks: $(cut -d' ' -f1-3 /proc/loadavg)"
# Repetitions in random order, so that a change of load on a shared machine
# hits both sides of a comparison (DecodeJobPage vs simdjson) alike.
bench() {
  local name=$1
  shift
  echo "== rcw_bench_$name ($reps repetitions, medians)"
  "$build/rcw_bench_$name" --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true \
    --benchmark_enable_random_interleaving=true \
    --benchmark_out="$out/$name.json" --benchmark_out_format=json "$@"
}
bench decode --benchmark_min_time=1
bench policy --benchmark_min_time=1
bench cycle
# Heap counts are deterministic: one repetition of the cases RESULTS.md uses.
echo "== rcw_bench_memory"
"$build/rcw_bench_memory" --benchmark_filter='BM_(Cycle|CycleFirst|CycleOverBudget|JobMemory)/jobs:100000$' \
  --benchmark_min_time=0.01 --benchmark_out="$out/memory.json" --benchmark_out_format=json

e2e_status=
if [ -f bench/e2e_bench.py ] && [ "${BENCH_E2E:-1}" != 0 ]; then
  echo "== bench/e2e_bench.py"
  e2e_status=0
  # shellcheck disable=SC2086  # BENCH_E2E_ARGS is a list of words
  python3 bench/e2e_bench.py --binary "$build/rc-watchdog" --out "$build/e2e.json" \
    ${BENCH_E2E_ARGS:-} || e2e_status=$?
fi
issue11_status=
if [ "${BENCH_ISSUE11:-1}" != 0 ]; then
  echo "== bench/issue11_bench.py"
  issue11_status=0
  # shellcheck disable=SC2086  # BENCH_ISSUE11_ARGS is a list of words
  python3 bench/issue11_bench.py --binary "$build/rc-watchdog" --out "$build/issue11.json" \
    --profile-dir "$out/profiles" ${BENCH_ISSUE11_ARGS:-} || issue11_status=$?
fi
if [ "${BENCH_BACKTEST:-1}" != 0 ]; then
  echo "== bench/backtest_bench.py"
  # shellcheck disable=SC2086  # BENCH_BACKTEST_ARGS is a list of words
  python3 bench/backtest_bench.py --binary "$build/rc-watchdog" --out "$build/backtest.json" \
    ${BENCH_BACKTEST_ARGS:-} || true
fi
python3 bench/write_results.py --build "$build" --out bench/RESULTS.md \
  ${e2e_status:+--e2e-status "$e2e_status"} ${issue11_status:+--issue11-status "$issue11_status"}
