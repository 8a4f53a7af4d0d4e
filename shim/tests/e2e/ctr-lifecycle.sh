#!/bin/bash
# End-to-end check of berth-shim under an unmodified containerd 1.6, driven
# by ctr: the launch protocol (start/delete), the Task calls ctr makes, the
# events containerd receives, stdio (FIFOs, file://, tty), exit statuses,
# metrics, OOM events, shim groups, survival of a containerd restart, and the
# idle RSS of a shim. (spec-tests/containerd/test_shim.py runs these and more
# as pytest tests, with berth, runc and crun behind the shim.)
#
# Everything lives under $WORK (default: a fresh /tmp/berth-shim-e2e.XXXXXX):
# containerd runs in a private mount namespace where $WORK/run is bound on
# /run/containerd (1.6 hard-codes shim sockets there), and is stopped by PID.
# The host's /run/containerd and /var/lib/containerd are never touched.
#
# Usage (root): IMAGE_TAR=<oci-archive.tar of a busybox image> \
#   SHIM=build/shim/berth-shim [RUNTIME=/usr/sbin/runc] ctr-lifecycle.sh
# RUNTIME is what the shim runs as `berth` (found first in containerd's PATH);
# RUNTIME_HAS_EXEC=0 skips exec/pause checks for a runtime without them.
set -uo pipefail
[ "$(id -u)" = 0 ] || { echo "SKIP: requires root"; exit 0; }
command -v containerd >/dev/null && command -v ctr >/dev/null || { echo "SKIP: containerd/ctr not installed"; exit 0; }
: "${IMAGE_TAR:?set IMAGE_TAR to an OCI archive of a busybox image}"
: "${SHIM:?set SHIM to the berth-shim binary}"
SHIM=$(readlink -f "$SHIM")
RUNTIME=${RUNTIME:-$(command -v runc)}
RUNTIME_HAS_EXEC=${RUNTIME_HAS_EXEC:-1}
WORK=${WORK:-$(mktemp -d /tmp/berth-shim-e2e.XXXXXX)}
NS=berth-e2e
RT=io.containerd.berth.v2
failures=0; checks=0

mkdir -p "$WORK"/{root,state,run,bin,fifo,logs}
ln -sf "$SHIM" "$WORK/bin/containerd-shim-berth-v2"
ln -sf "$RUNTIME" "$WORK/bin/berth"
cat > "$WORK/config.toml" <<EOC
version = 2
root = "$WORK/root"
state = "$WORK/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$WORK/containerd.sock"
[ttrpc]
  address = "$WORK/containerd.sock.ttrpc"
[metrics]
  address = ""
EOC

start_containerd() {
  mkdir -p /run/containerd
  PATH="$WORK/bin:$PATH" setsid unshare --mount --propagation private /bin/sh -c \
    'mount --bind "$0" /run/containerd && exec containerd --config "$1"' "$WORK/run" "$WORK/config.toml" \
    >>"$WORK/logs/containerd.log" 2>&1 </dev/null &
  CONTAINERD_PID=$!
  for _ in $(seq 100); do ctr --address "$WORK/containerd.sock" version >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "containerd did not start"; cat "$WORK/logs/containerd.log"; exit 1
}
stop_containerd() { kill -TERM "$CONTAINERD_PID" 2>/dev/null; wait "$CONTAINERD_PID" 2>/dev/null; }
cleanup() {
  for t in $(c t ls -q 2>/dev/null); do c t kill -s SIGKILL "$t" >/dev/null 2>&1; done
  sleep 0.3
  for t in $(c t ls -q 2>/dev/null); do c t rm -f "$t" >/dev/null 2>&1; done
  for t in $(c c ls -q 2>/dev/null); do c c rm "$t" >/dev/null 2>&1; done
  stop_containerd
  # Shims outlive containerd by design: end ours, by PID.
  for p in $(pgrep -f "containerd-shim-berth-v2 -namespace $NS "); do kill -KILL "$p"; done
  # The runtimes made $CG in every hierarchy: remove it (rmdir only, deepest first).
  for h in /sys/fs/cgroup/*/; do
    [ -d "$h${CG#/}" ] && find "$h${CG#/}" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  echo "work dir: $WORK (containerd log: $WORK/logs/containerd.log)"
}
trap cleanup EXIT

c() { timeout 30 ctr --address "$WORK/containerd.sock" -n "$NS" "$@"; }
run() { local sub=$1; shift; c "$sub" --fifo-dir "$WORK/fifo" "$@"; }
cgroup_base() { echo "$(awk -F: '$2=="memory"{print $3}' /proc/self/cgroup | sed 's:/$::')/berth-shim-e2e-$$"; }
CG=$(cgroup_base)
IMG=docker.io/library/busybox:latest
check() { # description, expected, actual
  checks=$((checks + 1))
  if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: expected [$2], got [$3]"; failures=$((failures + 1)); fi
}

start_containerd
c image import --base-name docker.io/library/busybox "$IMAGE_TAR" >/dev/null
c images ls -q | grep -q busybox || c image tag "$(c images ls -q | head -1)" $IMG >/dev/null
timeout 60 ctr --address "$WORK/containerd.sock" -n "$NS" events > "$WORK/events.txt" 2>&1 &
EVENTS_PID=$!

out=$(run run --rm --runtime $RT --cgroup "$CG/r1" $IMG r1 sh -c 'echo hello; exit 7'); rc=$?
check "run --rm prints the output" hello "$out"
check "run --rm exit code" 7 "$rc"
n=$(run run --rm --runtime $RT --cgroup "$CG/r3" $IMG r3 sh -c 'i=0; while [ $i -lt 30000 ]; do echo "line $i"; i=$((i+1)); done' | wc -l)
check "30000 lines of output, none lost" 30000 "$n"
n=$(run run --rm --runtime $RT --cgroup "$CG/r4" $IMG r4 head -c 8000000 /dev/zero | wc -c)
check "8 MB of output, none lost" 8000000 "$n"
out=$(printf 'in1\nin2\n' | run run --rm --runtime $RT --cgroup "$CG/r5" $IMG r5 sh -c 'cat; echo eof'); check "stdin reaches the container, then EOF" "in1 in2 eof" "$(echo $out)"
run run --rm --log-uri "file://$WORK/r6.log" --runtime $RT --cgroup "$CG/r6" $IMG r6 sh -c 'echo out; echo err >&2'
check "file:// log gets stdout and stderr" "out err" "$(echo $(cat "$WORK/r6.log"))"
out=$(script -qec "ctr --address $WORK/containerd.sock -n $NS run --fifo-dir $WORK/fifo --rm -t --runtime $RT --cgroup $CG/r7 $IMG r7 sh -c 'tty >/dev/null && echo is-a-tty; exit 5'" /dev/null | tr -d '\r' | sed 's/\^@//g')
check "tty run sees a terminal" is-a-tty "$out"

run run -d --runtime $RT --cgroup "$CG/d1" $IMG d1 sleep 1000 >/dev/null
check "detached task is RUNNING" RUNNING "$(c t ls | awk '$1=="d1"{print $3}')"
check "task ps lists the init" 1 "$(c t ps d1 | tail -n +2 | wc -l)"
sock=$(cat "$WORK/state/io.containerd.runtime.v2.task/$NS/d1/address"); sock=${sock#unix://}
check "shim socket is a path under /run/containerd/s" "/run/containerd/s/" "${sock%/*}/"
check "shim socket mode" 600 "$(nsenter -t "$CONTAINERD_PID" -m stat -c %a "$sock")"
shim_pid=$(pgrep -f "containerd-shim-berth-v2 -namespace $NS .*-id d1 ")
echo "info idle shim VmRSS: $(awk '/VmRSS/{print $2, $3}' /proc/$shim_pid/status)"
if [ "$RUNTIME_HAS_EXEC" = 1 ]; then
  out=$(c t exec --fifo-dir "$WORK/fifo" --exec-id x1 d1 sh -c 'echo in-exec; exit 3'); rc=$?
  check "exec output" in-exec "$out"; check "exec exit code" 3 "$rc"
  c t exec --fifo-dir "$WORK/fifo" --exec-id x2 d1 sh -c 'kill -9 $$'; check "signalled exec exits 128+9" 137 $?
  c t pause d1; check "pause" PAUSED "$(c t ls | awk '$1=="d1"{print $3}')"
  c t resume d1; check "resume" RUNNING "$(c t ls | awk '$1=="d1"{print $3}')"
fi
usage=$(c t metrics d1 | awk '$1=="memory.usage_in_bytes"{print $2}')
check "task metrics: memory usage is a real number" yes "$([ "${usage:-0}" -gt 0 ] && echo yes || echo "${usage:-none}")"
run run --rm --runtime $RT --memory-limit 16777216 --cgroup "$CG/o1" $IMG o1 tail /dev/zero; rc=$?
check "OOM-killed init exits 137" 137 "$rc"
for g in g1 g2; do run run -d --runtime $RT --annotation io.containerd.runc.v2.group=grp --cgroup "$CG/$g" $IMG $g sleep 1000 >/dev/null; done
check "grouped containers share one shim" "$(cat "$WORK/state/io.containerd.runtime.v2.task/$NS/g1/address")" \
  "$(cat "$WORK/state/io.containerd.runtime.v2.task/$NS/g2/address")"
for g in g1 g2; do c t kill -s SIGKILL $g; done; sleep 0.5
for g in g1 g2; do c t rm $g >/dev/null 2>&1; c c rm $g; done
# containerd restarts; the shim and its task live on.
stop_containerd; kill "$EVENTS_PID" 2>/dev/null; start_containerd
timeout 60 ctr --address "$WORK/containerd.sock" -n "$NS" events >> "$WORK/events.txt" 2>&1 &
EVENTS_PID=$!
check "task survives a containerd restart" RUNNING "$(c t ls | awk '$1=="d1"{print $3}')"
sleep 0.3  # let the new events subscription settle
c t kill -s SIGKILL d1; sleep 0.5
check "killed task is STOPPED" STOPPED "$(c t ls | awk '$1=="d1"{print $3}')"
c t rm d1 >/dev/null; c c rm d1
sleep 0.5
check "shim exits after Shutdown" "" "$(pgrep -f "containerd-shim-berth-v2 -namespace $NS .*-id d1 ")"
check "shim socket removed" "" "$(nsenter -t "$CONTAINERD_PID" -m ls /run/containerd/s/ 2>/dev/null)"

kill "$EVENTS_PID" 2>/dev/null
# ctr events: <date> <time> <zone> UTC <namespace> <topic> <json>
order=$(awk '$6 ~ /^\/tasks\// && /"r1"/{print $6}' "$WORK/events.txt" | tr '\n' ' ')
check "events of r1 in order" "/tasks/create /tasks/start /tasks/exit /tasks/delete " "$order"
grep -q '/tasks/exit {"container_id":"d1","id":"d1".*"exit_status":137' "$WORK/events.txt"; check "TaskExit of the killed init carries 137" 0 $?
order=$(awk '$6 ~ /^\/tasks\/(oom|exit)$/ && /"o1"/{print $6}' "$WORK/events.txt" | tr '\n' ' ')
check "TaskOOM before TaskExit" "/tasks/oom /tasks/exit " "$order"

echo "$((checks - failures))/$checks checks passed"
[ "$failures" = 0 ]
