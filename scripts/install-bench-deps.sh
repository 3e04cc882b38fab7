#!/usr/bin/env bash
# Installs what the baselines need: for bench/rabbitmq_baseline.sh the Debian 12 RabbitMQ server
# and the rabbitmq-c client library; for bench/mosquitto_ue_baseline.sh the Mosquitto broker (its
# load generator speaks MQTT itself, so no client library); for bench/gateway_sms_bench.sh Kannel
# (bearerbox + smsbox). Idempotent; Debian packages only. Run as root (or with sudo).
#
# The services are never left running: the baselines start their own private brokers under a
# temp dir. In a container without systemd as PID 1, apt's postinst goes through invoke-rc.d,
# which either is refused by /usr/sbin/policy-rc.d (exit 101, the Docker default) or starts the
# service through /etc/init.d (or systemd); in the second case we stop it so that it holds no port
# (mosquitto's system instance listens on 1883) and no lock.
set -euo pipefail

PKGS=(rabbitmq-server librabbitmq-dev mosquitto kannel)

source "$(dirname "$0")/apt-lib.sh"
apt_install_missing install-bench-deps "${PKGS[@]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# Stop the system node if the install started one (only possible where policy-rc.d allows it).
# Looked up with pgrep, not rabbitmqctl: rabbitmqctl would leave an epmd daemon behind.
if pgrep -u rabbitmq -x beam.smp >/dev/null; then
  echo "install-bench-deps: stopping the rabbitmq-server the package started"
  $SUDO rabbitmqctl -q stop >/dev/null 2>&1 || true
fi
# Same for the system mosquitto (port 1883): systemctl where systemd runs (so that the unit is not
# restarted), else a signal to the pid in the package config's pid_file, not to any process named
# mosquitto (that could be a baseline's private broker).
MOSQ_PID_FILE=/run/mosquitto/mosquitto.pid
if [ -d /run/systemd/system ] && systemctl -q is-active mosquitto 2>/dev/null; then
  echo "install-bench-deps: stopping the mosquitto service the package started"
  $SUDO systemctl stop mosquitto
elif [ -s "$MOSQ_PID_FILE" ] && [ "$(ps -o comm= -p "$(cat "$MOSQ_PID_FILE")" 2>/dev/null)" = mosquitto ]; then
  echo "install-bench-deps: stopping the mosquitto the package started"
  $SUDO kill -TERM "$(cat "$MOSQ_PID_FILE")" || true
fi
# Same for Kannel: its init script (START_WAPBOX=1 in /etc/default/kannel) starts bearerbox and
# wapbox under run_kannel_box supervisors, which hold ports 13000/13013 and more; the benchmark
# runs its own boxes under a temp dir. Stopped through the init script, which signals only the
# pids in its pid files (not every process named bearerbox).
if [ -d /run/systemd/system ] && systemctl -q is-active kannel 2>/dev/null; then
  echo "install-bench-deps: stopping the kannel service the package started"
  $SUDO systemctl stop kannel
else
  for box in bearerbox wapbox smsbox; do
    pid_file=/var/run/kannel/kannel_$box.pid
    if [ -s "$pid_file" ] && [ "$(ps -o comm= -p "$(cat "$pid_file")" 2>/dev/null)" = run_kannel_box ]; then
      echo "install-bench-deps: stopping the kannel boxes the package started"
      $SUDO /etc/init.d/kannel stop || true
      break
    fi
  done
fi
