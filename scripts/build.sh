#!/usr/bin/env bash
# Configures and builds one tree.
# Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...] [-- ninja targets...]
# Without targets it builds everything.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake_args=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do cmake_args+=("$1"); shift; done
[ $# -gt 0 ] && shift  # the "--"
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${cmake_args[@]}" >/dev/null
# Two cores: two compile jobs. Linking the test binaries is memory-hungry but fits in 24 GiB.
ninja -C "$dir" -j "$(nproc)" "$@"
