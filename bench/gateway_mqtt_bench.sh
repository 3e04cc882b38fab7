#!/usr/bin/env bash
# MQTT gateway (N3G role) end to end, beside a direct QoS 1 publish to the same kind of broker, in
# the same run:
#
#   ours:   AS (bench/accept_load, HTTP/2, unique msgIds, CONC connections x STREAMS streams) ->
#           msgin5gd deliver-as-message (stored, fsync, 200) -> msgin5g-gatewayd
#           /msgg-n3gdelivery/v1/deliver-message (stored, fsync, 204) -> QoS 1 PUBLISH of the
#           UEMessageDelivery JSON to msgin5g/ue-K/down (K over UES devices) -> PUBACK -> the job
#           leaves the gateway's store -> the broker -> the device.
#   direct: mosquitto_pub -l -q 1 -M INFLIGHT reading N lines from stdin (JSON of the same shape
#           and size, one topic), one process, one connection, INFLIGHT QoS 1 publishes awaiting
#           PUBACK at a time (the gateway's mqtt.max_in_flight default is 100 too).
#
# The device on both sides: one mosquitto_sub (QoS 1, msgin5g/+/down, -C N, -F '%U %p': the
# receive time with ns, then the payload), which stands for all UES devices. Printed per side:
#   rate       N / (start of sending -> last message at the device)    (the headline)
#   window     (N-1) / (first -> last message at the device)           (without the pipeline fill)
#   accepted   (ours) the AS's submit rate as accept_load measured it
#   unique     distinct msgIds the device got (must be N: nothing lost, no duplicate counted)
#   cpu        CPU seconds of each process over the measured run (what bounds it)
# and ours/direct. No delivery reports (accept_load sets no delivStReqInd), so the gateway sends
# nothing back up. A warm-up of WARMUP messages runs first on each fresh side; each run starts
# every process anew on new data directories and a new broker.
#
# Usage: bench/gateway_mqtt_bench.sh [N=20000] [RUNS=2]
# Env: BYTES=200 (payload) UES=1000 CONC=4 STREAMS=32 INFLIGHT=100 WARMUP=2000
#      SIDES="direct ours" KEEP=1 (keep the temp dir: logs, configs, device output)
#      DAEMON_SET="--set k=v ..." / GW_SET="--set k=v ..." (experiments: printed when set)
# Needs: /usr/sbin/mosquitto, mosquitto_sub, mosquitto_pub (Debian mosquitto, mosquitto-clients);
# build/daemon/msgin5gd, build/gateway/msgin5g-gatewayd, build/bench/accept_load (built here if
# missing).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
N=${1:-20000}
RUNS=${2:-2}
BYTES=${BYTES:-200}
UES=${UES:-1000}
CONC=${CONC:-4}
STREAMS=${STREAMS:-32}
INFLIGHT=${INFLIGHT:-100}
WARMUP=${WARMUP:-2000}
SIDES=${SIDES:-"direct ours"}
DAEMON_SET=${DAEMON_SET:-}  # more "--set k=v" for msgin5gd (experiments)
GW_SET=${GW_SET:-}          # more "--set k=v" for the gateway
GW=${GW:-./build/gateway/msgin5g-gatewayd}
MOSQUITTO=/usr/sbin/mosquitto
[ -x "$MOSQUITTO" ] && command -v mosquitto_sub >/dev/null && command -v mosquitto_pub >/dev/null ||
  { echo "mosquitto / mosquitto-clients missing: run scripts/install-bench-deps.sh" >&2; exit 1; }
if [ ! -x "$BIN" ] || [ ! -x "$GW" ] || [ ! -x "$LOAD" ]; then
  flock /tmp/msgin5g-build.lock ninja -C build -j2 msgin5gd msgin5g-gatewayd accept_load >/dev/null
fi

work=$(mktemp -d)
# Copies, so that a rebuild during the run (other engineers share the tree) changes nothing here.
mkdir -p "$work/bin"
cp "$BIN" "$work/bin/msgin5gd"
cp "$GW" "$work/bin/msgin5g-gatewayd"
cp "$LOAD" "$work/bin/accept_load"
BIN=$work/bin/msgin5gd
GW=$work/bin/msgin5g-gatewayd
LOAD=$work/bin/accept_load

PIDS=()  # every process this script started and still runs
DAEMON_PID=
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "$DAEMON_PID" ] && { kill -TERM "$DAEMON_PID" 2>/dev/null || true; wait "$DAEMON_PID" 2>/dev/null || true; }
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
forget() { local p=$1 keep=(); for q in "${PIDS[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done; PIDS=("${keep[@]}"); }
stop_pid() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; forget "$1"; }
now() { date +%s.%N; }
# CPU seconds (user + system) a process has used so far; nothing when it is gone.
CLK_TCK=$(getconf CLK_TCK)
cpu_s() { awk -v t="$CLK_TCK" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat" 2>/dev/null || true; }
# The CPU seconds of the processes a subshell ran, from the `times` it printed to FILE when they
# had exited (its second line: children's user and system time). The short-lived processes
# (load, publisher, device) are run that way, so that nothing polls /proc while they work: the
# earlier polling every 20 ms spawned an awk and a getconf twice each time, 4-8% of the 2 cores
# during a run, taken from whichever side was CPU-bound.
times_s() {
  [ -s "$1" ] || { echo 0; return 0; }
  sed -n 2p "$1" | tr 'ms' '  ' | awk '{printf "%.2f", $1 * 60 + $2 + $3 * 60 + $4}'
}
# timed TIMES_FILE COMMAND...: in a subshell, runs COMMAND (stdin passed on), then writes its
# `times` to TIMES_FILE; exits with COMMAND's status; a TERM (cleanup) is passed on to COMMAND.
timed() {
  local f=$1
  shift
  set +e
  "$@" <&0 &
  local c=$!
  trap 'kill -TERM $c 2>/dev/null' TERM
  wait "$c"
  local rc=$?
  [ "$rc" -gt 128 ] && wait "$c"
  times >"$f"
  exit "$rc"
}

# start_broker DIR: a private mosquitto (nothing from /etc/mosquitto), sets BROKER_PORT, BROKER_PID.
# - no persistence: neither side asks the broker to keep anything across its restart here;
# - max_queued_messages 0 (no limit): a device that falls behind must not lose messages (the
#   default, 1000 per session, silently drops beyond it and -C N would never end);
# - max_inflight_messages 20 (the default) towards the device, the same for both sides;
# - user: as root mosquitto would switch to the mosquitto user.
start_broker() {
  local dir=$1
  mkdir -p "$dir"
  BROKER_PORT=$(free_port)
  cat >"$dir/mosquitto.conf" <<EOF
listener $BROKER_PORT 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
max_inflight_messages 20
set_tcp_nodelay true
user $(id -un)
log_dest file $dir/mosquitto.log
log_type error
log_type warning
connection_messages false
EOF
  "$MOSQUITTO" -c "$dir/mosquitto.conf" >"$dir/mosquitto.out" 2>&1 &
  BROKER_PID=$!
  PIDS+=("$BROKER_PID")
  for _ in $(seq 200); do
    [ -n "$(ss -Hltn "sport = :$BROKER_PORT")" ] && return 0
    kill -0 "$BROKER_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "mosquitto did not start:" >&2; cat "$dir/mosquitto.out" "$dir/mosquitto.log" >&2 2>/dev/null; exit 1
}

# start_device COUNT OUT: one mosquitto_sub for every device (msgin5g/+/down, QoS 1) that exits
# after COUNT messages; waits for its SUBACK. Sets DEVICE_PID.
start_device() {
  local count=$1 out=$2
  ( timed "$out.times" stdbuf -oL mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 \
      -i "bench-device-$RANDOM" -d -t 'msgin5g/+/down' -C "$count" -F '%U %p' ) >"$out" 2>&1 &
  DEVICE_PID=$!
  DEVICE_CPU=0
  PIDS+=("$DEVICE_PID")
  for _ in $(seq 200); do grep -qs 'received SUBACK' "$out" && return 0; sleep 0.025; done
  echo "device did not subscribe:" >&2; cat "$out" >&2; exit 1
}

# wait_device OUT TIMEOUT_S: waits for the device to have its COUNT messages.
# Sets DEVICE_CPU: the device's CPU seconds over its whole life (it only subscribed before).
wait_device() {
  local out=$1 limit=$2 i=0
  while kill -0 "$DEVICE_PID" 2>/dev/null; do
    i=$((i + 1))
    if [ "$i" -gt $((limit * 20)) ]; then
      echo "device: only $(grep -sc '^[0-9]' "$out") messages after ${limit}s" >&2
      stop_pid "$DEVICE_PID"
      return 1
    fi
    sleep 0.05
  done
  wait "$DEVICE_PID" 2>/dev/null || true
  forget "$DEVICE_PID"
  DEVICE_CPU=$(times_s "$out.times")
}

# measure OUT T0: "rate=.. window=.. received=.. unique=.." from the device's output.
measure() {
  local out=$1 t0=$2
  local unique; unique=$(grep '^[0-9]' "$out" | grep -o '"msgId":"[^"]*"' | sort -u | wc -l)
  grep '^[0-9]' "$out" | awk -v t0="$t0" -v u="$unique" '
    NR == 1 {f = $1} {l = $1}
    END {printf "rate=%.0f window=%.0f received=%d unique=%d span=%.3f\n",
         NR / (l - t0), (NR > 1 ? (NR - 1) / (l - f) : 0), NR, u, l - t0}'
}

# direct_lines COUNT PREFIX FILE: COUNT lines of JSON shaped and sized like the gateway's
# UEMessageDelivery (oriAddr, destAddr, msgId, payload of BYTES bytes).
direct_lines() {
  awk -v n="$1" -v pre="$2" -v b="$BYTES" -v ues="$UES" 'BEGIN {
    p = sprintf("%" b "s", ""); gsub(/ /, "p", p)
    for (i = 0; i < n; i++)
      printf "{\"oriAddr\":{\"addrType\":\"AS\",\"addr\":\"bench-as\"},\"destAddr\":{\"addrType\":\"UE\",\"addr\":\"ue-%d\"},\"msgId\":\"%s-%d\",\"payload\":\"%s\"}\n", i % ues, pre, i, p
  }' >"$3"
}

run_direct() {
  local run=$1 dir=$work/direct-$run
  start_broker "$dir"
  direct_lines "$WARMUP" "w$run" "$dir/warmup.txt"
  direct_lines "$N" "d$run" "$dir/lines.txt"
  start_device "$WARMUP" "$dir/warmup.out"
  mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -M "$INFLIGHT" -l -t msgin5g/ue-0/down <"$dir/warmup.txt"
  wait_device "$dir/warmup.out" 60
  start_device "$N" "$dir/device.out"
  local c_b t0
  c_b=$(cpu_s "$BROKER_PID")
  t0=$(now)
  ( timed "$dir/pub.times" mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -M "$INFLIGHT" -l \
      -t msgin5g/ue-0/down ) <"$dir/lines.txt" &
  local pub=$!
  PIDS+=("$pub")
  wait "$pub" 2>/dev/null || true
  forget "$pub"
  local c_p; c_p=$(times_s "$dir/pub.times")
  wait_device "$dir/device.out" 300
  local dev_cpu=$DEVICE_CPU
  local m; m=$(measure "$dir/device.out" "$t0")
  printf '%-8s run %s  rate %6s msg/s  window %6s msg/s  received %s unique %s  cpu: mosquitto %ss mosquitto_pub %ss mosquitto_sub %ss\n' \
    direct "$run" "$(field "$m" rate)" "$(field "$m" window)" "$(field "$m" received)" "$(field "$m" unique)" \
    "$(python3 -c "print('%.2f' % ($(cpu_s "$BROKER_PID") - $c_b))")" "$c_p" "$dev_cpu"
  echo "$(field "$m" rate) $(field "$m" window)" >"$work/rate.direct.$run"
  stop_pid "$BROKER_PID"
}

run_ours() {
  local run=$1 dir=$work/ours-$run
  start_broker "$dir"
  local gw_port; gw_port=$(free_port)
  # shellcheck disable=SC2086
  start_daemon "$dir" "$dir/server-data" --set gateways.mqtt-1.type=n3g \
    --set gateways.mqtt-1.api_root="http://127.0.0.1:$gw_port" $DAEMON_SET
  curl -s -o /dev/null --unix-socket "$ADMIN_SOCK" -X PUT -H 'content-type: application/json' \
    -d '{"pattern":"ue-*","gateway":"mqtt-1"}' "http://localhost/admin/v1/routing-rules/all"
  cat >"$dir/gateway.toml" <<EOF
[server]
api_root = "http://$SBI"

[mqtt]
host = "127.0.0.1"
port = $BROKER_PORT
client_id = "msgin5g-gatewayd-bench"
max_in_flight = $INFLIGHT

[n3g]
enabled = true

[log]
level = "warn"
EOF
  "$GW" --config "$dir/gateway.toml" --set api.listen="127.0.0.1:$gw_port" \
    --set metrics.listen=127.0.0.1:0 --set admin.listen=127.0.0.1:0 \
    --set storage.path="$dir/gateway-data" --ready-file "$dir/gw-ready.json" $GW_SET \
    >"$dir/gateway.log" 2>&1 &
  local gw_pid=$!
  PIDS+=("$gw_pid")
  for _ in $(seq 600); do [ -s "$dir/gw-ready.json" ] && break; sleep 0.05; done
  local gw_metrics; gw_metrics=$(python3 -c "import json;print(json.load(open('$dir/gw-ready.json'))['metrics'])")
  for _ in $(seq 400); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$gw_metrics/readyz")" = 200 ] && break
    sleep 0.05
  done
  # gmetric SERIES: the value of one series of the gateway (name with its labels, exactly).
  gmetric() {
    curl -s "http://$gw_metrics/metrics" | awk -v n="$1" '$1 == n {printf "%.0f", $2; f = 1} END {if (!f) printf "0"}'
  }

  start_device "$WARMUP" "$dir/warmup.out"
  "$LOAD" "http://$SBI/msgs-msgdelivery/v1/deliver-as-message" "$WARMUP" "$CONC" "$STREAMS" "$BYTES" "$UES" "w$run" >/dev/null
  wait_device "$dir/warmup.out" 120
  start_device "$N" "$dir/device.out"
  local c_b c_s c_g t0 syncs0 dsyncs0
  c_b=$(cpu_s "$BROKER_PID"); c_s=$(cpu_s "$DAEMON_PID"); c_g=$(cpu_s "$gw_pid")
  syncs0=$(gmetric msgin5g_gateway_storage_syncs_total)
  t0=$(now)
  ( timed "$dir/load.times" "$LOAD" "http://$SBI/msgs-msgdelivery/v1/deliver-as-message" "$N" \
      "$CONC" "$STREAMS" "$BYTES" "$UES" "r$run" ) >"$dir/load.out" &
  local load_pid=$!
  PIDS+=("$load_pid")
  wait "$load_pid" || { echo "accept_load failed" >&2; cat "$dir/load.out" >&2; }
  forget "$load_pid"
  local c_l; c_l=$(times_s "$dir/load.times")
  local out; out=$(cat "$dir/load.out")
  wait_device "$dir/device.out" 300 || true
  local dev_cpu=$DEVICE_CPU
  local m; m=$(measure "$dir/device.out" "$t0")
  sleep 1.1  # the gateway's metrics are refreshed once a second
  local syncs1; syncs1=$(gmetric msgin5g_gateway_storage_syncs_total)
  printf '%-8s run %s  rate %6s msg/s  window %6s msg/s  received %s unique %s  accepted %s msg/s (p50 %s us p99 %s us)\n' \
    ours "$run" "$(field "$m" rate)" "$(field "$m" window)" "$(field "$m" received)" "$(field "$m" unique)" \
    "$(field "$out" rps)" "$(field "$out" p50_us)" "$(field "$out" p99_us)"
  printf '         cpu over %ss: msgin5gd %ss  gatewayd %ss  mosquitto %ss  accept_load %ss  mosquitto_sub %ss;  gateway fsyncs %s (%s msgs each), publishes %s, retries to gateway %s\n' \
    "$(field "$m" span)" \
    "$(python3 -c "print('%.2f' % ($(cpu_s "$DAEMON_PID") - $c_s))")" \
    "$(python3 -c "print('%.2f' % ($(cpu_s "$gw_pid") - $c_g))")" \
    "$(python3 -c "print('%.2f' % ($(cpu_s "$BROKER_PID") - $c_b))")" "$c_l" "$dev_cpu" \
    "$((syncs1 - syncs0))" "$(python3 -c "d=$syncs1-$syncs0; print('%.1f' % ($N/d) if d else '-')")" \
    "$(gmetric 'msgin5g_gateway_n3g_total{outcome="published"}')" "$(metric msgin5g_delivery_retries_total)"
  echo "$(field "$m" rate) $(field "$m" window)" >"$work/rate.ours.$run"
  stop_pid "$gw_pid"
  stop_daemon
  DAEMON_PID=
  stop_pid "$BROKER_PID"
}

echo "machine: $(nproc) cores, $(uname -r); mosquitto $(dpkg-query -W -f='${Version}' mosquitto 2>/dev/null || echo '?');" \
  "$N messages of $BYTES bytes to $UES devices, $INFLIGHT QoS 1 in flight; AS $CONC x $STREAMS streams"
[ -n "$DAEMON_SET$GW_SET" ] && echo "experiment: msgin5gd $DAEMON_SET; gateway $GW_SET"
for run in $(seq "$RUNS"); do
  for side in $SIDES; do "run_$side" "$run"; done
  if [ -f "$work/rate.direct.$run" ] && [ -f "$work/rate.ours.$run" ]; then
    read -r o_rate o_win <"$work/rate.ours.$run"
    read -r d_rate d_win <"$work/rate.direct.$run"
    python3 -c "print('run $run: ours/direct = %.2f by rate, %.2f by window (goal >= 0.5)' % ($o_rate/$d_rate, $o_win/$d_win))"
  fi
done
