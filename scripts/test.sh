#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a passing test suite: installs the dependencies,
# builds three trees and runs the tests in each:
# - optimised (what the packages ship): the packages (label package), the crash tests (label
#   crash: kill -9 cycles, the power-cut loop with 20 cycles per fault) and the two other long
#   outage loops (an AS down then up with a crash between, an SMSC down for thirty seconds); the
#   load generators are compiled. Target `optimised_tests` builds only what these need;
# - AddressSanitizer + UndefinedBehaviorSanitizer: every other test, the end-to-end ones included
#   (the daemons under test are sanitized too), but not `package` (the packages ship the optimised
#   binaries) nor the three long loops: they mostly wait, and their 100 s of wall time do not fit a
#   CI run kept under 30 minutes twice. The power-cut loop runs 3 cycles per fault here (its error
#   paths under the sanitizers);
# - ThreadSanitizer: of the tests labelled `threads` (code under test on several threads), those
#   that need no HTTP layer (label `tsan`: storage, broker, ledger, SMPP session; target
#   tsan_ci_tests), and only those are built; MSGIN5G_TSAN=all takes every `threads` test
#   (target threaded_tests: msgin5g_http and the API libraries under TSan too, 4 more minutes).
#   tests/tsan.supp silences only the uninstrumented RocksDB library.
# The unit and integration tests are not compiled a third time at -O2, nor the end-to-end tests a
# second time: on two cores those compiles are five minutes of a CI run kept under 30.
# All three are unity builds (MSGIN5G_UNITY_BUILD, CMakeLists.txt). The sanitizer trees link with
# lld (measured: msgin5gd under ASan 5.3 s with ld.bfd, 1.5 s with lld; 82 links in that tree);
# the optimised tree, which the packages ship, keeps the system linker.
# The stages overlap: the optimised tests (mostly waiting: packaging, outages) run while the ASan
# tree builds, and the TSan tree builds while the ASan tests run, each build at nice 19.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh

build_tree() {  # build_tree DIR [CMAKE ARGS...] [-- TARGETS...]
  local dir=$1
  shift
  ./scripts/build.sh "$dir" -DMSGIN5G_BUILD_TESTS=ON -DMSGIN5G_UNITY_BUILD=ON "$@"
}
# test_tree DIR LABELS; SELECT (a ctest -R regex) takes only those tests, EXCLUDE (-E) leaves
# tests out.
test_tree() {
  (cd "$1" && ctest --output-on-failure --timeout 300 -j 2 -L "$2" \
     ${SELECT:+-R "$SELECT"} ${EXCLUDE:+-E "$EXCLUDE"})
}
# A stage run in the background while the next one goes on, its output kept in a file.
# `finish NAME` waits for it, prints what it wrote and fails when it failed.
declare -A bg_pid
bg_logs=$(mktemp -d)
stop_bg() {  # a failed stage stops the others: each runs in its own process group
  for pid in "${bg_pid[@]}"; do kill -- "-$pid" 2> /dev/null || true; done
  rm -rf "$bg_logs"
}
trap stop_bg EXIT
start_bg() {  # start_bg NAME COMMAND...
  local name=$1
  shift
  set -m  # job control: the job gets its own process group
  "$@" > "$bg_logs/$name.log" 2>&1 &
  bg_pid[$name]=$!
  set +m
}
finish() {
  local rc=0
  wait "${bg_pid[$1]}" || rc=$?
  cat "$bg_logs/$1.log"
  if [ "$rc" -ne 0 ]; then
    echo "== $1 failed (exit $rc) =="
    exit "$rc"
  fi
}
# Builds that overlap a test run do so at the lowest CPU priority: the tests (some of which wait
# on deadlines) keep the cores they need, and the build takes the time the tests leave idle.
# Call it in a subshell: it lowers the priority of the shell it runs in (and what that starts).
idle() {
  renice -n 19 -p "$BASHPID" > /dev/null
  "$@"
}

# The long outage loops (see above).
long_loops='Crash\.AcknowledgedMessagesSurviveKill9|DeliveryE2E\.AsDownThenUpAndCrashInBetweenLosesNothing|GatewaySmsE2E\.SmscDownThirtySecondsWithGatewayKilledDuringOutageAndDuringReceipts'
lld=(-DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld)
# Line tables only (-g1): sanitizer reports and backtraces keep file:line, and on two cores the
# three builds take about a third less time than with full debug info (measured: a Beast TU
# 8.3 s -> 5.7 s, objects a quarter the size). A developer's own build keeps -g.
g1_release=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG")
# -O1 for TSan: it finds the same races at -O1 and -O2 (it instruments memory accesses either
# way), and -O1 compiles about a quarter faster.
g1_tsan=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG")
asan_env=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
          UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 MSGIN5G_POWER_CUT_CYCLES=3)
tsan_env=(TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/tests/tsan.supp")

echo "== optimised build ($(date -u +%T)) =="
build_tree build "${g1_release[@]}" -- optimised_tests
# ctest cannot take "label crash or package, or one of these names": the crash tests by name too.
echo "== optimised tests, in the background ($(date -u +%T)) =="
SELECT="^(PackageTest\.|Faults/PowerCutTest\.|$long_loops)" \
  start_bg optimised-tests test_tree build "^(e2e|crash|package)$"

echo "== ASan + UBSan build ($(date -u +%T)) =="
# No load generators here: no test runs them, and the optimised build already compiles them.
(idle build_tree build-asan -DMSGIN5G_SANITIZE="address;undefined" -DCMAKE_BUILD_TYPE=Debug \
  -DMSGIN5G_BUILD_BENCH=OFF "${lld[@]}" -DCMAKE_CXX_FLAGS_DEBUG="-g1" -DCMAKE_C_FLAGS_DEBUG="-g1")
echo "== optimised tests ($(date -u +%T)) =="
finish optimised-tests

echo "== TSan build, in the background ($(date -u +%T)) =="
if [ "${MSGIN5G_TSAN:-ci}" = all ]; then tsan_target=threaded_tests tsan_label=threads
else tsan_target=tsan_ci_tests tsan_label=tsan; fi
start_bg tsan-build idle build_tree build-tsan -DMSGIN5G_SANITIZE=thread -DMSGIN5G_BUILD_E2E=OFF \
  "${lld[@]}" "${g1_tsan[@]}" -- "$tsan_target"
echo "== ASan + UBSan tests ($(date -u +%T)) =="
(export "${asan_env[@]}"; EXCLUDE="^($long_loops)\$" test_tree build-asan .)

echo "== TSan build ($(date -u +%T)) =="
finish tsan-build
echo "== TSan tests ($(date -u +%T)) =="
(export "${tsan_env[@]}"; test_tree build-tsan "$tsan_label")
echo "== all passed ($(date -u +%T)) =="
