# delete: refused for a running container without --force (the cgroup
# stays); --force kills it and removes the cgroup; a created (never
# started) container is deleted with its cgroup (--force: berth, unlike
# runc, wants it for a created container too -- spec-tests/test_lifecycle.py).
. /vmtier/lib.sh "$1"
id=del; cgp=/vmtier/$NAME/$id
mk_bundle $id '["sleep","1000"]' '"pids":{"limit":10},"memory":{"limit":67108864}' $cgp
create_start $id || { show_log $id; abort create-start-failed; }
pid=$(pid_of $id)
if rt delete $id > /tmp/del.out 2>&1; then bad "delete-running-accepted"; else note "delete-running-refused"; fi
sed 's/^/[delete] /' /tmp/del.out
[ -d $CG$cgp ] && note cgroup-kept || bad cgroup-removed-too-early
expect_ok delete-force rt delete --force $id
[ -d $CG$cgp ] && bad "cgroup-left:$cgp" || note cgroup-removed
[ -e /proc/$pid ] && [ "$(awk '{print $3}' /proc/$pid/stat)" != Z ] && bad "init-alive:$pid" || note init-gone
expect state-gone "$(status $id)" ""

id=delc; cgp=/vmtier/$NAME/$id
mk_bundle $id '["sleep","1000"]' '"pids":{"limit":10}' $cgp
create $id || { show_log $id; abort create-failed; }
[ -d $CG$cgp ] && note created:cgroup-exists || bad created:no-cgroup
expect_ok created:delete rt delete --force $id
[ -d $CG$cgp ] && bad "created:cgroup-left:$cgp" || note created:cgroup-removed
finish
