#!/usr/bin/env bash
# HTTP/2 + JSON front end benchmark: h2load against msgin5gd's deliver-as-message and, in the same
# run on the same machine, against nghttpd answering a trivial POST. Prints req/s for both and the
# ratio. Usage: bench/h2_accept_bench.sh [REQUESTS] [THREADS]
#   REQUESTS  per measurement (default 200000)
#   THREADS   server worker threads for both servers (default 1; the machine also runs h2load)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
THREADS=${2:-1}
BIN=./build/daemon/msgin5gd
[ -x "$BIN" ] || ./scripts/build.sh build -DMSGIN5G_BUILD_TESTS=OFF >/dev/null
command -v h2load >/dev/null && command -v nghttpd >/dev/null || {
  echo "needs h2load and nghttpd (scripts/install-deps.sh)"; exit 1; }

work=$(mktemp -d)
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
pids=()
trap cleanup EXIT

# A 1 KB payload in a valid ASMessageDelivery.
payload=$(head -c 1024 /dev/zero | tr '\0' 'p')
cat > "$work/body.json" <<JSON
{"oriAddr":{"addrType":"AS","addr":"bench-as"},"destAddr":{"addrType":"UE","addr":"ue-1"},"msgId":"bench-1","stoAndFwInd":true,"priority":"MIDDLE","payload":"$payload"}
JSON
mkdir -p "$work/docroot"
echo '{"oriAddr":{"addrType":"AS","addr":"bench-as"},"msgId":"bench-1","status":"DELY_STORED"}' \
  > "$work/docroot/deliver-as-message"

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

"$BIN" --set api.listen=127.0.0.1:0 --set metrics.listen=127.0.0.1:0 --set api.threads="$THREADS" \
  --set admin.socket="$work/admin.sock" --set coap.listen=127.0.0.1:0 \
  --set log.level=warn --ready-file "$work/ready.json" 2>"$work/msgin5gd.log" &
pids+=($!)
ng_port=$(free_port)
nghttpd --no-tls -n "$THREADS" -d "$work/docroot" --address=127.0.0.1 "$ng_port" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/ready.json" ] && break; sleep 0.05; done
sbi=$(python3 -c "import json;print(json.load(open('$work/ready.json'))['sbi'])")
for _ in $(seq 100); do curl -s --http2-prior-knowledge -o /dev/null "http://127.0.0.1:$ng_port/" && break; sleep 0.05; done

run() { # url -> req/s
  h2load -n "$N" -c 4 -m 32 -t 1 -d "$work/body.json" -H 'content-type: application/json' "$1" \
    > "$work/h2load.out" 2>&1
  grep -q " 0 errored" "$work/h2load.out" || { cat "$work/h2load.out" >&2; }
  local codes; codes=$(grep -E '^status codes:' "$work/h2load.out")
  local rps; rps=$(grep -E '^finished in' "$work/h2load.out" | sed -E 's/.* ([0-9.]+) req\/s.*/\1/')
  local lat; lat=$(grep -E '^time for request:' "$work/h2load.out" | awk '{print "min="$4" max="$5" mean="$6" sd="$7}')
  echo "$rps|$codes|$lat"
}

# Warm-up for both, then the measured runs.
h2load -n 20000 -c 4 -m 32 -t 1 -d "$work/body.json" -H 'content-type: application/json' \
  "http://$sbi/msgs-msgdelivery/v1/deliver-as-message" >/dev/null 2>&1
h2load -n 20000 -c 4 -m 32 -t 1 -d "$work/body.json" "http://127.0.0.1:$ng_port/deliver-as-message" \
  >/dev/null 2>&1

ours=$(run "http://$sbi/msgs-msgdelivery/v1/deliver-as-message")
base=$(run "http://127.0.0.1:$ng_port/deliver-as-message")
ours_rps=${ours%%|*}
base_rps=${base%%|*}
echo "machine: $(nproc) cores, $(uname -r); server threads: $THREADS; h2load -n $N -c 4 -m 32 -t 1, 1 KB payload"
echo "msgin5gd deliver-as-message : $ours_rps req/s  [$(echo "$ours" | cut -d'|' -f2)] [$(echo "$ours" | cut -d'|' -f3)]"
echo "nghttpd trivial POST        : $base_rps req/s  [$(echo "$base" | cut -d'|' -f2)] [$(echo "$base" | cut -d'|' -f3)]"
python3 -c "print('ratio msgin5gd/nghttpd: %.2f' % ($ours_rps/$base_rps))"
