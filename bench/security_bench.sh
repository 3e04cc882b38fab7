#!/usr/bin/env bash
# Cost of security on the SBI: h2load against msgin5gd's deliver-as-message over TLS (h2, ALPN)
# with a valid Bearer token (security.mode=oauth2, token from msgin5gd's own token endpoint,
# ES256), and in the same run against msgin5gd on h2c with security off. Prints req/s for both
# and the ratio (goal >= 0.7). Usage: bench/security_bench.sh [REQUESTS] [CONNECTIONS]
#   REQUESTS     per measurement (default 200000)
#   CONNECTIONS  h2load clients, each with 32 streams (default 4; each TLS connection pays one
#                handshake, tokens are verified once per token and then cached)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
C=${2:-4}
source bench/lib.sh
ensure_built
command -v h2load >/dev/null && command -v openssl >/dev/null || {
  echo "needs h2load and openssl (scripts/install-deps.sh)"; exit 1; }

work=$(mktemp -d)
cleanup() { kill "${DAEMON_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# Test PKI: an EC P-256 CA and a server certificate for 127.0.0.1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/ca.key" \
  -out "$work/ca.pem" -days 1 -subj /CN=bench-ca 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/srv.key" \
  -out "$work/srv.csr" -subj /CN=127.0.0.1 2>/dev/null
echo "subjectAltName=IP:127.0.0.1" > "$work/srv.ext"
openssl x509 -req -in "$work/srv.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
  -out "$work/srv.pem" -days 1 -extfile "$work/srv.ext" 2>/dev/null

payload=$(head -c 1024 /dev/zero | tr '\0' 'p')
cat > "$work/body.json" <<JSON
{"oriAddr":{"addrType":"AS","addr":"bench-as"},"destAddr":{"addrType":"UE","addr":"ue-1"},"msgId":"bench-1","stoAndFwInd":true,"priority":"MIDDLE","payload":"$payload"}
JSON
cat > "$work/secure.toml" <<TOML
[tls]
enabled = true
cert_file = "$work/srv.pem"
key_file = "$work/srv.key"
[security]
mode = "oauth2"
server_id = "bench-server"
token_endpoint = true
[clients.bench-as]
secret_hash = "$("$BIN" --hash-secret bench-secret)"
origins = ["AS:bench-as"]
TOML

cpu_ticks() { awk '{print $14+$15}' "/proc/$DAEMON_PID/stat"; }

run() { # url [h2load args...] -> "req/s|status codes|latency|server CPU us per request"
  local url=$1
  shift
  local t0; t0=$(cpu_ticks)
  h2load -n "$N" -c "$C" -m 32 -t 1 -d "$work/body.json" -H 'content-type: application/json' "$@" \
    "$url" > "$work/h2load.out" 2>&1
  grep -q " 0 errored" "$work/h2load.out" || cat "$work/h2load.out" >&2
  local codes rps lat
  codes=$(grep -E '^status codes:' "$work/h2load.out")
  rps=$(grep -E '^finished in' "$work/h2load.out" | sed -E 's/.* ([0-9.]+) req\/s.*/\1/')
  lat=$(grep -E '^time for request:' "$work/h2load.out" | awk '{print "min="$4" max="$5" mean="$6" sd="$7}')
  local cpu; cpu=$(python3 -c "print('%.2f' % (($(cpu_ticks) - $t0) * 1e6 / $(getconf CLK_TCK) / $N))")
  echo "$rps|$codes|$lat|$cpu"
}

# 1. h2c, security off.
start_daemon "$work" "$work/data-plain" --set api.threads=1
url="http://$SBI/msgs-msgdelivery/v1/deliver-as-message"
run "$url" >/dev/null  # warm-up
plain=$(run "$url")
stop_daemon

# 2. TLS + OAuth2 bearer token.
start_daemon "$work" "$work/data-secure" --set api.threads=1 --config "$work/secure.toml"
token=$(curl -s --cacert "$work/ca.pem" -d grant_type=client_credentials -d client_id=bench-as \
  -d client_secret=bench-secret "https://$SBI/oauth2/token" |
  python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')
url="https://$SBI/msgs-msgdelivery/v1/deliver-as-message"
run "$url" -H "authorization: Bearer $token" >/dev/null  # warm-up
secure=$(run "$url" -H "authorization: Bearer $token")
refused=$(metric msgin5g_auth_decisions_total)
stop_daemon

p=${plain%%|*}
s=${secure%%|*}
echo "machine: $(nproc) cores, $(uname -r); server threads: 1; h2load -n $N -c $C -m 32 -t 1, 1 KB payload"
for name in plain secure; do
  r=${!name}
  label=$([ "$name" = plain ] && echo "h2c, security off       " || echo "TLS 1.3 + Bearer (ES256)")
  echo "$label : ${r%%|*} req/s  [$(echo "$r" | cut -d'|' -f2)] [$(echo "$r" | cut -d'|' -f3)]"
  echo "                           server CPU $(echo "$r" | cut -d'|' -f4) us/request"
done
echo "auth decisions counted    : $refused"
pc=$(echo "$plain" | cut -d'|' -f4)
sc=$(echo "$secure" | cut -d'|' -f4)
python3 -c "print('ratio secure/plain: %.2f req/s (goal >= 0.7); server CPU per request x%.2f' % ($s/$p, $sc/$pc))"
