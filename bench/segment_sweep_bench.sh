#!/usr/bin/env bash
# Timed-out segment sets swept while normal traffic flows. For each N (default 10k, 100k, 300k):
# open N segment sets (segment 1 of 2 each, accept_load LOAD_SEGMENT_SETS=1), then measure paced
# deliver-as-message requests (PROBE_RATE/s, 1 connection x 8 streams) with the N sets open and no
# sweep (the baseline), stop msgin5gd (SIGTERM) and start it again with broker.segment_timeout_ms
# = 1000 so that all N sets are timed out at once: the sweep starts at the first tick and the same
# requests are measured while it runs (the window is where msgin5g_broker_open_segment_sets goes
# from N to 0). For the largest N, a SIGTERM in the middle of the sweep first (exit time, sets left
# for the next start), so its sweep is one resumed after a restart.
# The bounds are raised for the bench (the defaults, 100000 in all and 1000 per originator, would
# refuse most of the sets). Usage: bench/segment_sweep_bench.sh [N...]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(10000 100000 300000)
PROBE_RATE=${PROBE_RATE:-500}
ensure_built
work=$(mktemp -d)
trap 'stop_daemon; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
URL_PATH=/msgs-msgdelivery/v1/deliver-as-message
COMMON=(--set broker.max_open_segment_sets=1000000 --set broker.max_open_segment_sets_per_originator=1000000
        --set coap.segment_recovery_requests=0 --set log.level=info)

# probe LABEL COUNT: paced normal messages; their trace in $work/trace.LABEL.
probe() {
  LOAD_RATE=$PROBE_RATE LOAD_TRACE="$work/trace.$1" "$LOAD" "http://$SBI$URL_PATH" "$2" 1 8 64 1000 "probe-$1-$RANDOM" >/dev/null || true
}

# watch_open OUT: samples the open-set gauge (monotonic ns, value) until it is 0 (or 600 s).
watch_open() {
  python3 - "$METRICS" "$1" <<'PY' &
import sys, time, urllib.request
metrics, out = sys.argv[1], sys.argv[2]
end = time.monotonic() + 600
with open(out, "w") as f:
    while time.monotonic() < end:
        try:
            body = urllib.request.urlopen("http://%s/metrics" % metrics, timeout=5).read().decode()
        except Exception:
            time.sleep(0.01); continue
        v = [l.split()[1] for l in body.splitlines() if l.startswith("msgin5g_broker_open_segment_sets ")]
        t = time.monotonic_ns()
        if v:
            f.write("%d %s\n" % (t, v[0])); f.flush()
            if float(v[0]) == 0: break
        time.sleep(0.01)
PY
  WATCH_PID=$!
}

# stats TRACE [FROM_NS TO_NS]: p50/p99/max of the requests sent in the window (all without one).
stats() {
  python3 - "$@" <<'PY'
import sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
if len(sys.argv) > 3:
    lo, hi = int(sys.argv[2]), int(sys.argv[3])
    rows = [r for r in rows if lo <= r[0] <= hi]
lat = sorted(r[1] for r in rows if 200 <= r[2] < 300)
bad = sum(1 for r in rows if not 200 <= r[2] < 300)
if not lat:
    print("n=0"); sys.exit()
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] / 1000.0
print("n=%d p50=%.1fms p99=%.1fms max=%.1fms errors=%d" % (len(lat), p(0.5), p(0.99), lat[-1] / 1000.0, bad))
PY
}

# sweep_window OPEN_FILE N: first sample below N .. first sample at 0 (monotonic ns).
sweep_window() {
  python3 - "$1" "$2" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
n = float(sys.argv[2])
start = next((int(t) for t, v in rows if float(v) < n), None)
end = next((int(t) for t, v in rows if float(v) == 0), None)
print(start or 0, end or 0)
PY
}

ms_since() { python3 -c "import time;print('%.0f' % ((time.monotonic_ns()-$1)/1e6))"; }
now_ns() { python3 -c "import time;print(time.monotonic_ns())"; }

echo "machine: $(nproc) cores, $(uname -r); probe: deliver-as-message at $PROBE_RATE/s, 1 connection x 8 streams, 64 B payload"
largest=${SIZES[-1]}
for N in "${SIZES[@]}"; do
  rm -rf "$work/data"; : > "$work/msgin5gd.log"
  start_daemon "$work" "$work/data" --set broker.segment_timeout_ms=600000 "${COMMON[@]}"
  out=$(LOAD_SEGMENT_SETS=1 LOAD_ORIGINS=100 "$LOAD" "http://$SBI$URL_PATH" "$N" 4 32 16 1000 "set")
  echo "N=$N: opened $(metric msgin5g_broker_open_segment_sets) sets at $(field "$out" rps)/s"
  probe base $((PROBE_RATE * 4))
  echo "  baseline (N open, no sweep):   $(stats "$work/trace.base")"
  t0=$(now_ns); stop_daemon; echo "  SIGTERM with N open: exited in $(ms_since "$t0") ms"

  if [ "$N" = "$largest" ]; then
    start_daemon "$work" "$work/data" --set broker.segment_timeout_ms=1000 "${COMMON[@]}"
    for _ in $(seq 500); do
      v=$(metric msgin5g_broker_open_segment_sets); [ "$v" -lt "$N" ] && break; sleep 0.01
    done
    t0=$(now_ns); kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || true
    echo "  SIGTERM during the sweep ($v open): exited in $(ms_since "$t0") ms"
  fi

  start_daemon "$work" "$work/data" --set broker.segment_timeout_ms=1000 "${COMMON[@]}"
  left=$(metric msgin5g_broker_open_segment_sets)
  watch_open "$work/open"
  probe sweep $((PROBE_RATE * (3 + N / 40000)))
  wait "$WATCH_PID" || true
  read -r from to < <(sweep_window "$work/open" "$left")
  echo "  restart: $(grep -o 'recovered in [0-9]* ms' "$work/msgin5gd.log" | tail -1), $left open sets, all timed out"
  echo "  sweep: $(grep -o 'dropped [0-9]* timed-out segment sets in [0-9]* slices ([0-9]* ms)' "$work/msgin5gd.log" | tail -1)"
  if [ "$from" != 0 ] && [ "$to" != 0 ]; then
    echo "  during the sweep ($(( (to - from) / 1000000 )) ms seen): $(stats "$work/trace.sweep" "$from" "$to")"
  else
    echo "  during the sweep:              (window not seen)"
  fi
  echo "  whole probe run:               $(stats "$work/trace.sweep")"
  stop_daemon
done
