#!/bin/sh
# crun on a hybrid-cgroup host, as a drop-in runtime binary (the shim runs it
# as `berth`, containerd-shim-runc-v2 as its BinaryName).
#
# crun 1.8.1 refuses a host whose cgroup2 tree has a controller enabled
# ("cgroups in hybrid mode not supported, drop all controllers from
# cgroupv2"); here /sys/fs/cgroup/unified carries hugetlb. Each call runs in
# a private mount namespace of its own where that directory is covered by an
# empty tmpfs, so crun sees a plain cgroup v1 host and manages the
# v1 controllers as runc does. Nothing outside this short-lived namespace
# changes (crun may mkdir its cgroup path in the tmpfs: discarded with it);
# the container's own namespaces are cloned from it. Where there is
# no such directory (pure v1 or pure v2 hosts) crun runs as it is.
#
# BERTH_CRUN: the real crun (default /usr/bin/crun).
real=${BERTH_CRUN:-/usr/bin/crun}
if [ ! -d /sys/fs/cgroup/unified ] || [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" != cgroup2fs ]; then
  exec "$real" "$@"
fi
exec unshare --mount --propagation private /bin/sh -c \
  'mount -t tmpfs -o size=64k,mode=755 berth-hide-unified /sys/fs/cgroup/unified && exec "$0" "$@"' \
  "$real" "$@"
