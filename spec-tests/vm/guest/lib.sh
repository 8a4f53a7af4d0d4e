# Sourced by every test in /vmtier/tests (busybox sh): . /vmtier/lib.sh "$1"
# $1 is the test's name; the runner checks that exactly one
#   VMTEST <name> PASS|FAIL <detail>
# line comes out (finish prints it).
NAME=$1
STATE=/run/vmtier/state
CG=/sys/fs/cgroup
ROOTFS=/var/lib/vmtier/rootfs
OUT=/run/vmtier/out          # OUT/<id>: bind-mounted at /out in container <id>
BUNDLES=/run/vmtier/bundles
# runc's default capabilities plus CAP_MKNOD (device tests make nodes)
CAPS='"CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"'

rt() { berth --root "$STATE" "$@"; }
now() { cut -d' ' -f1 /proc/uptime; }

# --- checks: each appends "label=value" to the detail; any mismatch fails
OK=1
DETAIL=
note() { DETAIL="$DETAIL $*"; }
bad() { OK=0; DETAIL="$DETAIL !$*"; }
# expect LABEL ACTUAL WANTED
expect() {
  if [ "$2" = "$3" ]; then note "$1=[$2]"; else bad "$1=[$2](want [$3])"; fi
}
# expect_ge LABEL ACTUAL MIN   (integers; empty counts as failure)
expect_ge() {
  case $2 in ''|*[!0-9]*) bad "$1=[$2](want >=$3)"; return ;; esac
  if [ "$2" -ge "$3" ]; then note "$1=$2"; else bad "$1=$2(want >=$3)"; fi
}
# expect_grep LABEL PATTERN FILE   (grep -E, the label says what it means)
expect_grep() {
  if grep -Eq -- "$2" "$3" 2>/dev/null; then note "$1"; else bad "$1(no /$2/ in ${3##*/})"; fi
}
expect_no_grep() {
  if grep -Eq -- "$2" "$3" 2>/dev/null; then bad "$1(/$2/ in ${3##*/})"; else note "$1"; fi
}
# expect_ok LABEL COMMAND... : the command must succeed (its output is shown)
expect_ok() {
  _l=$1; shift
  if "$@" > /tmp/cmd.out 2>&1; then note "$_l"; else
    bad "$_l(exit $?: $(head -c 300 /tmp/cmd.out | tr '\n' ' '))"
  fi
  sed "s/^/[$_l] /" /tmp/cmd.out
}
finish() {
  if [ $OK = 1 ]; then echo "VMTEST $NAME PASS$DETAIL"; else echo "VMTEST $NAME FAIL$DETAIL"; fi
  exit 0
}
# abort DETAIL: give up on this test (the runner then cleans up)
abort() { bad "$*"; finish; }

# --- cgroup files
# cgf CGPATH FILE: the file's content on one line ("" if missing)
cgf() { tr '\n' ' ' < "$CG$1/$2" 2>/dev/null | sed 's/ $//'; }
# kv FILE KEY: the value of "KEY value" in a flat-keyed file
kv() { awk -v k="$2" '$1==k{print $2}' "$1" 2>/dev/null; }

# --- bundles
# mk_bundle ID ARGS_JSON RESOURCES_MEMBERS CGROUPS_PATH [EXTRA_LINUX_MEMBERS]
#   RESOURCES_MEMBERS: the inside of linux.resources, e.g.
#   '"memory":{"limit":33554432}' ("" for none)
#   EXTRA_LINUX_MEMBERS: more members of "linux", e.g. '"seccomp":{...}'
# The root is the shared read-only rootfs; /out is rw, the host's $OUT/<id>.
mk_bundle() {
  _ext=$5; [ -n "$_ext" ] && _ext=",$_ext"
  mkdir -p "$BUNDLES/$1" "$OUT/$1"
  cat > "$BUNDLES/$1/config.json" <<JSON
{
  "ociVersion": "1.2.0",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": $2,
    "env": ["PATH=/bin", "HOME=/root"],
    "cwd": "/",
    "capabilities": {"bounding": [$CAPS], "effective": [$CAPS], "permitted": [$CAPS]},
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true
  },
  "root": {"path": "$ROOTFS", "readonly": true},
  "hostname": "$1",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid","strictatime","mode=755","size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid","noexec","nodev","mode=1777","size=65536k"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid","noexec","nodev","ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid","noexec","nodev","relatime","ro"]},
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid","nodev","mode=1777"]},
    {"destination": "/out", "type": "bind", "source": "$OUT/$1", "options": ["rbind","rw"]}
  ],
  "linux": {
    "cgroupsPath": "$4",
    "resources": {$3},
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}],
    "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/sys/firmware"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]$_ext
  }
}
JSON
}
# create ID: `create` with the container's stdio going to $OUT/ID.log
create() {
  rt create --bundle "$BUNDLES/$1" "$1" > "$OUT/$1.log" 2>&1 < /dev/null
}
# create_start ID: create + start (detached)
create_start() {
  create "$1" || return 1
  rt start "$1" >> "$OUT/$1.log" 2>&1
}
# status ID: created|running|paused|stopped ("" when unknown)
status() { rt state "$1" 2>/dev/null | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p' | head -n 1; }
pid_of() { rt state "$1" 2>/dev/null | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' | head -n 1; }
# wait_status ID STATUS [SECS]
wait_status() {
  _i=0; _n=$(( ${3:-20} * 10 ))
  while [ $_i -lt $_n ]; do
    [ "$(status "$1")" = "$2" ] && return 0
    sleep 0.1; _i=$((_i + 1))
  done
  return 1
}
# wait_file FILE [SECS]: until FILE exists and is not empty
wait_file() {
  _i=0; _n=$(( ${2:-20} * 10 ))
  while [ $_i -lt $_n ]; do
    [ -s "$1" ] && return 0
    sleep 0.1; _i=$((_i + 1))
  done
  return 1
}
# show_log ID: the container's output, for the console
show_log() { sed "s/^/[$1] /" "$OUT/$1.log" 2>/dev/null; }
# delete_check ID CGPATH: `delete` must succeed and remove the container's cgroup
delete_check() {
  expect_ok delete rt delete "$1"
  if [ -d "$CG$2" ]; then bad "cgroup-left-after-delete:$2"; else note "cgroup-removed"; fi
}
