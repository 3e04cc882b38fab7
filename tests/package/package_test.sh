#!/usr/bin/env bash
# The packages on this machine, as an admin would use them (label `package`; needs root, as CI):
#  1. packaging/build-packages.sh builds release 1 (lintian/rpmlint: no errors) and release 2;
#  2. dpkg -i release 1 of the three packages: files, the msgin5g user, owners and modes;
#     systemd-analyze verify of both units;
#  3. msgin5gd started exactly as its unit does (ExecStart as User=msgin5g, NOTIFY_SOCKET set):
#     READY=1 comes, a message is accepted over h2c with curl, SIGTERM → STOPPING=1, exit 0;
#  4. the conffile edited, dpkg -i release 2 over it: the edit and the stored message survive
#     (the restarted daemon still holds it), the binaries are the new package's;
#  5. dpkg --purge: configuration gone, data kept and said so; the rpm packages hold the files.
# Usage: tests/package/package_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
marker=.msgin5g-package-test  # left in /var/lib/msgin5g* so a rerun may clean up after us
daemon_pid=""

fail() { echo "FAIL: $*" >&2; exit 1; }
cleanup() {
  [ -n "$daemon_pid" ] && kill -9 "$daemon_pid" 2>/dev/null || true
  dpkg --purge msgin5g-server msgin5g-gateway msgin5g-tools >/dev/null 2>&1 || true
  for d in /var/lib/msgin5g /var/lib/msgin5g-gateway; do
    [ -e "$d/$marker" ] && rm -rf "$d"
  done
  rm -rf /run/msgin5g
  getent passwd msgin5g >/dev/null && userdel msgin5g 2>/dev/null || true
  getent group msgin5g >/dev/null && groupdel msgin5g 2>/dev/null || true
  rm -rf "$work"
}

[ "$(id -u)" -eq 0 ] || fail "needs root (dpkg -i, a system user)"
for d in /var/lib/msgin5g /var/lib/msgin5g-gateway; do
  if [ -e "$d" ] && [ ! -e "$d/$marker" ]; then
    fail "$d exists and is not this test's: refusing to touch a real installation"
  fi
done
if dpkg-query -W -f='${Status}' msgin5g-server 2>/dev/null | grep -q installed && [ ! -e /var/lib/msgin5g/$marker ]; then
  fail "msgin5g-server is installed and not by this test"
fi
trap cleanup EXIT
cleanup_on_start() { trap - EXIT; cleanup; work=$(mktemp -d); trap cleanup EXIT; }
cleanup_on_start

# --- 1. build ---------------------------------------------------------------------------------
BUILD_DIR=$build PKG_RELEASE=1 "$src/packaging/build-packages.sh" "$work/r1" > "$work/build1.log" 2>&1 ||
  { cat "$work/build1.log"; fail "build-packages.sh (release 1) failed: a lintian or rpmlint error?"; }
cat "$work/build1.log"
BUILD_DIR=$build PKG_RELEASE=2 SKIP_LINT=1 SKIP_RPM=1 "$src/packaging/build-packages.sh" "$work/r2" >/dev/null
ls "$work"/r1/*.deb "$work"/r2/*.deb

# --- 2. install -------------------------------------------------------------------------------
dpkg -i "$work"/r1/msgin5g-*.deb
for f in /usr/sbin/msgin5gd /usr/sbin/msgin5g-gatewayd /usr/bin/msgin5g-ue /usr/bin/msgin5gctl \
         /usr/share/bash-completion/completions/msgin5gctl /usr/share/man/man1/msgin5gctl.1.gz \
         /etc/msgin5g/msgin5gd.toml /etc/msgin5g/msgin5g-gatewayd.toml \
         /lib/systemd/system/msgin5gd.service /lib/systemd/system/msgin5g-gatewayd.service \
         /usr/lib/sysusers.d/msgin5g-server.conf /usr/lib/tmpfiles.d/msgin5g-server.conf \
         /usr/share/man/man8/msgin5gd.8.gz /usr/share/man/man8/msgin5g-gatewayd.8.gz \
         /usr/share/man/man1/msgin5g-ue.1.gz /usr/share/doc/msgin5g-server/copyright; do
  [ -e "$f" ] || fail "$f not installed"
done
getent passwd msgin5g | grep -q ':/var/lib/msgin5g:/usr/sbin/nologin$' ||
  fail "user msgin5g: $(getent passwd msgin5g)"
[ "$(stat -c '%U:%G %a' /var/lib/msgin5g)" = "msgin5g:msgin5g 750" ] || fail "/var/lib/msgin5g: $(stat -c '%U:%G %a' /var/lib/msgin5g)"
[ "$(stat -c '%U:%G %a' /var/lib/msgin5g-gateway)" = "msgin5g:msgin5g 750" ] || fail "/var/lib/msgin5g-gateway"
[ "$(stat -c '%U:%G %a' /run/msgin5g)" = "msgin5g:msgin5g 750" ] || fail "/run/msgin5g"
[ "$(stat -c '%U:%G %a' /etc/msgin5g/msgin5gd.toml)" = "root:msgin5g 640" ] || fail "msgin5gd.toml mode"
touch /var/lib/msgin5g/$marker /var/lib/msgin5g-gateway/$marker
grep -q '^path = "/var/lib/msgin5g/store"' /etc/msgin5g/msgin5gd.toml || fail "storage.path"
/usr/sbin/msgin5gd --check-config --config /etc/msgin5g/msgin5gd.toml
/usr/sbin/msgin5g-gatewayd --check-config --config /etc/msgin5g/msgin5g-gatewayd.toml
zcat /usr/share/man/man8/msgin5gd.8.gz | grep -q -- 'check\\-config' || fail "man page without the options"
systemd-analyze verify /lib/systemd/system/msgin5gd.service /lib/systemd/system/msgin5g-gatewayd.service

# --- 3. run as the unit does ----------------------------------------------------------------
exec_start() {  # the unit's ExecStart, split into words
  sed -n 's/^ExecStart=//p' /lib/systemd/system/msgin5gd.service
}
notify_sock=$work/notify.sock
python3 - "$notify_sock" > "$work/notify.log" 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
import os; os.chmod(sys.argv[1], 0o777)
s.settimeout(120)
while True:
    try:
        msg = s.recv(4096).decode()
    except socket.timeout:
        break
    print(msg.replace("\n", " | "), flush=True)
    if "STOPPING=1" in msg:
        break
PY
listener=$!
for _ in $(seq 50); do [ -S "$notify_sock" ] && break; sleep 0.1; done
chmod 755 "$work"
start_daemon() {
  # shellcheck disable=SC2046  # systemd starts services in / (no WorkingDirectory=)
  (cd / && NOTIFY_SOCKET=$notify_sock exec setpriv --reuid=msgin5g --regid=msgin5g --init-groups -- $(exec_start)) \
    >> "$work/daemon.log" 2>&1 &
  daemon_pid=$!
  for _ in $(seq 100); do
    curl -sf http://127.0.0.1:9464/readyz >/dev/null 2>&1 && return 0
    kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/daemon.log"; fail "msgin5gd exited"; }
    sleep 0.1
  done
  cat "$work/daemon.log"; fail "msgin5gd not ready"
}
stop_daemon() {
  kill -TERM "$daemon_pid"
  local rc=0
  wait "$daemon_pid" || rc=$?
  daemon_pid=""
  [ "$rc" -eq 0 ] || { cat "$work/daemon.log"; fail "msgin5gd exit $rc after SIGTERM"; }
}
start_daemon
for _ in $(seq 50); do grep -q 'READY=1' "$work/notify.log" && break; sleep 0.1; done
grep -q 'READY=1' "$work/notify.log" || fail "no READY=1 (got: $(cat "$work/notify.log"))"
[ "$(ps -o user= -p "$daemon_pid")" = msgin5g ] || fail "not running as msgin5g"
answer=$(curl -s --http2-prior-knowledge -H 'content-type: application/json' \
  -d '{"oriAddr":{"addrType":"AS","addr":"as-1"},"destAddr":{"addrType":"UE","addr":"ue-pkg"},"msgId":"pkg-1","stoAndFwInd":true,"payload":"kept across an upgrade"}' \
  http://127.0.0.1:8080/msgs-msgdelivery/v1/deliver-as-message)
echo "$answer" | grep -q '"DELY_STORED"' || fail "deliver-as-message: $answer"
[ "$(stat -c '%U %a' /var/lib/msgin5g/store)" = "msgin5g 700" ] || fail "store dir: $(stat -c '%U %a' /var/lib/msgin5g/store)"
# Journal-ready lines: under systemd (JOURNAL_STREAM) no timestamps; here plain text.
stop_daemon
wait "$listener" || true
grep -q 'STOPPING=1' "$work/notify.log" || fail "no STOPPING=1 (got: $(cat "$work/notify.log"))"
cat "$work/notify.log"

# --- 4. upgrade over an edited conffile -----------------------------------------------------
sed -i 's/^level = "info"/level = "warn"  # edited by the admin/' /etc/msgin5g/msgin5gd.toml
grep -q 'edited by the admin' /etc/msgin5g/msgin5gd.toml || fail "could not edit the conffile"
dpkg -i "$work"/r2/msgin5g-*.deb
[ "$(dpkg-query -W -f='${Version}' msgin5g-server)" = "$(dpkg-deb -f "$work"/r2/msgin5g-server_*.deb Version)" ] ||
  fail "not upgraded"
grep -q 'edited by the admin' /etc/msgin5g/msgin5gd.toml || fail "the upgrade lost the admin's edit"
[ -e /var/lib/msgin5g/$marker ] || fail "the upgrade lost /var/lib/msgin5g"
start_daemon
queue=$(msgin5gctl --socket /run/msgin5g/admin.sock --output json queues show UE ue-pkg)
echo "$queue" | tr -d ' \n' | grep -q '"count":1' || fail "the stored message did not survive the upgrade: $queue"
# An online backup lands in the packaged backup_dir, owned by the daemon's user.
msgin5gctl --socket /run/msgin5g/admin.sock backup create pkg || fail "backup create"
[ "$(stat -c '%U' /var/lib/msgin5g/backups/pkg/msgin5g-backup.json)" = msgin5g ] ||
  fail "backup not in /var/lib/msgin5g/backups or not msgin5g's"
stop_daemon
# Restored by the packaged binaries, as the daemon's user, from the packaged config.
runuser -u msgin5g -- msgin5gctl restore pkg --data-dir /var/lib/msgin5g/restored ||
  fail "restore of the packaged backup"
[ "$(stat -c '%U' /var/lib/msgin5g/restored/CURRENT)" = msgin5g ] || fail "restored files not msgin5g's"

# --- 5. purge -----------------------------------------------------------------------------
dpkg --purge msgin5g-server msgin5g-gateway msgin5g-tools 2> "$work/purge.log"
cat "$work/purge.log"
[ ! -e /etc/msgin5g/msgin5gd.toml ] || fail "purge left the config"
[ ! -e /usr/sbin/msgin5gd ] || fail "purge left the binary"
[ -d /var/lib/msgin5g/store ] || fail "purge removed the message store"
grep -q '/var/lib/msgin5g is kept' "$work/purge.log" || fail "purge did not say where the data is"

for rpm in "$work"/r1/*.rpm; do
  rpm -qpl "$rpm" > "$work/rpm.list"
  case $rpm in
    *server*) grep -qx /usr/sbin/msgin5gd "$work/rpm.list" && grep -qx /usr/lib/systemd/system/msgin5gd.service "$work/rpm.list" ;;
    *gateway*) grep -qx /usr/sbin/msgin5g-gatewayd "$work/rpm.list" ;;
    *tools*) grep -qx /usr/bin/msgin5g-ue "$work/rpm.list" ;;
  esac || fail "$rpm: files missing ($(tr '\n' ' ' < "$work/rpm.list"))"
  rpm -qp --configfiles "$rpm"
done
echo "PASS"
