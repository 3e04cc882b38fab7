#!/usr/bin/env bash
# Installs every Debian 12 package msgin5g needs to build, test and benchmark.
# Shared by the README and .ci/run. Never add libboost-dev / libboost-all-dev:
# they pull Boost 1.74 and apt would remove Boost 1.81.
set -euo pipefail

PKGS=(
  # toolchain
  g++ cmake ninja-build pkg-config
  # libraries
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libnghttp2-dev libssl-dev librocksdb-dev libprotobuf-dev protobuf-compiler
  prometheus-cpp-dev nlohmann-json3-dev libcpp-jwt-dev libtomlplusplus-dev
  libcoap3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # real peers for tests and benchmarks
  curl nghttp2-client nghttp2-server openssl prometheus python3
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
