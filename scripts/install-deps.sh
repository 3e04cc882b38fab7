#!/usr/bin/env bash
# Installs every Debian 12 package msgin5g needs to build, test and benchmark.
# Shared by the README and .ci/run. Never add libboost-dev / libboost-all-dev:
# they pull Boost 1.74 and apt would remove Boost 1.81.
set -euo pipefail

PKGS=(
  # toolchain
  g++ cmake ninja-build pkg-config
  lld  # links the sanitizer trees of scripts/test.sh (a quarter of ld.bfd's time there)
  clang-14  # the libFuzzer targets of tests/fuzz (scripts/fuzz.sh)
  # libraries
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libnghttp2-dev libssl-dev librocksdb-dev libprotobuf-dev protobuf-compiler
  prometheus-cpp-dev nlohmann-json3-dev libcpp-jwt-dev libtomlplusplus-dev
  libcoap3-dev libsystemd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # real peers for tests and benchmarks
  curl nghttp2-client nghttp2-server openssl prometheus python3 libcoap3-bin
  mosquitto mosquitto-clients
  # packages: build, check, install test
  lintian help2man rpm rpmlint file systemd
)

source "$(dirname "$0")/apt-lib.sh"
apt_install_missing install-deps "${PKGS[@]}"

# The fake SMSC of the gateway's end-to-end tests (tests/support/smsc) runs on Node with the npm
# package `smpp`, pinned by its package-lock.json. `npm ci` reinstalls from scratch, so it runs
# only when the copy of the lockfile it leaves in node_modules differs from the lockfile.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt_install_missing install-deps nodejs npm
fi
smsc_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/support/smsc"
if cmp -s "$smsc_dir/package-lock.json" "$smsc_dir/node_modules/.msgin5g-installed-lock.json"; then
  echo "install-deps: npm packages of tests/support/smsc present"
else
  echo "install-deps: npm ci in tests/support/smsc"
  npm ci --prefix "$smsc_dir" --no-audit --no-fund
  cp "$smsc_dir/package-lock.json" "$smsc_dir/node_modules/.msgin5g-installed-lock.json"
fi
