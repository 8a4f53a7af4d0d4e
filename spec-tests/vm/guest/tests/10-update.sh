# update on a running container changes the cgroup files live:
# --memory -> memory.max, --pids-limit -> pids.max, --cpu-quota/--cpu-period
# -> cpu.max; `events --stats` reports the new memory limit.
. /vmtier/lib.sh "$1"
id=upd; cgp=/vmtier/$NAME/$id
mk_bundle $id '["sleep","1000"]' '"memory":{"limit":67108864}' $cgp
create_start $id || { show_log $id; abort create-start-failed; }
expect memory.max-before "$(cgf $cgp memory.max)" 67108864
expect_ok update-memory rt update --memory 50331648 $id
expect memory.max "$(cgf $cgp memory.max)" 50331648
rt events --stats $id > /tmp/stats.json 2>&1
expect_grep stats-memory-limit '"memory":.*"limit": *50331648' /tmp/stats.json
expect_ok update-pids rt update --pids-limit 30 $id
expect pids.max "$(cgf $cgp pids.max)" 30
expect_ok update-cpu rt update --cpu-quota 25000 --cpu-period 100000 $id
expect cpu.max "$(cgf $cgp cpu.max)" "25000 100000"
expect memory.max-unchanged "$(cgf $cgp memory.max)" 50331648
expect status "$(status $id)" running
rt kill $id KILL
wait_status $id stopped 20 || bad not-stopped
delete_check $id $cgp
finish
