#!/usr/bin/env bash
# Installs what the RabbitMQ baseline (bench/rabbitmq_baseline.sh) needs: the Debian 12 server and
# the rabbitmq-c client library. Idempotent; Debian packages only. Run as root (or with sudo).
#
# The service is never left running: the baseline starts its own private node under a temp dir.
# In a container without systemd as PID 1, apt's postinst goes through invoke-rc.d, which either
# is refused by /usr/sbin/policy-rc.d (exit 101, the Docker default) or starts the node through
# /etc/init.d; in the second case we stop that node so that it holds no port and no lock.
set -euo pipefail

PKGS=(rabbitmq-server librabbitmq-dev)

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
