#!/usr/bin/env bash
# SMS gateway end to end, beside Kannel 1.4.5, in the same run, against the same fake SMSC
# (tests/support/smsc/fake_smsc.js, receipts at once: receipt_delay_ms 0):
#
#   ours:   AS (bench/gateway_sms/load.js, HTTP/2) -> msgin5gd deliver-as-message (stored, fsync)
#           -> msgin5g-gatewayd deliver-message (stored, fsync) -> submit_sm -> SMSC receipt
#           deliver_sm -> gateway (stored, fsync, then deliver_sm_resp) -> msgin5gd deliver-report
#           (stored, fsync) -> the AS's /deliver-report.
#   Kannel: the same load.js as HTTP/1.1 client of smsbox's /cgi-bin/sendsms (dlr-mask=3) ->
#           bearerbox (store-type file: fflush, no fsync) -> submit_sm -> receipt deliver_sm ->
#           bearerbox (dlr-storage internal, in memory) -> smsbox -> the dlr-url callback.
#
# Per side and run: N messages, 1 SMS part each (GSM 7-bit text), UES recipients, CONC requests in
# flight from the application, an SMPP window of WINDOW on both ESMEs. Printed per side:
#   accepted   msgs/s of the application's submits answered 2xx (HTTP 200/202)
#   done in    first submit -> last receipt at the application (AS deliver-report / dlr-url)
#   e2e        N / done in
#   smsc       what the SMSC saw: submit_sm accepted, first submit_sm -> last receipt acked
#              (deliver_sm_resp OK) and that rate, per message submit_sm -> receipt acked p50/p99
#   app        per message submit request -> receipt at the application p50/p99
# and our/Kannel ratios. A warm-up of WARMUP messages runs first on each fresh side; each run
# starts every process anew on new data directories.
#
# Then, on the same processes, LAT_N messages paced at LAT_RATE/s (below both sides' maximum), for
# latency without a queue in front.
#
# Usage: bench/gateway_sms_bench.sh [N=20000] [RUNS=2]
# Env: CONC=64 UES=1000 WINDOW=100 WARMUP=2000 LAT_RATE=1000 LAT_N=N/4 SIDES="ours kannel"
#      KANNEL_STORE=file|spool|none; STRACE=1: count each box's sync calls and writes (strace
#      slows the boxes: numbers of such a run are not valid); KEEP=1 keeps the temp dir (logs,
#      SMSC events, configs)
#      SMSC_ONLY=1: measure only the fake SMSC's own ceiling (bench/gateway_sms/smsc_ceiling.js).
# Needs: build/daemon/msgin5gd, build/gateway/msgin5g-gatewayd (built here if missing),
# scripts/install-deps.sh (node + tests/support/smsc/node_modules), scripts/install-bench-deps.sh
# (kannel).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
N=${1:-20000}
RUNS=${2:-2}
CONC=${CONC:-64}
UES=${UES:-1000}
WINDOW=${WINDOW:-100}
WARMUP=${WARMUP:-2000}
KANNEL_STORE=${KANNEL_STORE:-file}
LAT_RATE=${LAT_RATE:-1000}
LAT_N=${LAT_N:-$((N / 4))}
SIDES=${SIDES:-"ours kannel"}
GW=${GW:-./build/gateway/msgin5g-gatewayd}
SMSC_JS=tests/support/smsc/fake_smsc.js
HERE=bench/gateway_sms

if [ ! -x "$BIN" ] || [ ! -x "$GW" ]; then
  flock /tmp/msgin5g-build.lock ninja -C build -j2 msgin5gd msgin5g-gatewayd >/dev/null
fi
[ -d tests/support/smsc/node_modules/smpp ] || { echo "no tests/support/smsc/node_modules: run scripts/install-deps.sh" >&2; exit 1; }
command -v node >/dev/null || { echo "node missing: scripts/install-deps.sh" >&2; exit 1; }

work=$(mktemp -d)
# Copies, so that a rebuild during the run (other engineers share the tree) changes nothing here.
cp "$BIN" "$work/msgin5gd"
cp "$GW" "$work/msgin5g-gatewayd"
echo "binaries: msgin5gd $(stat -c %y "$BIN" | cut -d. -f1), gatewayd $(stat -c %y "$GW" | cut -d. -f1), tree $(git rev-parse --short HEAD)"
BIN=$work/msgin5gd
GW=$work/msgin5g-gatewayd
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ]; then echo "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

wait_for() {  # wait_for SECONDS CMD...: until CMD succeeds
  local n=$(( $1 * 20 ))
  shift
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "timed out waiting for: $*" >&2
  return 1
}

# start_smsc DIR: a fake SMSC with its events in DIR/smsc.events; sets SMSC_PORT, SMSC_PID.
start_smsc() {
  local dir=$1
  mkfifo "$dir/smsc.in"
  node "$SMSC_JS" --port 0 --system_id msgin5g --password secret --receipt_delay_ms 0 \
    <"$dir/smsc.in" >"$dir/smsc.events" 2>"$dir/smsc.err" &
  SMSC_PID=$!
  PIDS+=("$SMSC_PID")
  exec {SMSC_FD}>"$dir/smsc.in"  # keeps its stdin open; closed by stop_smsc
  wait_for 10 grep -q '"event":"listening"' "$dir/smsc.events"
  SMSC_PORT=$(head -1 "$dir/smsc.events" | python3 -c 'import json,sys;print(json.load(sys.stdin)["port"])')
}
stop_smsc() { exec {SMSC_FD}>&-; wait "$SMSC_PID" 2>/dev/null || true; }

# cpu_s PID...: CPU seconds (user + system) each process has used so far, space-separated.
cpu_s() {
  local p
  for p in "$@"; do awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f ", ($14 + $15) / hz}' "/proc/$p/stat"; done
}
# cpu_delta "BEFORE" "AFTER" NAMES...: "name 1.23 s, ..." of the differences.
cpu_delta() {
  local -a b a labels
  read -r -a b <<< "$1"
  read -r -a a <<< "$2"
  shift 2
  labels=("$@")
  local i out=""
  for ((i = 0; i < ${#labels[@]}; i++)); do
    out+="${labels[$i]} $(awk -v x="${b[$i]}" -v y="${a[$i]}" 'BEGIN{printf "%.1f", y - x}') s, "
  done
  echo "${out%, }"
}

# With STRACE=1: strace_start NAME PID attaches strace (all threads) counting the sync calls,
# strace_stop prints the counts. Only to check what each side syncs: ptrace slows every syscall,
# so the run's numbers are not valid then.
STRACES=()
strace_start() {
  [ "${STRACE:-0}" = 1 ] || return 0
  local name=$1 pid=$2 args=() t
  for t in /proc/"$pid"/task/*; do args+=(-p "${t##*/}"); done
  strace -f -c -e trace=fsync,fdatasync,sync_file_range,msync,sync,syncfs,write -o "$work/strace.$name" "${args[@]}" 2>/dev/null &
  STRACES+=("$!:$name")
  sleep 0.5
}
strace_stop() {
  [ "${STRACE:-0}" = 1 ] || return 0
  local e
  for e in "${STRACES[@]}"; do kill -INT "${e%%:*}" 2>/dev/null || true; wait "${e%%:*}" 2>/dev/null || true; done
  for e in "${STRACES[@]}"; do
    echo "    strace ${e#*:} (sync calls and writes, sockets included): $(awk '$NF ~ /^(fsync|fdatasync|sync_file_range|msync|sync|syncfs|write)$/ {printf "%s %s, ", $NF, $4}' "$work/strace.${e#*:}")"
  done
  STRACES=()
}

# busy_s: CPU seconds the whole machine has been busy (all cores, /proc/stat; idle and iowait out).
busy_s() { awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" {printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / hz}' /proc/stat; }

stop_pid() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# smsc_since DIR LINE: the events after line LINE (the measured run, not the warm-up).
smsc_stats() { tail -n +"$(( $2 + 1 ))" "$1/smsc.events" > "$1/run.events"; node "$HERE/smsc_stats.js" "$1/run.events"; }

# wait_receipts DIR COUNT: until the SMSC has COUNT receipts acked in all (warm-up included).
wait_receipts() {
  local dir=$1 want=$2
  for _ in $(seq 1200); do
    [ "$(grep -c '"event":"deliver_sm_resp","t_ms":[0-9]*,"status":0' "$dir/smsc.events" || true)" -ge "$want" ] && return 0
    sleep 0.1
  done
  return 1
}

# start_load DIR MODE URL_BASE: bench/gateway_sms/load.js for this side (stays up for all its
# phases, it is also the receiver of the receipts); sets LOAD_PID, LOAD_FD.
start_load() {
  local dir=$1
  shift
  mkfifo "$dir/load.in"
  node "$HERE/load.js" "$@" "$CONC" "$UES" "$LOAD_PORT" <"$dir/load.in" >"$dir/load.out" 2>"$dir/load.err" &
  LOAD_PID=$!
  PIDS+=("$LOAD_PID")
  exec {LOAD_FD}>"$dir/load.in"
  wait_for 10 grep -q '^ready' "$dir/load.out"
}
stop_load() { exec {LOAD_FD}>&-; wait "$LOAD_PID" 2>/dev/null || true; }

# phase DIR TAG COUNT RATE: runs one phase of load.js, prints its result line.
phase() {
  local dir=$1 before
  before=$(wc -l < "$dir/load.out")
  echo "$2 $3 $4" >&"$LOAD_FD"
  # Polled slowly: this loop's processes share the 2 cores with the boxes measured (load.js times
  # the phase itself).
  for _ in $(seq 3000); do
    [ "$(wc -l < "$dir/load.out")" -gt "$before" ] && break
    kill -0 "$LOAD_PID" 2>/dev/null || { echo "load.js died: $(cat "$dir/load.err")" >&2; return 1; }
    sleep 0.2
  done
  tail -1 "$dir/load.out"
}

# measure SIDE DIR LABEL TAG COUNT RATE NAMES PIDS: one measured phase (after the warm-up) and its
# report; keeps the two result lines in $work/{app,smsc}.SIDE.TAG.
measure() {
  local side=$1 dir=$2 label=$3 tag=$4 count=$5 rate=$6 names=$7 pids=$8
  local base c0 c1 app smsc done_before n
  done_before=$(grep -c '"event":"deliver_sm_resp","t_ms":[0-9]*,"status":0' "$dir/smsc.events" || true)
  base=$(wc -l < "$dir/smsc.events")
  local -a name_list pid_list
  read -r -a name_list <<< "$names"
  read -r -a pid_list <<< "$pids"
  for ((n = 0; n < ${#pid_list[@]}; n++)); do strace_start "${name_list[$n]}" "${pid_list[$n]}"; done
  c0=$(cpu_s "${pid_list[@]}" "$SMSC_PID")
  local m0 m1
  m0=$(busy_s)
  app=$(phase "$dir" "$tag" "$count" "$rate")
  wait_receipts "$dir" $((done_before + count)) || true
  c1=$(cpu_s "${pid_list[@]}" "$SMSC_PID")
  m1=$(busy_s)
  strace_stop
  smsc=$(smsc_stats "$dir" "$base")
  report "$label" "$app" "$smsc"
  local ours_all other
  ours_all=$(awk -v b="$c0" -v a="$c1" -v l="$(field "$app" cpu_s)" 'BEGIN{n = split(b, x, " "); split(a, y, " "); for (i = 1; i <= n; i++) t += y[i] - x[i]; printf "%.2f", t + l}')
  other=$(awk -v m0="$m0" -v m1="$m1" -v o="$ours_all" 'BEGIN{printf "%.1f", m1 - m0 - o}')
  echo "    CPU during the run: $(cpu_delta "$c0" "$c1" "${name_list[@]}" fake-SMSC), load.js $(field "$app" cpu_s) s; machine busy $(awk -v a="$m0" -v b="$m1" 'BEGIN{printf "%.1f", b - a}') s of $(awk -v s="$(field "$smsc" span_s)" -v c="$(nproc)" 'BEGIN{printf "%.1f", s * c}') (everything else: $other s)"
  local sut_cpu
  sut_cpu=$(awk -v k="${#pid_list[@]}" -v b="$c0" -v a="$c1" 'BEGIN{split(b, x, " "); split(a, y, " "); for (i = 1; i <= k; i++) t += y[i] - x[i]; printf "%.2f", t}')
  echo "    CPU of the boxes measured: $sut_cpu s, $(awk -v t="$sut_cpu" -v n="$(field "$smsc" receipts_acked)" 'BEGIN{printf "%.0f", (n > 0 ? 1e6 * t / n : 0)}') us per message"
  echo "$app sut_cpu_s=$sut_cpu" > "$work/app.$side.$tag"
  echo "$smsc" > "$work/smsc.$side.$tag"
}

# run_side SIDE RUN NAMES PIDS DIR: warm-up, the run at full speed, the paced run.
run_side() {
  local side=$1 r=$2 names=$3 pids=$4 dir=$5
  if [ "$WARMUP" -gt 0 ]; then
    phase "$dir" "warm$r" "$WARMUP" 0 >/dev/null
    wait_receipts "$dir" "$WARMUP" || true
  fi
  measure "$side" "$dir" "$SIDE_LABEL run $r, full speed" "max$r" "$N" 0 "$names" "$pids"
  if [ "$LAT_N" -gt 0 ]; then
    measure "$side" "$dir" "$SIDE_LABEL run $r, paced at $LAT_RATE/s" "paced$r" "$LAT_N" "$LAT_RATE" \
      "$names" "$pids"
  fi
}

# ---------------------------------------------------------------------------------------------
# Our side: msgin5gd + msgin5g-gatewayd.
run_ours() {
  local r=$1
  local dir="$work/ours.$r"
  mkdir -p "$dir"
  start_smsc "$dir"
  local gw_port
  gw_port=$(free_port)
  LOAD_PORT=$(free_port)  # the AS: load.js's h2c server for deliver-report
  start_daemon "$dir" "$dir/data" --set gateways.l3g-1.type=l3g \
    --set "gateways.l3g-1.api_root=http://127.0.0.1:$gw_port"
  PIDS+=("$DAEMON_PID")
  curl -sf -o /dev/null --unix-socket "$ADMIN_SOCK" -X PUT -H 'content-type: application/json' \
    -d '{"pattern":"ue-sms-*","gateway":"l3g-1","order":10}' "http://localhost/admin/v1/routing-rules/sms"
  curl -sf -o /dev/null --http2-prior-knowledge -X POST -H 'content-type: application/json' \
    -d "{\"asSvcId\":\"as-1\",\"targetUri\":\"http://127.0.0.1:$LOAD_PORT/as/as-1\"}" \
    "http://$SBI/msgs-asregistration/v1/registrations"
  {
    printf '[api]\nlisten = "127.0.0.1:%s"\n[metrics]\nlisten = "127.0.0.1:0"\n[admin]\nlisten = "127.0.0.1:0"\n' "$gw_port"
    printf '[storage]\npath = "%s"\n[server]\napi_root = "http://%s"\n' "$dir/gwdata" "$SBI"
    printf '[l3g]\nenabled = true\nsmsc = ["127.0.0.1:%s"]\nsystem_id = "msgin5g"\npassword = "secret"\nwindow = %s\n' \
      "$SMSC_PORT" "$WINDOW"
    for ((i = 0; i < UES; i++)); do printf '[ues.ue-sms-%d]\nmsisdn = "%d"\n' "$i" $((4670000000 + i)); done
  } > "$dir/gateway.toml"
  "$GW" --config "$dir/gateway.toml" --set log.level=warn --ready-file "$dir/gw-ready.json" \
    2>>"$dir/gatewayd.log" &
  local gw_pid=$!
  PIDS+=("$gw_pid")
  wait_for 30 test -s "$dir/gw-ready.json"
  local gw_metrics
  gw_metrics=$(python3 -c "import json;print(json.load(open('$dir/gw-ready.json'))['metrics'])")
  wait_for 30 curl -sf "http://$gw_metrics/readyz"

  SIDE_LABEL="msgin5g"
  start_load "$dir" msgin5g "http://$SBI"
  run_side ours "$r" "msgin5gd gatewayd" "$DAEMON_PID $gw_pid" "$dir"
  sleep 1.2  # the gateway copies its metrics once a second
  local gm submit_mean
  gm=$(curl -s "http://$gw_metrics/metrics")
  submit_mean=$(echo "$gm" | awk '$1=="msgin5g_gateway_smpp_submit_seconds_sum"{s=$2} $1=="msgin5g_gateway_smpp_submit_seconds_count"{c=$2} END{if(c>0) printf "%.1f ms", 1000*s/c; else print "-"}')
  echo "    gateway, whole run (warm-up included): $(echo "$gm" | awk '$1 ~ /^msgin5g_gateway_(sms_parts|reports)_total/ && $2 > 0 {printf "%s=%s ", $1, $2}')submit_sm->resp mean $submit_mean"
  echo "    msgin5gd delivery retries $(metric msgin5g_delivery_retries_total); RSS: msgin5gd $(ps -o rss= -p "$DAEMON_PID" | awk '{printf "%.0f MB", $1/1024}'), gatewayd $(ps -o rss= -p "$gw_pid" | awk '{printf "%.0f MB", $1/1024}')"
  stop_load
  stop_pid "$gw_pid"
  stop_daemon
  stop_smsc
}

# ---------------------------------------------------------------------------------------------
# Kannel: bearerbox + smsbox.
run_kannel() {
  local r=$1
  local dir="$work/kannel.$r"
  mkdir -p "$dir"
  start_smsc "$dir"
  local admin_port smsbox_port sendsms_port store_type store_location
  admin_port=$(free_port); smsbox_port=$(free_port); sendsms_port=$(free_port)
  LOAD_PORT=$(free_port)  # load.js's HTTP/1.1 server for the dlr-url callbacks
  case "$KANNEL_STORE" in
    file) store_type="file"; store_location="$dir/kannel.store" ;;
    spool) store_type=spool; store_location="$dir/spool"; mkdir -p "$store_location" ;;
    none) store_type="file"; store_location="" ;;
    *) echo "KANNEL_STORE: file, spool or none" >&2; exit 64 ;;
  esac
  sed -e "s|@ADMIN_PORT@|$admin_port|; s|@SMSBOX_PORT@|$smsbox_port|; s|@SENDSMS_PORT@|$sendsms_port|" \
    -e "s|@SMSC_PORT@|$SMSC_PORT|; s|@WINDOW@|$WINDOW|; s|@WORK@|$dir|; s|@STORE_TYPE@|$store_type|" \
    -e "s|@STORE_LOCATION@|$store_location|" "$HERE/kannel.conf.in" > "$dir/kannel.conf"
  if [ -z "$store_location" ]; then sed -i '/^store-location/d' "$dir/kannel.conf"; fi
  /usr/sbin/bearerbox -v 2 "$dir/kannel.conf" >"$dir/bearerbox.out" 2>&1 &
  local bb_pid=$!
  PIDS+=("$bb_pid")
  wait_for 30 curl -sf -o /dev/null "http://127.0.0.1:$admin_port/status?password=bench"
  /usr/sbin/smsbox -v 2 "$dir/kannel.conf" >"$dir/smsbox.out" 2>&1 &
  local sb_pid=$!
  PIDS+=("$sb_pid")
  # Ready: the SMPP bind is online and smsbox is connected.
  wait_for 30 bash -c "curl -sf 'http://127.0.0.1:$admin_port/status.txt?password=bench' | grep -q 'fake.*online'"
  wait_for 30 bash -c "curl -sf 'http://127.0.0.1:$admin_port/status.txt?password=bench' | grep -q 'smsbox:.*on'"
  wait_for 30 curl -s -o /dev/null "http://127.0.0.1:$sendsms_port/"

  SIDE_LABEL="Kannel (store $KANNEL_STORE)"
  start_load "$dir" kannel "http://127.0.0.1:$sendsms_port"
  run_side kannel "$r" "bearerbox smsbox" "$bb_pid $sb_pid" "$dir"
  echo "    RSS: bearerbox $(ps -o rss= -p "$bb_pid" | awk '{printf "%.0f MB", $1/1024}'), smsbox $(ps -o rss= -p "$sb_pid" | awk '{printf "%.0f MB", $1/1024}')"
  stop_load
  stop_pid "$sb_pid"
  stop_pid "$bb_pid"
  stop_smsc
}

report() {  # report LABEL APP_LINE SMSC_LINE
  local label=$1 app=$2 smsc=$3
  printf '%s\n' "$label"
  printf '    sent %s, accepted %s (errors %s): %s msgs/s; receipts at the app %s (%s DELIVRD), all done in %s s: e2e %s msgs/s; submit->receipt at the app p50 %s ms p99 %s ms\n' \
    "$(field "$app" sent)" "$(field "$app" ok)" "$(field "$app" errors)" "$(field "$app" accept_rate)" \
    "$(field "$app" reports)" "$(field "$app" final_ok)" "$(field "$app" e2e_s)" "$(field "$app" e2e_rate)" \
    "$(field "$app" p50_ms)" "$(field "$app" p99_ms)"
  printf '    at the SMSC: submit_sm %s, receipts acked %s, first submit -> last receipt %s s: %s msgs/s; submit_sm->receipt acked p50 %s ms p99 %s ms max %s ms\n' \
    "$(field "$smsc" submits)" "$(field "$smsc" receipts_acked)" "$(field "$smsc" span_s)" "$(field "$smsc" rate)" \
    "$(field "$smsc" p50_ms)" "$(field "$smsc" p99_ms)" "$(field "$smsc" max_ms)"
}

echo "machine: $(nproc) cores, $(uname -r); $N messages per run, $RUNS runs, $CONC in flight, $UES UEs, SMPP window $WINDOW, warm-up $WARMUP"
echo "peers: $(dpkg-query -W -f='kannel ${Version}' kannel 2>/dev/null || echo 'kannel not installed'); node $(node --version)"

if [ "${SMSC_ONLY:-0}" = 1 ]; then
  for ((r = 1; r <= RUNS; r++)); do
    dir="$work/ceiling.$r"; mkdir -p "$dir"; start_smsc "$dir"
    out=$(node "$HERE/smsc_ceiling.js" "$SMSC_PORT" "$N" "$WINDOW" "$UES")
    wait_receipts "$dir" "$N" || true
    smsc=$(smsc_stats "$dir" 0)
    echo "fake SMSC ceiling run $r (direct ESME, window $WINDOW): $out"
    printf '    at the SMSC: submit_sm %s, receipts acked %s in %s s: %s msgs/s; p50 %s ms p99 %s ms\n' \
      "$(field "$smsc" submits)" "$(field "$smsc" receipts_acked)" "$(field "$smsc" span_s)" "$(field "$smsc" rate)" \
      "$(field "$smsc" p50_ms)" "$(field "$smsc" p99_ms)"
    stop_smsc
  done
  exit 0
fi

for ((r = 1; r <= RUNS; r++)); do
  for side in $SIDES; do
    if [ "$side" = kannel ] && [ ! -x /usr/sbin/bearerbox ]; then
      echo "Kannel not installed (scripts/install-bench-deps.sh): skipped"; continue
    fi
    "run_$side" "$r"
  done
done

if [[ " $SIDES " == *" ours "* && " $SIDES " == *" kannel "* ]]; then
  for ((r = 1; r <= RUNS; r++)); do
    [ -f "$work/app.kannel.max$r" ] && [ -f "$work/app.ours.max$r" ] || continue
    python3 - "$work" "$r" <<'EOF'
import sys
work, r = sys.argv[1], sys.argv[2]
def kv(path):
    return dict(x.split('=', 1) for x in open(path).read().split())
ao, ak = kv(f'{work}/app.ours.max{r}'), kv(f'{work}/app.kannel.max{r}')
so, sk = kv(f'{work}/smsc.ours.max{r}'), kv(f'{work}/smsc.kannel.max{r}')
def ratio(a, b):
    return '%.2f' % (float(a) / float(b)) if float(b) > 0 else '-'
cpu_o = float(ao["sut_cpu_s"]) / max(1, int(so["receipts_acked"]))
cpu_k = float(ak["sut_cpu_s"]) / max(1, int(sk["receipts_acked"]))
print(f'run {r}, full speed: ours/Kannel accepted {ratio(ao["accept_rate"], ak["accept_rate"])}x, '
      f'e2e (at the app) {ratio(ao["e2e_rate"], ak["e2e_rate"])}x, at the SMSC {ratio(so["rate"], sk["rate"])}x; '
      f'CPU per message of the boxes measured: ours {1e6 * cpu_o:.0f} us, Kannel {1e6 * cpu_k:.0f} us '
      f'(Kannel/ours {ratio(cpu_k, cpu_o)}x)')
EOF
  done
fi
