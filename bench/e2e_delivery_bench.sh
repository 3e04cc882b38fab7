#!/usr/bin/env bash
# End-to-end A2P: accept_load POSTs deliver-as-message (unique msgIds, 1 KB, 4 connections x 32
# streams) to UEs routed to an L3G gateway; msgin5gd stores each (fsync before the 200) and forwards
# it to bench/delivery_sink (a gateway answering 204), which measures accept -> delivered latency.
# Then the same at half of the measured rate for latency. Beside it, in the same run: RabbitMQ (a
# quorum queue, publisher confirms, a consumer acking each message; bench/rabbitmq_baseline.sh).
# Usage: bench/e2e_delivery_bench.sh [TOTAL]   (RabbitMQ needs scripts/install-bench-deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
TOTAL=${1:-200000}
SINK=${SINK:-./build/bench/delivery_sink}
ensure_built
[ -x "$SINK" ] || ninja -C build delivery_sink >/dev/null
work=$(mktemp -d)
trap 'kill $SINK_PID 2>/dev/null || true; stop_daemon || true; rm -rf "$work"' EXIT

sink_port=$(free_port)
"$SINK" "$sink_port" 1 &
SINK_PID=$!
sink() { curl -s --http2-prior-knowledge "$@"; }
for _ in $(seq 100); do sink -o /dev/null "http://127.0.0.1:$sink_port/stats" && break; sleep 0.05; done

start_daemon "$work" "$work/data" --set gateways.sink.type=l3g \
  --set gateways.sink.api_root="http://127.0.0.1:$sink_port"
curl -s -o /dev/null --unix-socket "$ADMIN_SOCK" -X PUT -H 'content-type: application/json' \
  -d '{"pattern":"ue-*","gateway":"sink"}' "http://localhost/admin/v1/routing-rules/all"

# run LABEL N [RATE]: sends N, waits until the sink has them all, prints the sink's numbers.
run() {
  local label=$1 n=$2 rate=${3:-0}
  sink -o /dev/null -X POST "http://127.0.0.1:$sink_port/reset"
  local out; out=$(LOAD_STAMP=1 LOAD_RATE=$rate "$LOAD" "http://$SBI/msgs-msgdelivery/v1/deliver-as-message" "$n" 4 32 1024 1000)
  local stats
  for _ in $(seq 1200); do
    stats=$(sink "http://127.0.0.1:$sink_port/stats")
    [ "$(field "$stats" unique)" -ge "$n" ] && break
    sleep 0.05
  done
  printf '%-40s accepted %7s msg/s  delivered %7s msg/s (%s of %s)  accept->delivered p50 %6s us  p99 %6s us\n' \
    "$label" "$(field "$out" rps)" "$(field "$stats" rate)" "$(field "$stats" unique)" "$n" \
    "$(field "$stats" p50_us)" "$(field "$stats" p99_us)"
  echo "$(field "$stats" rate)" > "$work/rate.${label// /_}"
}

echo "machine: $(nproc) cores, $(uname -r); $TOTAL messages, 1 KB, 1000 UEs via one L3G gateway"
run warmup 20000 >/dev/null
run "msgin5gd max" "$TOTAL"
half=$(python3 -c "print(int(float(open('$work/rate.msgin5gd_max').read())/2))")
run "msgin5gd at half: $half per s" "$((TOTAL / 2))" "$half"
echo "delivery: retries $(metric msgin5g_delivery_retries_total), in flight $(metric msgin5g_delivery_in_flight), RSS $(ps -o rss= -p "$DAEMON_PID" | awk '{printf "%.0f MB", $1/1024}')"
stop_daemon

if command -v /usr/lib/rabbitmq/bin/rabbitmq-server >/dev/null 2>&1; then
  rmq_max=$(bench/rabbitmq_baseline.sh "$TOTAL" | tail -1)
  rmq_rate=$(field "$rmq_max" rate)
  rmq_half=$(bench/rabbitmq_baseline.sh "$((TOTAL / 2))" "$(python3 -c "print(int($rmq_rate/2))")" | tail -1)
  printf '%-40s delivered %7s msg/s\n' "RabbitMQ quorum queue max" "$rmq_rate"
  printf '%-40s delivered %7s msg/s  p50 %s ms  p99 %s ms\n' "RabbitMQ at half" \
    "$(field "$rmq_half" rate)" "$(field "$rmq_half" p50_ms)" "$(field "$rmq_half" p99_ms)"
  python3 -c "print('ratio msgin5gd/RabbitMQ end-to-end: %.2f' % (float(open('$work/rate.msgin5gd_max').read())/$rmq_rate))"
else
  echo "RabbitMQ not installed (scripts/install-bench-deps.sh): baseline skipped"
fi
