#!/usr/bin/env bash
# The attack report's flood: unique msgIds to offline UEs for SECONDS (default 60) against the real
# msgin5gd, as fast as accept_load goes (4 connections x 32 streams, 256-byte payloads). Prints the
# answers (200 DELY_STORED, 200 DELY_FAILED QUEUE_FULL, 503), what is queued and the daemon's RSS
# before and after, in two runs:
#   1. the default bounds, UES (default 1000) UEs: each UE's queue fills (1000 messages), then
#      DELY_FAILED QUEUE_FULL;
#   2. broker.max_queued_messages=TOTAL (default 500000) and 1,000,000 UEs: the total bound fills,
#      then 503 NF_CONGESTION + Retry-After.
# Usage: bench/flood_bench.sh [SECONDS] [UES] [TOTAL]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SECONDS_=${1:-60}
UES=${2:-1000}
TOTAL=${3:-500000}
ensure_built
work=$(mktemp -d)
trap 'stop_daemon; rm -rf "$work"' EXIT

rss() { awk '/VmRSS/{print int($2/1024)}' "/proc/$DAEMON_PID/status"; }
sample() {  # sample SERIES: one series' value on /metrics
  curl -s "http://$METRICS/metrics" | awk -v s="$1" '$1 == s {printf "%.0f", $2; f=1} END {if (!f) print 0}'
}

run() {  # run LABEL UES [--set k=v ...]
  local label=$1 ues=$2
  shift 2
  rm -rf "$work/data"
  start_daemon "$work" "$work/data" "$@"
  local before after
  before=$(rss)
  # accept_load runs for SECONDS_ (it would send 100M); its own summary is lost, the daemon counts.
  LOAD_RATE=0 timeout -s INT "$SECONDS_" "$LOAD" "http://$SBI/msgs-msgdelivery/v1/deliver-as-message" \
    100000000 4 32 256 "$ues" "flood-$label" >/dev/null 2>&1 || true
  after=$(rss)
  local op='operation="msgs-msgdelivery.deliver-as-message"'
  local ok=$(sample "msgin5g_api_requests_total{code=\"200\",listener=\"sbi\",$op}")
  local busy=$(sample "msgin5g_api_requests_total{code=\"503\",listener=\"sbi\",$op}")
  local acc='msgin5g_broker_accepted_messages_total{dest_type="UE",operation="deliver-as-message"'
  local stored=$(sample "$acc,outcome=\"DELY_STORED\"}")
  local failed=$(sample "$acc,outcome=\"DELY_FAILED\"}")
  local queued=$(sample 'msgin5g_broker_usage{bound="queued_messages"}')
  local recips=$(sample 'msgin5g_broker_queued_recipients')
  stop_daemon
  local disk=$(du -sm "$work/data" | cut -f1)
  echo "$label: ${SECONDS_} s to $ues UEs: 200=$ok (DELY_STORED $stored, DELY_FAILED $failed) 503=$busy;" \
       "queued $queued for $recips UEs; RSS $before -> $after MB; data ${disk} MB"
}

run defaults "$UES"
run total-bound 1000000 --set broker.max_queued_messages="$TOTAL"
