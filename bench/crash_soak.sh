#!/usr/bin/env bash
# The kill -9 crash test with more cycles than CI runs (default 200): concurrent senders, kill -9
# at a random moment, restart, repeat; then every acknowledged message must be stored exactly once.
# Usage: bench/crash_soak.sh [CYCLES]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/tests/e2e/crash_test ] || ./scripts/build.sh build >/dev/null
MSGIN5G_CRASH_CYCLES=${1:-200} ./build/tests/e2e/crash_test | grep -E "crash test:|OK|FAILED|lost"
