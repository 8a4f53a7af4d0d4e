# A relative cgroupsPath nests under the caller's own cgroup. Caller: a
# process in the root cgroup (the one cgroup2 lets hold processes and still
# enable controllers for its children); cgroupsPath
# "vmtier/relative-path/ctr" with a pids limit: the runtime creates the path
# and enables the controller along it. The container is then inspected and
# deleted from init.scope, another cgroup: the runtime must use the path it
# stored, not recompute it from its caller.
. /vmtier/lib.sh "$1"
id=rel; cgp=/vmtier/$NAME/ctr
mk_bundle $id '["sleep","1000"]' '"pids":{"limit":10}' ${cgp#/}
sh -c "echo \$\$ > $CG/cgroup.procs && exec berth --root $STATE create --bundle $BUNDLES/$id $id" \
  > $OUT/$id.log 2>&1 < /dev/null || { show_log $id; abort create-failed; }
pid=$(pid_of $id)
expect proc-cgroup "$(cat /proc/$pid/cgroup)" "0::$cgp"
expect cgroup.procs "$(cgf $cgp cgroup.procs)" "$pid"
expect pids.max "$(cgf $cgp pids.max)" 10
expect_ok delete rt delete --force $id
[ -d $CG$cgp ] && bad "cgroup-left:$cgp" || note cgroup-removed
finish
