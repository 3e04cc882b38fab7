#!/usr/bin/env bash
# Builds the Debian 12 (.deb) and RPM packages from this tree:
#   msgin5g-server   msgin5gd, its unit, /etc/msgin5g/msgin5gd.toml, sysusers/tmpfiles, man page
#   msgin5g-gateway  msgin5g-gatewayd, the same for the gateway
#   msgin5g-tools    msgin5gctl (the admin CLI, with bash completion), msgin5g-ue (the UE simulator)
# Usage: packaging/build-packages.sh [OUT_DIR=dist]
# Env:   BUILD_DIR=build (a configured tree; the three binaries are built in it if needed)
#        PKG_RELEASE=1   the Debian revision and RPM release (a newer build of the same version)
#        SKIP_RPM=1      .deb only;  SKIP_LINT=1  no lintian / rpmlint
# Prints each package's path, then lintian's and rpmlint's findings; exits non-zero on a lintian
# or rpmlint error (warnings are explained in docs/operations.md, "Package checks").
# Why not CPack: the packages need conffiles, maintainer scripts that create the user and the
# directories, and the same staged tree for both formats; dpkg-deb and rpmbuild take those as
# they are, where CPack would need its own variable for each.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
build=${BUILD_DIR:-build}
release=${PKG_RELEASE:-1}
version=$(sed -n 's/^project(msgin5g VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
arch=$(dpkg --print-architecture)
maintainer="msgin5g developers <msgin5g@example.org>"

if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMSGIN5G_BUILD_TESTS=OFF >/dev/null
fi
ninja -C "$build" -j "$(nproc)" msgin5gd msgin5g-gatewayd msgin5g-ue msgin5gctl >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- the staged trees, one per package ------------------------------------------------------
stage_common() {  # PKG: copyright, changelog
  local pkg=$1 root=$work/$1
  install -d "$root/usr/share/doc/$pkg"
  install -m 0644 packaging/deb/copyright "$root/usr/share/doc/$pkg/copyright"
  sed -e "s/@VERSION@/$version-$release/" -e "s/@MAINTAINER@/$maintainer/" \
      -e "s/@DATE@/$(date -R -d @"${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")/" \
      packaging/deb/changelog | gzip -9n > "$root/usr/share/doc/$pkg/changelog.Debian.gz"
}
man_page() {  # BINARY SECTION NAME DESCRIPTION DEST
  help2man --no-info --section="$2" --name="$4" --version-string="$version" \
    --no-discard-stderr "$1" | gzip -9n > "$5/$3.$2.gz"
}
stage_daemon() {  # PKG BINARY CONFIG DATADIR UNIT TMPFILES SYSUSERS DESCRIPTION DOC
  local pkg=$1 bin=$2 conf=$3 datadir=$4 root=$work/$1
  install -d "$root/usr/sbin" "$root/etc/msgin5g" "$root/lib/systemd/system" \
    "$root/usr/lib/tmpfiles.d" "$root/usr/lib/sysusers.d" "$root/usr/share/man/man8"
  install -m 0755 "$bin" "$root/usr/sbin/"
  strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/sbin/$(basename "$bin")"
  # The shipped config is the built-in default with the data under /var/lib.
  # msgin5gd's admin socket lives in /run/msgin5g (tmpfiles.d: owner and group msgin5g).
  sed -e "/^\[storage\]/,/^\[/ s|^path = .*|path = \"$datadir/store\"|" \
    -e "/^\[storage\]/,/^\[/ s|^backup_dir = .*|backup_dir = \"$datadir/backups\"|" \
    -e "/^\[admin\]/,/^\[/ s|^socket = .*|socket = \"/run/msgin5g/admin.sock\"|" \
    "$conf" > "$root/etc/msgin5g/$(basename "$conf")"
  grep -q "^path = \"$datadir/store\"" "$root/etc/msgin5g/$(basename "$conf")"
  install -m 0644 "$5" "$root/lib/systemd/system/"
  install -m 0644 "$6" "$root/usr/lib/tmpfiles.d/$pkg.conf"
  install -m 0644 "$7" "$root/usr/lib/sysusers.d/$pkg.conf"
  man_page "$bin" 8 "$(basename "$bin")" "$8" "$root/usr/share/man/man8"
  stage_common "$pkg"
  install -m 0644 "$9" "$root/usr/share/doc/$pkg/"
}

stage_daemon msgin5g-server "$build/daemon/msgin5gd" packaging/msgin5gd.toml /var/lib/msgin5g \
  packaging/systemd/msgin5gd.service packaging/systemd/msgin5g-server.tmpfiles \
  packaging/systemd/msgin5g-server.sysusers "MSGin5G Server" docs/operations.md
stage_daemon msgin5g-gateway "$build/gateway/msgin5g-gatewayd" packaging/msgin5g-gatewayd.toml \
  /var/lib/msgin5g-gateway packaging/systemd/msgin5g-gatewayd.service \
  packaging/systemd/msgin5g-gateway.tmpfiles packaging/systemd/msgin5g-gateway.sysusers \
  "MSGin5G Message Gateway" docs/gateway.md
tools=$work/msgin5g-tools
install -d "$tools/usr/bin" "$tools/usr/share/man/man1" "$tools/usr/share/bash-completion/completions"
install -m 0755 "$build/tools/msgin5gctl" "$tools/usr/bin/"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$tools/usr/bin/msgin5gctl"
man_page "$build/tools/msgin5gctl" 1 msgin5gctl "MSGin5G Server admin command-line client" "$tools/usr/share/man/man1"
install -m 0644 packaging/bash-completion/msgin5gctl "$tools/usr/share/bash-completion/completions/"
install -m 0755 "$build/tools/msgin5g-ue" "$tools/usr/bin/"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$tools/usr/bin/msgin5g-ue"
man_page "$build/tools/msgin5g-ue" 1 msgin5g-ue "MSGin5G UE simulator over CoAP" "$tools/usr/share/man/man1"
stage_common msgin5g-tools

# --- .deb ---------------------------------------------------------------------------------
shlib_depends() {  # ROOT: the Depends of its ELF files, from dpkg-shlibdeps
  local root=$1 d=$work/shlibs
  rm -rf "$d" && mkdir -p "$d/debian"
  printf 'Source: msgin5g\n\nPackage: x\nArchitecture: any\n' > "$d/debian/control"
  local -a files
  mapfile -t files < <(find "$root" -type f -perm -u+x -exec sh -c 'file -b "$1" | grep -q ELF' _ {} \; -print)
  (cd "$d" && dpkg-shlibdeps -O "${files[@]}" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
}
build_deb() {  # PKG SECTION DESCRIPTION-SHORT DESCRIPTION-LONG EXTRA-DEPENDS
  local pkg=$1 root=$work/$1
  install -d "$root/DEBIAN"
  local deps
  deps=$(shlib_depends "$root")
  [ -n "$5" ] && deps="$deps, $5"
  {
    echo "Package: $pkg"
    echo "Version: $version-$release"
    echo "Architecture: $arch"
    echo "Maintainer: $maintainer"
    echo "Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)"
    echo "Depends: $deps"
    echo "Section: $2"
    echo "Priority: optional"
    echo "Homepage: https://example.org/msgin5g"
    echo "Description: $3"
    echo "$4" | fold -s -w 78 | sed 's/^/ /; s/ *$//'
  } > "$root/DEBIAN/control"
  if [ -d "$root/etc" ]; then
    (cd "$root" && find etc -type f | sed 's|^|/|') > "$root/DEBIAN/conffiles"
  fi
  for script in postinst prerm postrm; do
    if [ -f "packaging/deb/$pkg.$script" ]; then
      install -m 0755 "packaging/deb/$pkg.$script" "$root/DEBIAN/$script"
    fi
  done
  (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
     xargs -0 md5sum) > "$root/DEBIAN/md5sums"
  dpkg-deb --root-owner-group -Zxz --build "$root" "$out/${pkg}_${version}-${release}_${arch}.deb" >/dev/null
  rm -rf "$root/DEBIAN"
  echo "$out/${pkg}_${version}-${release}_${arch}.deb"
}
build_deb msgin5g-server net "MSGin5G Server: store-and-forward messaging for IoT (3GPP TS 23.554)" \
  "msgin5gd is an MSGin5G Server (3GPP TS 23.554, TS 29.538): application servers send messages over HTTP/2, UEs receive them over CoAP or through Message Gateways. Every acknowledged message is in RocksDB with its write-ahead log synced. Runs under systemd as msgin5gd.service." \
  "systemd"
build_deb msgin5g-gateway net "MSGin5G Message Gateway: SMS over SMPP, MQTT devices, broadcast" \
  "msgin5g-gatewayd connects an MSGin5G Server to devices it cannot reach itself: SMS through SMPP 3.4 SMSCs (L3G), devices on an MQTT broker (N3G) and broadcast areas (BG). It keeps what it accepted in its own RocksDB until it is handed on. Runs under systemd as msgin5g-gatewayd.service." \
  "systemd"
build_deb msgin5g-tools net "MSGin5G tools: admin CLI and UE simulator" \
  "msgin5gctl administers msgin5gd over its admin API (queues, messages, groups, topics, routes, clients, tokens). msgin5g-ue simulates MSGin5G UEs over CoAP (one UE, or thousands for load tests) against an MSGin5G Server." ""

# --- .rpm ---------------------------------------------------------------------------------
if [ -z "${SKIP_RPM:-}" ]; then
  for pkg in msgin5g-server msgin5g-gateway msgin5g-tools; do
    spec=$work/$pkg.spec
    sed -e "s/@NAME@/$pkg/" -e "s/@VERSION@/$version/" -e "s/@RELEASE@/$release/" \
        -e "s|@MAINTAINER@|$maintainer|" -e "s|@DATE@|$(LC_ALL=C date +'%a %b %d %Y')|" \
        "packaging/rpm/$pkg.spec.in" > "$spec"
    rpmbuild -bb --quiet --define "_topdir $work/rpmbuild" --define "_rpmdir $out" \
      --define "stagedir $work/$pkg" --define "_build_id_links none" "$spec" >/dev/null
  done
  find "$out" -name "*-$version-$release.*.rpm" -print
fi

# --- checks -------------------------------------------------------------------------------
if [ -z "${SKIP_LINT:-}" ]; then
  status=0
  echo "== lintian =="
  lintian --info "$out"/msgin5g-*_"${version}-${release}_${arch}.deb" || status=$?
  if [ -z "${SKIP_RPM:-}" ]; then
    echo "== rpmlint =="
    mapfile -t rpms < <(find "$out" -name "*-$version-$release.*.rpm")
    rpmlint -c packaging/rpm/rpmlint.toml "${rpms[@]}" || status=$?
  fi
  exit $status
fi
