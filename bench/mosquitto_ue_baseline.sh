#!/usr/bin/env bash
# Mosquitto baseline for the 10,000-UE wake-and-drain bench (bench/coap_ue_bench.sh): a private
# Mosquitto (Debian 12's package, config and persistence in a temp dir, loopback only), UES
# persistent MQTT sessions (clean session false) subscribed at QoS 1 to their own topic, PER_UE QoS 1
# messages of PAYLOAD_BYTES bytes published to each while they are offline, then every UE
# reconnects once, WINDOW connects in progress at a time, and drains its queue
# (bench/mqtt_wake_load.cc). Prints the tool's line and Mosquitto's RSS.
# Durability is not the same as ours: Mosquitto keeps queued messages in memory and writes its
# persistence file only every autosave_interval (default 1800 s) and at exit, no fsync per message.
# Usage: bench/mosquitto_ue_baseline.sh [UES] [PER_UE] [PAYLOAD_BYTES] [WINDOW]   (defaults 10000 2 100 16)
# Needs: scripts/install-bench-deps.sh. The load binary: $MQTT_WAKE_LOAD, else
# build/bench/mqtt_wake_load, else compiled into the temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
UES=${1:-10000}
PER=${2:-2}
BYTES=${3:-100}
WINDOW=${4:-16}
MOSQUITTO=/usr/sbin/mosquitto
[ -x "$MOSQUITTO" ] || { echo "mosquitto missing: run scripts/install-bench-deps.sh" >&2; exit 1; }
MQTT_WAKE_LOAD=${MQTT_WAKE_LOAD:-build/bench/mqtt_wake_load}

work=$(mktemp -d)
MOSQ_PID=
cleanup() {
  if [ -n "$MOSQ_PID" ]; then
    kill -TERM "$MOSQ_PID" 2>/dev/null || true
    wait "$MOSQ_PID" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ ! -x "$MQTT_WAKE_LOAD" ]; then
  MQTT_WAKE_LOAD=$work/mqtt_wake_load
  # The lock: build/ may be in the middle of a build on the same (small) machine.
  flock /tmp/msgin5g-build.lock nice g++ -std=c++20 -O2 -Wall -Wextra -o "$MQTT_WAKE_LOAD" bench/mqtt_wake_load.cc
fi

# Nothing from /etc/mosquitto (the package's config also listens on 1883 and writes to /var/lib):
# - persistence on, as a broker that is to keep messages for sleeping UEs would run;
# - max_queued_messages: per session, above the ones in flight; beyond it Mosquitto silently drops
#   messages, so it must hold PER_UE (1000 is the default);
# - max_inflight_messages 20 (the default): QoS 1 messages sent to a client but not yet PUBACKed;
# - set_tcp_nodelay: no Nagle delay on small packets (our daemon's sockets do not wait either);
# - user: as root Mosquitto would switch to the mosquitto user, which cannot write into our temp dir;
# - only errors and warnings logged, no line per connect: like our daemon's log.level=warn.
port=$(free_port)
cat >"$work/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence true
persistence_location $work/
max_queued_messages $((PER > 1000 ? PER : 1000))
max_inflight_messages 20
set_tcp_nodelay true
user $(id -un)
log_dest file $work/mosquitto.log
log_type error
log_type warning
connection_messages false
EOF
"$MOSQUITTO" -c "$work/mosquitto.conf" >"$work/mosquitto.out" 2>&1 &
MOSQ_PID=$!
for _ in $(seq 100); do
  kill -0 "$MOSQ_PID" 2>/dev/null || { cat "$work/mosquitto.out" "$work/mosquitto.log" >&2 2>/dev/null; echo "mosquitto died" >&2; exit 1; }
  [ -n "$(ss -Hltn "sport = :$port")" ] && break
  sleep 0.05
done
[ -n "$(ss -Hltn "sport = :$port")" ] || { echo "mosquitto did not listen on $port" >&2; exit 1; }

echo "machine: $(nproc) cores, $(uname -r); Mosquitto $(dpkg-query -W -f='${Version}' mosquitto)," \
  "$UES persistent sessions x $PER QoS 1 messages of $BYTES bytes, $WINDOW reconnects in progress at a time"
status=0
line=$("$MQTT_WAKE_LOAD" --port "$port" --ues "$UES" --per-ue "$PER" --bytes "$BYTES" --window "$WINDOW" \
  --broker-pid "$MOSQ_PID") || status=$?
echo "$line"
echo "mosquitto RSS: $(field "$line" rss_before_mb) MB with everything queued," \
  "$(field "$line" rss_after_mb) MB after the drain (UEs still connected)"
if [ -s "$work/mosquitto.log" ]; then
  echo "mosquitto logged:"
  tail -5 "$work/mosquitto.log"
fi
exit "$status"
