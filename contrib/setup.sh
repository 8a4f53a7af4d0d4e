#!/bin/bash
# README command 1: install dependencies, build, run one container with the
# runtime (a busybox bundle made here, `berth run`), then start berthd on
# private dirs, load the built-in busybox image (contrib/busybox-image.py,
# made offline) and show it. Everything it creates (bundle, state dirs,
# cgroups, the daemon, its snapshots) is removed on exit, whatever happens.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

bash "$REPO/contrib/install-deps.sh"
bash "$REPO/contrib/build.sh"

TMP=$(mktemp -d /tmp/berth-setup.XXXXXX)
chmod 755 "$TMP"
ID=berth-setup-$$
# This host may keep every shell in a non-root memory cgroup and forbid
# creating cgroups at a hierarchy root: nest the container's cgroup under our
# own (the same absolute path is used in every v1 hierarchy).
OWN=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/self/cgroup)
[ -n "$OWN" ] || OWN=$(awk -F: '$2 == "" {print $3}' /proc/self/cgroup)
OWN=${OWN%/}
CGROUP=$OWN/$ID/demo

# Directories of the cgroup path missing now, per hierarchy: removed on exit.
created_cgroups=()
# mountinfo: the fstype follows the "-" that ends the optional fields
hierarchies=$(awk '{for (i = 7; i <= NF; i++) if ($i == "-") {
  if ($(i + 1) ~ /^cgroup2?$/) print $5; break }}' /proc/self/mountinfo | sort -u)
for h in $hierarchies; do
  d=$h
  for part in ${CGROUP//\// }; do
    d=$d/$part
    [ -d "$d" ] || created_cgroups+=("$d")
  done
done

BERTHD_PID=
cleanup() {
  if [ -n "$BERTHD_PID" ]; then
    kill -TERM "$BERTHD_PID" 2>/dev/null || true
    wait "$BERTHD_PID" 2>/dev/null || true
  fi
  "$BERTH" --root "$TMP/state" delete --force demo >/dev/null 2>&1 || true
  # deepest first; rmdir never removes a cgroup that is still in use
  for ((i = ${#created_cgroups[@]} - 1; i >= 0; i--)); do
    rmdir "${created_cgroups[$i]}" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

# A minimal busybox root filesystem.
R=$TMP/bundle/rootfs
mkdir -p "$R"/{bin,dev,etc,proc,sys,tmp,root}
chmod 1777 "$R/tmp"
cp /bin/busybox "$R/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$R/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' > "$R/etc/passwd"
echo 'root:x:0:' > "$R/etc/group"

jq -n --arg cgroup "$CGROUP" '{
  ociVersion: "1.2.0",
  process: {
    terminal: false, user: {uid: 0, gid: 0}, cwd: "/",
    args: ["sh", "-c", "echo hello from berth; uname -a; id"],
    env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
    capabilities: {
      bounding: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      effective: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      permitted: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]},
    rlimits: [{type: "RLIMIT_NOFILE", hard: 1024, soft: 1024}],
    noNewPrivileges: true},
  root: {path: "rootfs", readonly: true},
  hostname: "berth",
  mounts: [
    {destination: "/proc", type: "proc", source: "proc"},
    {destination: "/dev", type: "tmpfs", source: "tmpfs",
     options: ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {destination: "/dev/pts", type: "devpts", source: "devpts",
     options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
    {destination: "/dev/shm", type: "tmpfs", source: "shm",
     options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {destination: "/sys", type: "sysfs", source: "sysfs",
     options: ["nosuid", "noexec", "nodev", "ro"]}],
  linux: {
    cgroupsPath: $cgroup,
    resources: {devices: [{allow: false, access: "rwm"}]},
    namespaces: [{type: "pid"}, {type: "ipc"}, {type: "uts"}, {type: "mount"},
                 {type: "network"}],
    maskedPaths: ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
    readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]}
}' > "$TMP/bundle/config.json"

echo "== berth run (bundle $TMP/bundle, cgroup $CGROUP)"
set +e
"$BERTH" --root "$TMP/state" run --bundle "$TMP/bundle" demo </dev/null
rc=$?
set -e
echo "== container exited with $rc"
[ "$rc" = 0 ] || exit $rc

echo "== berthd (root $TMP/berthd/root) and the built-in busybox image"
mkdir -p "$TMP/berthd"
BERTHD=$BUILD/supervisor/daemon/berthd
BERTHCTL="$BUILD/supervisor/ctl/berthctl --address $TMP/berthd/state/berthd.sock"
"$BERTHD" --root "$TMP/berthd/root" --state "$TMP/berthd/state" --config /dev/null \
  --log-file "$TMP/berthd/berthd.log" </dev/null &
BERTHD_PID=$!
for _ in $(seq 100); do
  $BERTHCTL version >/dev/null 2>&1 && break
  kill -0 "$BERTHD_PID" 2>/dev/null || { cat "$TMP/berthd/berthd.log" >&2; exit 1; }
  sleep 0.1
done
python3 "$REPO/contrib/busybox-image.py" "$TMP/busybox.tar" >/dev/null
$BERTHCTL load -i "$TMP/busybox.tar"
$BERTHCTL images
echo "== berthctl run --rm busybox (a container under berth-shim and berth, through berthd)"
$BERTHCTL run --rm busybox sh -c 'echo "hello from a berthd container: $(hostname), $(uname -sr)"'
echo "== berthd ran the built-in busybox image and removed the container"
