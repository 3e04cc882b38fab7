#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running msgin5gd on the embedded default
# configuration (h2c on 127.0.0.1:8080, metrics on 127.0.0.1:9464). Extra arguments go to msgin5gd.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# A fresh tree skips the tests (faster); an existing build keeps its setting (a developer's
# build with tests must not lose them silently).
if [ -f build/CMakeCache.txt ]; then ./scripts/build.sh build; else ./scripts/build.sh build -DMSGIN5G_BUILD_TESTS=OFF; fi
exec ./build/daemon/msgin5gd "$@"
