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
# - ThreadSanitizer: only the tests labelled `threads` (code under test on several threads), and
#   only those are built; tests/tsan.supp silences only the uninstrumented RocksDB library.
# The unit and integration tests are not compiled a third time at -O2, nor the end-to-end tests a
# second time: on two cores those compiles are five minutes of a CI run kept under 30.
# All three are unity builds (MSGIN5G_UNITY_BUILD, CMakeLists.txt). The sanitizer trees link with
# lld (measured: msgin5gd under ASan 5.3 s with ld.bfd, 1.5 s with lld; 82 links in that tree);
# the optimised tree, which the packages ship, keeps the system linker.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh

# run_suite DIR LABELS [CMAKE ARGS...]; SELECT (a ctest -R regex) takes only those tests, EXCLUDE
# (a ctest -E regex) leaves tests out.
run_suite() {
  local dir=$1 labels=$2
  shift 2
  ./scripts/build.sh "$dir" -DMSGIN5G_BUILD_TESTS=ON -DMSGIN5G_UNITY_BUILD=ON "$@"
  (cd "$dir" && ctest --output-on-failure --timeout 300 -j 2 -L "$labels" \
     ${SELECT:+-R "$SELECT"} ${EXCLUDE:+-E "$EXCLUDE"})
}

# The long outage loops (see above).
long_loops='Crash\.AcknowledgedMessagesSurviveKill9|DeliveryE2E\.AsDownThenUpAndCrashInBetweenLosesNothing|GatewaySmsE2E\.SmscDownThirtySecondsWithGatewayKilledDuringOutageAndDuringReceipts'
lld=(-DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld)

# Line tables only (-g1): sanitizer reports and backtraces keep file:line, and on two cores the
# three builds take about a third less time than with full debug info (measured: a Beast TU
# 8.3 s -> 5.7 s, objects a quarter the size). A developer's own build keeps -g.
g1_release=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG")
echo "== optimised build ($(date -u +%T)) =="
# ctest cannot take "label crash or package, or one of these names": the crash tests by name too.
SELECT="^(PackageTest\.|Faults/PowerCutTest\.|$long_loops)" \
run_suite build "^(e2e|crash|package)$" "${g1_release[@]}" -- optimised_tests
echo "== ASan + UBSan build ($(date -u +%T)) =="
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# No load generators here: no test runs them, and the optimised build already compiles them.
export MSGIN5G_POWER_CUT_CYCLES=3
EXCLUDE="^($long_loops)\$" \
run_suite build-asan "." -DMSGIN5G_SANITIZE="address;undefined" -DCMAKE_BUILD_TYPE=Debug -DMSGIN5G_BUILD_BENCH=OFF "${lld[@]}" \
  -DCMAKE_CXX_FLAGS_DEBUG="-g1" -DCMAKE_C_FLAGS_DEBUG="-g1"
unset ASAN_OPTIONS UBSAN_OPTIONS MSGIN5G_POWER_CUT_CYCLES
echo "== TSan build ($(date -u +%T)) =="
export TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/tests/tsan.supp"
# -O1: TSan finds the same races at -O1 and -O2 (it instruments memory accesses either way), and
# -O1 compiles about a quarter faster.
g1_tsan=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG")
run_suite build-tsan "threads" -DMSGIN5G_SANITIZE=thread -DMSGIN5G_BUILD_E2E=OFF "${lld[@]}" \
  "${g1_tsan[@]}" -- threaded_tests
echo "== all passed ($(date -u +%T)) =="
