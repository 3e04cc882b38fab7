#!/usr/bin/env bash
# 10,000 sleeping UEs wake once and drain (issue "MSGin5G-1"): an AS stores PER_UE messages for
# each of UES UEs that are not registered (so every message is parked), then msgin5g-ue's load
# swarm mode wakes every UE once (REG from its own source address, 16 at a time) and counts what
# arrives. Prints delivered msgs/s, p50/p99 time from a UE's REG to its last message, and
# msgin5gd's RSS (per UE too). SIM=swarm (default) simulates the UEs on our own CoAP codec over a
# few sockets (any number of UEs, a simulator cost flat in their number); SIM=load uses the older
# libcoap simulator, one socket and one libcoap session per UE (at most the file limit).
# Then, with msgin5gd stopped (the two must not share the 2 cores), the same scenario on Mosquitto
# with persistent MQTT sessions (bench/mosquitto_ue_baseline.sh), if it is installed.
# Usage: [SIM=swarm|load] [ENGINE=msgin5g|libcoap] bench/coap_ue_bench.sh [UES] [PER_UE] [PAYLOAD_BYTES]   (defaults 10000 2 100)
set -euo pipefail
cd "$(dirname "$0")/.."
UES=${1:-10000}
PER=${2:-2}
BYTES=${3:-100}
SIM=${SIM:-swarm}
ENGINE=${ENGINE:-msgin5g}  # coap.udp_engine: msgin5g (our own datagram loop) or libcoap
source bench/lib.sh
ensure_built
UE_TOOL=./build/tools/msgin5g-ue
[ -x "$UE_TOOL" ] || ninja -C build msgin5g-ue >/dev/null

work=$(mktemp -d)
cleanup() { kill "${DAEMON_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

rss_mb() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$DAEMON_PID/status"; }

start_daemon "$work" "$work/data" --set api.threads=1 --set coap.udp_engine="$ENGINE"
rss_idle=$(rss_mb)
coap_port=$(python3 -c "import json;print(json.load(open('$work/ready.json'))['coap_port'])")
total=$((UES * PER))
echo "storing $total messages for $UES sleeping UEs..."
"$LOAD" "http://$SBI/msgs-msgdelivery/v1/deliver-as-message" "$total" 4 32 "$BYTES" "$UES" bench \
  > "$work/load.out"
for _ in $(seq 600); do
  [ "$(metric 'msgin5g_delivery_pending_entries{state="unrouted"}')" -ge "$total" ] && break
  sleep 0.1
done
rss_before=$(rss_mb)
"$UE_TOOL" "$SIM" --server "127.0.0.1:$coap_port" --ues "$UES" --expect "$PER" --seconds 30 \
  --prefix ue- > "$work/ue.out" || true
rss_after=$(rss_mb)
# The delivered outcomes are written after the UEs' answers: give them a moment to land.
for _ in $(seq 50); do
  [ "$(metric msgin5g_delivery_pending_entries)" -eq 0 ] && break
  sleep 0.1
done
pending=$(metric msgin5g_delivery_pending_entries)
stop_daemon
DAEMON_PID=  # so that the exit trap does not signal a pid that may have been reused
echo "machine: $(nproc) cores; $UES UEs x $PER messages of $BYTES bytes; msgin5gd api.threads=1, coap.udp_engine=$ENGINE; simulator: msgin5g-ue $SIM"
echo "store (accept_load): $(cat "$work/load.out")"
echo "wake and drain (msgin5g-ue $SIM): $(cat "$work/ue.out")"
echo "msgin5gd RSS: ${rss_idle} MB idle, ${rss_before} MB with everything parked, ${rss_after} MB after the drain; per UE over idle: $(( ((rss_before - rss_idle) * 1048576) / UES )) bytes parked, $(( ((rss_after - rss_idle) * 1048576) / UES )) bytes after the drain (every UE awake); entries still pending: $pending"

if [ -x /usr/sbin/mosquitto ]; then
  echo "baseline, same UEs and messages:"
  bench/mosquitto_ue_baseline.sh "$UES" "$PER" "$BYTES" || echo "baseline failed (exit $?)"
else
  echo "baseline skipped: mosquitto not installed (scripts/install-bench-deps.sh)"
fi
