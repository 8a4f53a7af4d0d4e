# pause/resume through cgroup.freeze: state "paused", cgroup.freeze 1,
# cgroup.events frozen 1, a counter stops; resume thaws it.
. /vmtier/lib.sh "$1"
id=frz; cgp=/vmtier/$NAME/$id
mk_bundle $id '["sh","-c","i=0; while :; do i=$((i+1)); echo $i > /out/count; sleep 0.1; done"]' '' $cgp
create_start $id || { show_log $id; abort create-start-failed; }
wait_file $OUT/$id/count 20 || bad counter-not-running
expect_ok pause rt pause $id
expect status-paused "$(status $id)" paused
expect cgroup.freeze "$(cgf $cgp cgroup.freeze)" 1
expect cgroup.events:frozen "$(kv $CG$cgp/cgroup.events frozen)" 1
c1=$(cat $OUT/$id/count); sleep 1; c2=$(cat $OUT/$id/count)
expect counter-stopped "$c2" "$c1"
expect_ok resume rt resume $id
expect status-running "$(status $id)" running
expect cgroup.freeze-after "$(cgf $cgp cgroup.freeze)" 0
expect cgroup.events:frozen-after "$(kv $CG$cgp/cgroup.events frozen)" 0
sleep 1; c3=$(cat $OUT/$id/count)
# (c1 is empty in the unlikely case the freeze caught echo between its
# truncating open and its write)
[ -n "$c3" ] && [ "$c3" -gt "${c1:-0}" ] && note "counter-resumed=$c1->$c3" || bad "counter-resumed=[$c1]->[$c3]"
rt kill $id KILL
wait_status $id stopped 20 || bad not-stopped
delete_check $id $cgp
finish
