#!/usr/bin/env bash
# Durable accept: deliver-as-message with unique msgIds (1 KB payload, 4 connections x 32 streams),
# acknowledged only after the group-commit batch is fsync'd; then the same with storage.sync=false
# (what durability costs); beside nghttpd answering a trivial POST, driven by the same load
# generator in the same run. Usage: bench/durable_accept_bench.sh [TOTAL]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
TOTAL=${1:-200000}
ensure_built
work=$(mktemp -d)
trap 'kill $NG_PID 2>/dev/null || true; stop_daemon || true; rm -rf "$work"' EXIT
NG_PID=

run_msgin5gd() { # label, extra args...
  local label=$1
  shift
  rm -rf "$work/data"
  start_daemon "$work" "$work/data" "$@"
  "$LOAD" "http://$SBI/msgs-msgdelivery/v1/deliver-as-message" 20000 4 32 1024 1000 warm >/dev/null
  local out; out=$("$LOAD" "http://$SBI/msgs-msgdelivery/v1/deliver-as-message" "$TOTAL" 4 32 1024 1000)
  local ops count; ops=$(metric msgin5g_storage_batch_operations_sum); count=$(metric msgin5g_storage_batch_operations_count)
  local fsync_sum; fsync_sum=$(curl -s "http://$METRICS/metrics" | awk '$1=="msgin5g_storage_sync_seconds_sum"{print $2}')
  stop_daemon
  printf '%-34s %8s msg/s  p50 %6s us  p99 %6s us  mean batch %5.1f ops  mean write+fsync %6.0f us\n' \
    "$label" "$(field "$out" rps)" "$(field "$out" p50_us)" "$(field "$out" p99_us)" \
    "$(python3 -c "print($ops/max($count,1))")" "$(python3 -c "print(1e6*$fsync_sum/max($count,1))")"
  echo "$(field "$out" rps)" > "$work/rps.$label"
}

echo "machine: $(nproc) cores, $(uname -r); accept_load $TOTAL requests, 4 connections x 32 streams, 1 KB payload, 1000 UEs"
run_msgin5gd "msgin5gd sync=true (durable)"
run_msgin5gd "msgin5gd sync=false" --set storage.sync=false

mkdir -p "$work/docroot"
echo '{"oriAddr":{"addrType":"AS","addr":"bench-as"},"msgId":"x","status":"DELY_STORED"}' > "$work/docroot/ack"
port=$(free_port)
nghttpd --no-tls -n 1 -d "$work/docroot" --address=127.0.0.1 "$port" >/dev/null 2>&1 &
NG_PID=$!
for _ in $(seq 100); do curl -s --http2-prior-knowledge -o /dev/null "http://127.0.0.1:$port/ack" && break; sleep 0.05; done
"$LOAD" "http://127.0.0.1:$port/ack" 20000 4 32 1024 >/dev/null
out=$("$LOAD" "http://127.0.0.1:$port/ack" "$TOTAL" 4 32 1024)
printf '%-34s %8s msg/s  p50 %6s us  p99 %6s us\n' "nghttpd trivial POST (baseline)" \
  "$(field "$out" rps)" "$(field "$out" p50_us)" "$(field "$out" p99_us)"
python3 - "$work" "$(field "$out" rps)" <<'PY'
import sys, glob
work, base = sys.argv[1], float(sys.argv[2])
durable = float(open(glob.glob(work + "/rps.msgin5gd sync=true*")[0]).read())
fast = float(open(glob.glob(work + "/rps.msgin5gd sync=false")[0]).read())
print("ratio durable/nghttpd: %.2f   ratio durable/sync=false: %.2f" % (durable / base, durable / fast))
PY
