#!/bin/bash
# Benchmark entry point: berth vs crun vs runc (startup of a busybox bundle by default).
#
#   sudo bench/run.sh [--runs N] [--warmup N] [--berth PATH] [--runtimes berth,crun,runc]
#                     [--output FILE] [--state-on-disk] [--keep]
#   sudo bench/run.sh --profile [--berth PATH] [--out DIR] [--repeat N]
#   sudo bench/run.sh --exec [--runs N] [--berth PATH] [--runtimes ...]
#   sudo bench/run.sh --min-memory [--berth PATH] [--runtimes ...]
#   sudo bench/run.sh --images [--runs N] [--tools berthctl,podman,ctr,skopeo,floor]
#   sudo bench/run.sh --containers [--runs N] [--tools berthctl,ctr,podman,docker]
#
# Options go to bench/startup.py (see `bench/startup.py --help`), or with
# --profile to bench/profile.py (strace/perf of one `berth run`), --exec to
# bench/exec_latency.py (`exec <id> true` latency), --min-memory to
# bench/min_memory.py (smallest memory limit under which `run` works), --images
# to bench/images.py (berthd pull/save/load/memory vs podman, ctr, skopeo, curl),
# --containers to bench/containers.py (berthctl run --rm, run -d memory, ps vs
# ctr, podman).
# BERTH=/path/to/berth picks the berth binary (default build/runtime/cli/berth).
#
# The driver runs in a private mount namespace (unshare -m --propagation private)
# in which /sys/fs/cgroup/unified is covered by a fresh, empty tmpfs: crun 1.8.1
# refuses this host's hybrid cgroup layout, and all three runtimes must see the
# same cgroup world (v1 only). Covered, not unmounted: /sys/fs/cgroup is a tmpfs
# shared with the host, and crun in v1 mode still follows the "0::" line of
# /proc/self/cgroup and does `mkdir -p /sys/fs/cgroup/unified/<path>` plus a
# plain cgroup.procs file per container. With the mount gone those land in the
# host's tmpfs (hidden under the host's cgroup2 mount, never cleaned); on the
# private tmpfs they vanish with the namespace. The host's mounts are not touched.
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHON=/usr/bin/python3

if [ "$(id -u)" != 0 ]; then
  echo "bench/run.sh: must run as root (sudo bench/run.sh)" >&2
  exit 1
fi
for tool in unshare mount umount "$PYTHON" /bin/busybox; do
  command -v "$tool" >/dev/null || { echo "bench/run.sh: missing $tool" >&2; exit 1; }
done

if [ "${BERTH_BENCH_IN_NS:-}" != 1 ]; then
  export BERTH_BENCH_IN_NS=1
  exec unshare --mount --propagation private -- "$0" "$@"
fi

# Inside the private mount namespace from here on.
U=/sys/fs/cgroup/unified
if [ -d "$U" ]; then
  mount -t tmpfs -o nosuid,nodev,noexec,size=16m,mode=0755 bench-hide-unified "$U"
fi

case "${1:-}" in
  --profile) shift; exec "$PYTHON" "$BENCH/profile.py" "$@" ;;
  --exec) shift; exec "$PYTHON" "$BENCH/exec_latency.py" "$@" ;;
  --min-memory) shift; exec "$PYTHON" "$BENCH/min_memory.py" "$@" ;;
  --images) shift; exec "$PYTHON" "$BENCH/images.py" "$@" ;;
  --containers) shift; exec "$PYTHON" "$BENCH/containers.py" "$@" ;;
esac
exec "$PYTHON" "$BENCH/startup.py" "$@"
