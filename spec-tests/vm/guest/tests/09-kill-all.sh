# kill --all (cgroup.kill on cgroup2): every process of the cgroup dies, also
# one that joined the cgroup from outside the container's pid namespace, and
# also while the container is paused.
. /vmtier/lib.sh "$1"
id=kall; cgp=/vmtier/$NAME/$id
mk_bundle $id '["sh","-c","sleep 1000 & sleep 1000 & echo ready > /out/ready; wait"]' '' $cgp
create_start $id || { show_log $id; abort create-start-failed; }
wait_file $OUT/$id/ready 20 || bad not-ready
sh -c "echo \$\$ > $CG$cgp/cgroup.procs && exec sleep 1000" &
outsider=$!
i=0; while [ "$(wc -l < $CG$cgp/cgroup.procs)" -lt 4 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
expect_ge procs-before "$(wc -l < $CG$cgp/cgroup.procs)" 4
expect_ok pause rt pause $id
expect_ok kill-all rt kill --all $id KILL
wait_status $id stopped 20 || bad "not-stopped:$(status $id)"
wait $outsider; expect outsider-exit $? 137
i=0; while [ -n "$(cat $CG$cgp/cgroup.procs)" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
expect procs-after "$(cgf $cgp cgroup.procs)" ""
expect cgroup.events:populated "$(kv $CG$cgp/cgroup.events populated)" 0
delete_check $id $cgp
finish
