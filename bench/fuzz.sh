#!/usr/bin/env bash
# Each libFuzzer target of tests/fuzz for an hour (FUZZ_SECONDS overrides), two at a time: the
# long run whose numbers (executions, coverage, crashes) go into bench/RESULTS.md. CI runs the
# same targets for a short while (scripts/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-3600} exec scripts/fuzz.sh "$@"
