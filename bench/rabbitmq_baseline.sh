#!/usr/bin/env bash
# RabbitMQ baseline for the end-to-end bench (accept -> delivered to a receiver): a private
# RabbitMQ node (Debian 12's rabbitmq-server, data in a temp dir on the same disk as our benches'),
# one durable quorum queue, persistent 1 KB messages, publisher confirms, a consumer that acks each
# message. Prints one line from bench/rabbitmq_load.cc. RATE 0 (default) = as fast as possible.
# Extra arguments go to rabbitmq_load (e.g. --ack-every 64).
# Usage: bench/rabbitmq_baseline.sh N [RATE] [rabbitmq_load options...]
# Needs: scripts/install-bench-deps.sh. The load binary: $RABBITMQ_LOAD, else build/bench/rabbitmq_load,
# else compiled into the temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
N=${1:?usage: bench/rabbitmq_baseline.sh N [RATE] [rabbitmq_load options...]}
RATE=${2:-0}
shift $(($# < 2 ? $# : 2))
RABBITMQ_LOAD=${RABBITMQ_LOAD:-build/bench/rabbitmq_load}
# The real scripts: the /usr/sbin wrappers su to the rabbitmq user, which drops the environment
# below and uses /var/lib/rabbitmq's Erlang cookie instead of ours.
RMQ=/usr/lib/rabbitmq/bin
[ -x "$RMQ/rabbitmq-server" ] || { echo "rabbitmq-server missing: run scripts/install-bench-deps.sh" >&2; exit 1; }

work=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    "$RMQ/rabbitmqctl" -q stop >/dev/null 2>&1 || kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ -n "${ERL_EPMD_PORT:-}" ]; then epmd -port "$ERL_EPMD_PORT" -kill >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ ! -x "$RABBITMQ_LOAD" ]; then
  RABBITMQ_LOAD=$work/rabbitmq_load
  nice g++ -std=c++20 -O2 -Wall -Wextra -o "$RABBITMQ_LOAD" bench/rabbitmq_load.cc -lrabbitmq -pthread
fi

# Everything the node and rabbitmqctl share is private to this run, so it neither needs nor
# disturbs a system node (which, without systemd as PID 1, the package never starts anyway):
# - HOME: Erlang creates the cookie in $HOME/.erlang.cookie; server and rabbitmqctl must agree.
# - @localhost: the node name must resolve; the container's hostname may not.
# - free ports for AMQP, Erlang distribution and epmd (a fixed port in the ephemeral range once
#   collided with another process's ephemeral port); all of them on loopback. A private epmd is
#   killed at exit; the default one (4369) would outlive the run.
# - CONFIG/ENABLED_PLUGINS/CONF_ENV files that don't exist: defaults, nothing from /etc/rabbitmq.
export HOME=$work
export RABBITMQ_NODENAME=msgin5g-bench-$$@localhost
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
RABBITMQ_NODE_PORT=$(free_port) RABBITMQ_DIST_PORT=$(free_port) ERL_EPMD_PORT=$(free_port)
export RABBITMQ_NODE_PORT RABBITMQ_DIST_PORT ERL_EPMD_PORT
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
export RABBITMQ_MNESIA_BASE=$work/mnesia RABBITMQ_LOG_BASE=$work/log RABBITMQ_PID_FILE=$work/rabbitmq.pid
export RABBITMQ_CONFIG_FILE=$work/rabbitmq RABBITMQ_ENABLED_PLUGINS_FILE=$work/enabled_plugins
export RABBITMQ_CONF_ENV_FILE=$work/rabbitmq-env.conf

"$RMQ/rabbitmq-server" >"$work/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 60); do
  kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$work/server.log" >&2; echo "rabbitmq-server died" >&2; exit 1; }
  "$RMQ/rabbitmqctl" -q await_startup --timeout 30 >/dev/null 2>&1 && break
  sleep 0.5
done
"$RMQ/rabbitmqctl" -q await_startup --timeout 1 >/dev/null || { echo "rabbitmq-server did not start" >&2; exit 1; }

echo "machine: $(nproc) cores, $(uname -r); RabbitMQ $(dpkg-query -W -f='${Version}' rabbitmq-server)," \
  "quorum queue, $N persistent 1 KB messages, rate $([ "$RATE" = 0 ] && echo max || echo "$RATE/s")," \
  "publisher confirms, consumer acks"
"$RABBITMQ_LOAD" --messages "$N" --rate "$RATE" --port "$RABBITMQ_NODE_PORT" "$@"
