#!/usr/bin/env bash
# Scale of the store: N messages (default 1,000,000, 1 KB payload) stored for 10,000 offline UEs;
# msgin5gd's RSS afterwards, data size on disk, then restart recovery time (start to ready).
# Usage: bench/durable_scale_bench.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
N=${1:-1000000}
ensure_built
work=$(mktemp -d)
trap 'stop_daemon; rm -rf "$work"' EXIT
start_daemon "$work" "$work/data"
t0=$(date +%s.%N)
out=$("$LOAD" "http://$SBI/msgs-msgdelivery/v1/deliver-as-message" "$N" 4 32 1024 10000)
t1=$(date +%s.%N)
rss_kb=$(awk '/VmRSS/{print $2}' "/proc/$DAEMON_PID/status")
queued=$(curl -s --unix-socket "$ADMIN_SOCK" "http://localhost/admin/v1/stats" | python3 -c 'import json,sys;q=json.load(sys.stdin)["queued"];print(q["HIGH"]+q["MIDDLE"]+q["LOW"])')
stop_daemon
disk=$(du -sm "$work/data" | cut -f1)
s0=$(date +%s.%N)
start_daemon "$work" "$work/data" --set log.level=info
s1=$(date +%s.%N)
rss2_kb=$(awk '/VmRSS/{print $2}' "/proc/$DAEMON_PID/status")
stop_daemon
recovered=$(grep -o 'recovered in [0-9]* ms' "$work/msgin5gd.log" | tail -1 || true)
echo "stored $N messages (1 KB, 10,000 UEs) in $(python3 -c "print('%.1f' % ($t1-$t0))") s: $(field "$out" rps) msg/s, errors=$(field "$out" errors), queued=$queued"
echo "RSS after storing: $((rss_kb / 1024)) MB; data on disk: ${disk} MB"
echo "restart to ready: $(python3 -c "print('%.2f' % ($s1-$s0))") s ($recovered); RSS after restart: $((rss2_kb / 1024)) MB"
