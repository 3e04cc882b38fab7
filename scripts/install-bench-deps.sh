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

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-bench-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

# apt-get update only when the package lists don't know a package yet (fresh image) ...
export DEBIAN_FRONTEND=noninteractive
for p in "${missing[@]}"; do
  if ! apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    $SUDO apt-get update -qq
    break
  fi
done
echo "install-bench-deps: installing ${missing[*]}"
# ... or when the lists are stale and a mirror no longer has the version they name (404).
if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Stop the system node if the install started one (only possible where policy-rc.d allows it).
# Looked up with pgrep, not rabbitmqctl: rabbitmqctl would leave an epmd daemon behind.
if pgrep -u rabbitmq -x beam.smp >/dev/null; then
  echo "install-bench-deps: stopping the rabbitmq-server the package started"
  $SUDO rabbitmqctl -q stop >/dev/null 2>&1 || true
fi
