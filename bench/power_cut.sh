#!/usr/bin/env bash
# The power-cut loop of tests/integration/power_cut_test.cc, longer than CI's 20 cycles per fault:
# concurrent load, then a power cut, an fsync failure or ENOSPC at a random moment, what was never
# synced dropped (tests/support/power_cut_fs.h), reopen, and every acknowledged message,
# registration and report checked. Prints "acked N present N lost N" per fault, and the seed.
# Usage: bench/power_cut.sh [CYCLES]   (default 100; MSGIN5G_POWER_CUT_SEED replays a run)
set -euo pipefail
cd "$(dirname "$0")/.."
CYCLES=${1:-100}
BIN=${BIN:-./build/tests/integration/power_cut_test}
[ -x "$BIN" ] || ninja -C build power_cut_test >/dev/null
MSGIN5G_POWER_CUT_CYCLES="$CYCLES" "$BIN" 2>&1 | grep -E '^\[ power cut \]|FAILED|Failure|lost'
