# cpu quota 50000 / period 100000 -> cpu.max "50000 100000", and a busy loop
# is throttled (TCG's CPU time is imprecise: counters, not percentages).
# shares 512 -> cpu.weight 20 (runc's conversion).
. /vmtier/lib.sh "$1"
id=cpu; cgp=/vmtier/$NAME/$id
# the busy loop must not be PID 1 (which ignores signals it has no handler
# for): run it under timeout
mk_bundle $id '["sh","-c","timeout 2 sh -c '"'"'while :; do :; done'"'"'; echo burn-done"]' \
  '"cpu":{"quota":50000,"period":100000,"shares":512}' $cgp
create $id || { show_log $id; abort create-failed; }
expect cpu.max "$(cgf $cgp cpu.max)" "50000 100000"
expect cpu.weight "$(cgf $cgp cpu.weight)" 20
expect_ok start rt start $id
wait_status $id stopped 30 || bad not-stopped
show_log $id
expect_grep burn-done '^burn-done$' $OUT/$id.log
st=$CG$cgp/cpu.stat
expect_ge cpu.stat:nr_throttled "$(kv $st nr_throttled)" 1
expect_ge cpu.stat:throttled_usec "$(kv $st throttled_usec)" 1
note "nr_periods=$(kv $st nr_periods) usage_usec=$(kv $st usage_usec)"
delete_check $id $cgp
finish
