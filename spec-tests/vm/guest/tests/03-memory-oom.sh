# memory.limit 32 MiB: dd allocating a 64 MiB buffer is OOM-killed (exit
# 137), memory.events counts the oom_kill, `events --stats` shows the limit.
. /vmtier/lib.sh "$1"
id=mem; cgp=/vmtier/$NAME/$id
mk_bundle $id '["sh","-c","dd if=/dev/zero of=/dev/null bs=64M count=1; echo dd-exit=$?"]' \
  '"memory":{"limit":33554432,"swap":33554432,"reservation":16777216}' $cgp
create $id || { show_log $id; abort create-failed; }
expect memory.max "$(cgf $cgp memory.max)" 33554432
expect memory.swap.max "$(cgf $cgp memory.swap.max)" 0
expect memory.low "$(cgf $cgp memory.low)" 16777216
expect_ge procs-after-create "$(wc -l < $CG$cgp/cgroup.procs)" 1
rt events --stats $id > /tmp/stats.json 2>&1
sed 's/^/[stats] /' /tmp/stats.json | cut -c1-400
expect_grep stats-memory-limit '"memory":.*"limit": *33554432' /tmp/stats.json
expect_ok start rt start $id
wait_status $id stopped 30 || bad not-stopped
show_log $id
expect_grep dd-oom-killed '^dd-exit=137$' $OUT/$id.log
expect_ge memory.events:oom_kill "$(kv $CG$cgp/memory.events oom_kill)" 1
expect_ge memory.events:oom "$(kv $CG$cgp/memory.events oom)" 1
note "dmesg-oom-lines=$(dmesg | grep -c 'Memory cgroup out of memory')"
delete_check $id $cgp
finish
