# pids.limit 20: a fork loop hits pids.max; the shell in the container sees
# fork fail with EAGAIN ("Resource temporarily unavailable").
. /vmtier/lib.sh "$1"
id=pids; cgp=/vmtier/$NAME/$id
# only builtins after the loop: every fork fails once the limit is reached
mk_bundle $id '["sh","-c","sh -c '"'"'i=0; while [ $i -lt 100 ]; do i=$((i+1)); echo $i > /tmp/n; sleep 30 & done; echo loop-finished'"'"'; echo inner-exit=$?; read n < /tmp/n; echo attempted=$n; read c < /sys/fs/cgroup/pids.current; echo pids.current=$c"]' \
  '"pids":{"limit":20}' $cgp
create $id || { show_log $id; abort create-failed; }
expect pids.max "$(cgf $cgp pids.max)" 20
expect_ok start rt start $id
wait_status $id stopped 30 || bad not-stopped
show_log $id
expect_grep fork-EAGAIN 'Resource temporarily unavailable' $OUT/$id.log
expect_no_grep loop-stopped 'loop-finished' $OUT/$id.log
att=$(sed -n 's/^attempted=//p' $OUT/$id.log)
[ -n "$att" ] && [ "$att" -lt 100 ] && note "forks-attempted=$att/100" || bad "forks-attempted=[$att]"
expect_ge pids.events:max "$(kv $CG$cgp/pids.events max)" 1
delete_check $id $cgp
finish
