#!/usr/bin/env bash
# Each libFuzzer target of tests/fuzz for an hour (FUZZ_SECONDS overrides), two at a time: the
# long run whose numbers (executions, coverage, crashes) go into bench/RESULTS.md. CI runs the
# same targets built with GCC, without coverage feedback: the tests FuzzReplay.* (label fuzz, a
# few seconds each; tests/fuzz/CMakeLists.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-3600} exec scripts/fuzz.sh "$@"
