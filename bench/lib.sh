# Shared helpers for the bench scripts (sourced).
BIN=${BIN:-./build/daemon/msgin5gd}
LOAD=${LOAD:-./build/bench/accept_load}

ensure_built() {
  if [ ! -x "$BIN" ] || [ ! -x "$LOAD" ]; then
    # Tests off only for a fresh tree (an existing build keeps its setting, see scripts/run.sh).
    if [ -f build/CMakeCache.txt ]; then ./scripts/build.sh build >/dev/null
    else ./scripts/build.sh build -DMSGIN5G_BUILD_TESTS=OFF >/dev/null; fi
  fi
}

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# start_daemon WORKDIR DATADIR [--set k=v ...]: starts msgin5gd, sets SBI/METRICS/DAEMON_PID and
# ADMIN_SOCK (the admin API's Unix socket: curl --unix-socket "$ADMIN_SOCK" http://localhost/admin/v1/...).
start_daemon() {
  local work=$1 data=$2
  shift 2
  rm -f "$work/ready.json"
  "$BIN" --set api.listen=127.0.0.1:0 --set metrics.listen=127.0.0.1:0 \
    --set admin.socket="$work/admin.sock" --set coap.listen=127.0.0.1:0 --set storage.path="$data" \
    --set log.level=warn \
    --ready-file "$work/ready.json" "$@" 2>>"$work/msgin5gd.log" &
  DAEMON_PID=$!
  for _ in $(seq 600); do [ -s "$work/ready.json" ] && break; sleep 0.05; done
  SBI=$(python3 -c "import json;print(json.load(open('$work/ready.json'))['sbi'])")
  ADMIN_SOCK="$work/admin.sock"
  METRICS=$(python3 -c "import json;print(json.load(open('$work/ready.json'))['metrics'])")
}

stop_daemon() { kill -TERM "$DAEMON_PID" 2>/dev/null || true; wait "$DAEMON_PID" 2>/dev/null || true; }

# metric NAME: the sum of a metric's samples on the running daemon.
metric() {
  curl -s "http://$METRICS/metrics" | awk -v n="$1" '$1 ~ "^"n"({|$)" {s+=$2} END {printf "%.0f", s}'
}

field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1==k {print $2}'; }
