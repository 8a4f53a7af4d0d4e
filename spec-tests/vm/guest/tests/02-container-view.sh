# `run` of a short container: exit code, and what it sees of its cgroup (its
# own cgroup namespace: "0::/", a cgroup2 mount showing its own limits).
# `run` deletes the container when it exits: its cgroup must be gone.
. /vmtier/lib.sh "$1"
id=view; cgp=/vmtier/$NAME/$id
mk_bundle $id '["sh","-c","echo cg=$(cat /proc/self/cgroup); echo fs=$(stat -f -c %t /sys/fs/cgroup); echo pids.max=$(cat /sys/fs/cgroup/pids.max); echo ro=$(touch /sys/fs/cgroup/x 2>&1 | grep -c Read-only); exit 3"]' \
  '"pids":{"limit":42}' $cgp
rt run --bundle $BUNDLES/$id $id > $OUT/$id.log 2>&1 < /dev/null
expect run-exit $? 3
show_log $id
expect_grep own-cgroup-ns '^cg=0::/$' $OUT/$id.log
expect_grep cgroup2-mount "^fs=63677270$" $OUT/$id.log
expect_grep sees-own-pids.max '^pids.max=42$' $OUT/$id.log
expect_grep cgroup-mount-ro '^ro=1$' $OUT/$id.log
[ -d $CG$cgp ] && bad "cgroup-left-after-run:$cgp" || note cgroup-removed
expect state-gone "$(status $id)" ""
finish
