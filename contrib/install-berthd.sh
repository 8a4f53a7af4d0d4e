#!/bin/bash
# Install berthd, berthctl, the runtime, the shim and the shim's json-file
# logger (PREFIX/libexec/berth/berth-logger) built in build/, the systemd
# unit, and the built-in busybox image, as root:
#
#   contrib/install-berthd.sh [--prefix /usr/local] [--destdir DIR] [--no-start]
#
# With systemd as PID 1 the unit is enabled and started; elsewhere (a
# container, this project's CI machines) start `berthd` yourself. Config is
# optional: /etc/berth/berthd.toml (every default works without it).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PREFIX=/usr/local
DESTDIR=
START=1
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=$2; shift 2 ;;
    --destdir) DESTDIR=$2; shift 2 ;;
    --no-start) START=0; shift ;;
    *) echo "install-berthd: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "install-berthd: must run as root" >&2; exit 1; }
B=$BUILD
for f in "$B/supervisor/daemon/berthd" "$B/supervisor/ctl/berthctl" "$B/runtime/cli/berth" "$B/shim/berth-shim" \
         "$B/supervisor/logs/berth-logger"; do
  [ -x "$f" ] || { echo "install-berthd: $f is not built (run contrib/build.sh)" >&2; exit 1; }
done

install -d -m 0755 "$DESTDIR$PREFIX/bin" "$DESTDIR$PREFIX/share/berth" "$DESTDIR/etc/berth" \
  "$DESTDIR/etc/systemd/system" "$DESTDIR$PREFIX/libexec/berth"
install -m 0755 "$B/supervisor/daemon/berthd" "$B/supervisor/ctl/berthctl" "$B/runtime/cli/berth" \
  "$B/shim/berth-shim" "$DESTDIR$PREFIX/bin/"
ln -sf berth-shim "$DESTDIR$PREFIX/bin/containerd-shim-berth-v2"
# Not on PATH: only the shim runs it, from the binary:// log URI berthd gives.
install -m 0755 "$B/supervisor/logs/berth-logger" "$DESTDIR$PREFIX/libexec/berth/"
python3 "$REPO/contrib/busybox-image.py" "$DESTDIR$PREFIX/share/berth/busybox.tar" >/dev/null
sed "s|/usr/local/bin/berthd|$PREFIX/bin/berthd|" "$REPO/contrib/systemd/berthd.service" \
  > "$DESTDIR/etc/systemd/system/berthd.service"
chmod 0644 "$DESTDIR/etc/systemd/system/berthd.service"
echo "install-berthd: installed into ${DESTDIR:-/}$PREFIX"

if [ -z "$DESTDIR" ] && [ "$START" = 1 ] && [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
  systemctl daemon-reload
  systemctl enable --now berthd.service
  "$PREFIX/bin/berthctl" load -i "$PREFIX/share/berth/busybox.tar"
else
  echo "install-berthd: systemd is not PID 1 here: start $PREFIX/bin/berthd yourself," \
       "then: berthctl load -i $PREFIX/share/berth/busybox.tar"
fi
