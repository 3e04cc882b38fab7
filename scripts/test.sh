#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a passing test suite: installs the dependencies,
# builds twice (optimised, and with AddressSanitizer + UndefinedBehaviorSanitizer) and runs every
# test label (unit, integration, e2e) in both builds.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh

run_suite() {
  local dir=$1
  shift
  ./scripts/build.sh "$dir" "$@"
  (cd "$dir" && ctest --output-on-failure --timeout 300 -j 2)
}

echo "== optimised build =="
run_suite build
echo "== ASan + UBSan build =="
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite build-asan -DMSGIN5G_SANITIZE="address;undefined" -DCMAKE_BUILD_TYPE=Debug
