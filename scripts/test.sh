#!/usr/bin/env bash
# The test command (README "Quick start"); CI's .ci/run runs exactly it.
#
#   scripts/test.sh [CTEST_ARGS...]
#
# Phases, each in its own build tree; the first failure stops the script:
#   1. normal  BUILD_DIR (default build), RelWithDebInfo, -Werror: every test,
#              or those CTEST_ARGS select (e.g. -L e2e, -R enforce).
#   2. package BUILD_DIR-package: scripts/package.sh (dpkg-buildpackage -us
#              -uc -b from a copy of the tree): a user's Release build (-O3,
#              no -Werror, no tests); then tests/package/test_deb.py: lintian
#              clean, contents, conffile, `rc-watchdog version` = changelog.
#              The source tree must be left as it was (git status).
#   3. asan    BUILD_DIR-asan, -DRCW_SANITIZE=address (ASan + UBSan): the whole
#              suite again; the e2e tests run that tree's rc-watchdog.
#   4. tsan    BUILD_DIR-tsan, -DRCW_SANITIZE=thread: the tests where threads
#              meet (TSAN_TESTS below).
#   5. fuzz    scripts/fuzz.sh 30, when that script exists, from a fixed
#              libFuzzer seed (FUZZ_SEED, default 1206): the same inputs in
#              the same order on every run, so a new finding comes from a
#              change, not from luck. Exploring is scripts/fuzz.sh's own job
#              (no seed, longer runs).
# Every tree but the package one is built with -DRCW_WERROR=ON.
# RCW_TEST_QUICK=1 runs phase 1 only, for quick local runs. Given CTEST_ARGS
# (a selection of tests), phase 1 only is the default too; RCW_TEST_QUICK=0
# runs every phase anyway (CTEST_ARGS apply to phase 1 only). CI runs
# scripts/test.sh without arguments: every phase.
# A sanitizer report from any process (test binary, daemon, CLI) fails its
# phase twice over: the process exits with status 86 (ASan, UBSan) or 66
# (TSan), and the report lands in BUILD_DIR-*/sanitizer-logs/, which must stay
# empty (this also catches a daemon whose exit status a test does not check).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
scripts/setup.sh
build=${BUILD_DIR:-build}
jobs=$(nproc)
quick=${RCW_TEST_QUICK:-}
if [ -z "$quick" ]; then
  quick=0
  [ "$#" -gt 0 ] && quick=1  # a selection of tests is a local run
fi

# Which tests run under TSan: those in which more than one thread touches our
# code. The daemon's threads are prometheus-cpp's exposer (civetweb worker and
# accept threads, which read our metric objects and /proc on every scrape),
# the ListenerWaker that wakes civetweb at shutdown (telemetry/listen_address),
# and libcurl's resolver; the log sink is written from all of them. So:
#   telemetry: unit tests of the exposer over HTTP, the log sink, the waker;
#   api:       libcurl against the simulator and a test-server thread;
#   notify:    the Alertmanager sender's thread (unit tests; e2e test_notify
#              runs it against real Alertmanagers);
#   e2e test_service, test_hostile, test_prometheus, test_notify: the real daemon scraped
#              while it polls, reloads, cancels and stops (SIGTERM with a scrape
#              in flight), under hostile answers and by a real Prometheus.
# The other tests are single-threaded code (policy, budget, config, json,
# state, enforce, cli) and gain nothing from TSan over the ASan phase.
TSAN_TARGETS=(rc-watchdog rcw_telemetry_tests rcw_api_tests rcw_notify_tests)
TSAN_TESTS='^(telemetry|api|notify):|^e2e: test_(service|hostile|prometheus|notify)$'

declare -a summary=()
phase_name=""
phase_wall=0
phase_cpu=0

# Sets cpu_now: user + sys seconds of every child waited for so far (bash's
# `times`, run in this shell: in a $(...) subshell it would count nothing).
times_file=$(mktemp)
child_cpu() {
  local u s
  times >"$times_file"
  { read -r _ _; read -r u s; } <"$times_file"
  cpu_now=$(awk -v u="$u" -v s="$s" 'function sec(t) { split(t, a, "m"); sub("s", "", a[2]);
    return a[1] * 60 + a[2] } BEGIN { printf "%.0f", sec(u) + sec(s) }')
}
begin_phase() {
  phase_name=$1
  phase_wall=$SECONDS
  child_cpu
  phase_cpu=$cpu_now
  echo "==== phase ${phase_name}: $2"
}
end_phase() {
  local wall=$((SECONDS - phase_wall))
  child_cpu
  local cpu=$((cpu_now - phase_cpu))
  summary+=("phase ${phase_name}: ${wall} s wall, ${cpu} s CPU (user+sys)")
  echo "==== phase ${phase_name} passed (${wall} s wall, ${cpu} s CPU)"
}
print_summary() {
  local line
  for line in "${summary[@]}"; do echo "$line"; done
  echo "total: $SECONDS s wall"
}
trap 'status=$?; rm -f "$times_file"
  [ "$status" -ne 0 ] && echo "==== phase ${phase_name:-setup} FAILED" && print_summary
  exit $status' EXIT

# configure_build DIR [CMAKE_ARGS...] -- [TARGETS...]
configure_build() {
  local dir=$1 args=() targets=()
  shift
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
  [ "$#" -gt 0 ] && shift
  targets=("$@")
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRCW_WERROR=ON "${args[@]}" >/dev/null
  if [ "${#targets[@]}" -gt 0 ]; then
    cmake --build "$dir" -j"$jobs" --target "${targets[@]}"
  else
    cmake --build "$dir" -j"$jobs"
  fi
}

# sanitizer_logs_empty DIR: fails, printing them, when DIR holds any report.
sanitizer_logs_empty() {
  local dir=$1 f found=0
  for f in "$dir"/*; do
    [ -e "$f" ] || continue
    found=1
    echo "---- sanitizer report $f"
    cat "$f"
  done
  [ "$found" -eq 0 ] || { echo "sanitizer reports found in $dir"; return 1; }
}

# ---- 1. normal ----------------------------------------------------------------
begin_phase normal "$build, RelWithDebInfo, every test"
configure_build "$build" -DRCW_SANITIZE=OFF
(cd "$build" && ctest --output-on-failure --no-tests=error -j"$jobs" "$@")
end_phase

if [ "$quick" = 1 ]; then
  echo "RCW_TEST_QUICK=1 (or a test selection): sanitizer and fuzz phases skipped"
  print_summary
  exit 0
fi

# ---- 2. package ---------------------------------------------------------------
# The Debian package, built the Debian way. It is a user's Release build too:
# g++ 12 at -O3 reports false -Wrestrict warnings in libstdc++ (GCC bug
# 105329), so -Werror stays off here (debian/rules).
package_dir="${build}-package"
begin_phase package "$package_dir: dpkg-buildpackage (Release, -O3, no -Werror), lintian, contents"
tree_before=$(git status --porcelain 2>/dev/null || true)
scripts/package.sh "$package_dir"
debs=("$package_dir"/rc-watchdog_*.deb)
[ "${#debs[@]}" -eq 1 ] || { echo "expected one rc-watchdog .deb in $package_dir: ${debs[*]}"; false; }
dpkg-deb -x "${debs[0]}" "$package_dir/root"
"$package_dir/root/usr/bin/rc-watchdog" version
RCW_DEB="${debs[0]}" RCW_SOURCE_DIR="$src" python3 tests/package/test_deb.py
rm -rf "$package_dir/root"
tree_after=$(git status --porcelain 2>/dev/null || true)
[ "$tree_before" = "$tree_after" ] || { echo "the package build changed the source tree:"; \
  diff <(echo "$tree_before") <(echo "$tree_after"); false; }
end_phase

# Sanitizer trees are built at -O1 with line tables only: about half the
# compile time of -O2 -g, with stack traces that still name file and line.
sanitizer_flags=("-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG")

# ---- 3. ASan + UBSan ----------------------------------------------------------
asan_build="${build}-asan"
begin_phase asan "$asan_build, ASan + UBSan, every test"
configure_build "$asan_build" -DRCW_SANITIZE=address "${sanitizer_flags[@]}"
logs="$src/$asan_build/sanitizer-logs"
[ "${asan_build#/}" != "$asan_build" ] && logs="$asan_build/sanitizer-logs"
rm -rf "$logs" && mkdir -p "$logs"
# UBSan is compiled with -fno-sanitize-recover: its first report ends the
# process too. LeakSanitizer runs at every exit.
(cd "$asan_build" &&
  ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:exitcode=86:print_stacktrace=1:check_initialization_order=1:log_path=$logs/asan" \
  UBSAN_OPTIONS="halt_on_error=1:exitcode=86:print_stacktrace=1:log_path=$logs/ubsan" \
  ctest --output-on-failure --no-tests=error -j"$jobs") ||
  { sanitizer_logs_empty "$logs"; false; }  # print the reports of a failing run too
sanitizer_logs_empty "$logs"
end_phase

# ---- 4. TSan ------------------------------------------------------------------
tsan_build="${build}-tsan"
begin_phase tsan "$tsan_build, TSan, the tests where threads meet"
configure_build "$tsan_build" -DRCW_SANITIZE=thread "${sanitizer_flags[@]}" -- "${TSAN_TARGETS[@]}"
logs="$src/$tsan_build/sanitizer-logs"
[ "${tsan_build#/}" != "$tsan_build" ] && logs="$tsan_build/sanitizer-logs"
rm -rf "$logs" && mkdir -p "$logs"
tsan_options="halt_on_error=1:exitcode=66:second_deadlock_stack=1:log_path=$logs/tsan"
[ -f tests/tsan.supp ] && tsan_options+=":suppressions=$src/tests/tsan.supp"
(cd "$tsan_build" &&
  TSAN_OPTIONS="$tsan_options" ctest --output-on-failure --no-tests=error -j"$jobs" -R "$TSAN_TESTS") ||
  { sanitizer_logs_empty "$logs"; false; }
sanitizer_logs_empty "$logs"
end_phase

# ---- 5. fuzz smoke ------------------------------------------------------------
if [ -f scripts/fuzz.sh ]; then
  begin_phase fuzz "FUZZ_SEED=${FUZZ_SEED:-1206} scripts/fuzz.sh 30"
  FUZZ_SEED=${FUZZ_SEED:-1206} bash scripts/fuzz.sh 30
  end_phase
fi

print_summary
