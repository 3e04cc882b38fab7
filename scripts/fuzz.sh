#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang++-14 under ASan + UBSan (tree build-fuzz)
# and runs each for FUZZ_SECONDS (default 60) from its seed corpus, FUZZ_JOBS (default 2) at a
# time. New inputs go to a scratch corpus, not the repository's. A crash, leak, timeout or abort
# fails the run; the input that did it is kept in build-fuzz/artifacts/ and should become a
# regression seed. Prints per target: executions, coverage (edges), corpus size, result.
# Usage: scripts/fuzz.sh [TARGET...]   (bench/fuzz.sh runs each for an hour)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
JOBS=${FUZZ_JOBS:-2}
TREE=${FUZZ_TREE:-build-fuzz}
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(sbi_codec_fuzz storage_records_fuzz jwt_fuzz http_server_fuzz coap_server_fuzz
  tls_client_hello_fuzz coap_wire_fuzz)

echo "== fuzz build ($(date +%T)) =="
cmake -S . -B "$TREE" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS="-O1 -g1" -DMSGIN5G_FUZZ=ON -DMSGIN5G_UNITY_BUILD=ON \
  -DMSGIN5G_SANITIZE="address;undefined" -DMSGIN5G_BUILD_E2E=OFF >/dev/null
ninja -C "$TREE" fuzz_targets

echo "== fuzz run: ${SECONDS_EACH}s per target, $JOBS at a time ($(date +%T)) =="
mkdir -p "$TREE/artifacts"
run_one() {
  local t=$1 work="$TREE/corpus-work/$1" log="$TREE/$1.log"
  rm -rf "$work"
  mkdir -p "$work"
  local seeds="tests/fuzz/corpus/${t%_fuzz}"
  local extra=()
  # The CoAP target keeps a running server (broker, store) whose memory grows with what it was
  # sent: libFuzzer's leak check after each such input stops every thread and scans the heap
  # (34 inputs/s instead of hundreds). Leaks are still looked for when the run ends.
  [ "$t" = coap_server_fuzz ] && extra=(-detect_leaks=0)
  # -rss_limit_mb: ASan's shadow counts; -timeout: one input taking 10 s is a hang.
  if "$TREE/tests/fuzz/$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=4096 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix="$TREE/artifacts/$t-" "${extra[@]}" \
      "$work" "$seeds" >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
  fi
  local execs cov corp
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  corp=$(find "$work" -type f | wc -l)
  printf '%-22s executions %-10s coverage %-6s corpus %-6s %s\n' "$t" "$execs" "$cov" "$corp" "$result"
  if [ "$result" != ok ]; then
    grep -E 'ERROR|SUMMARY|Test unit written|==[0-9]+==' "$log" | head -20 >&2
    return 1
  fi
}
export -f run_one
export TREE SECONDS_EACH
printf '%s\n' "${TARGETS[@]}" | xargs -P "$JOBS" -I{} bash -c 'run_one {}'
