# seccomp: default allow, mkdir/mkdirat -> SCMP_ACT_ERRNO with errnoRet 95
# (EOPNOTSUPP, so the errno visibly comes from the rule); the filter is in
# the container's process (Seccomp: 2 in /proc/<pid>/status, seen from outside).
. /vmtier/lib.sh "$1"
id=sec; cgp=/vmtier/$NAME/$id
mk_bundle $id '["sh","-c","echo mkdir=$(probe mkdir /tmp/a); echo write=$(probe write /tmp/b x); probe seccomp; echo ready > /out/ready; exec sleep 60"]' \
  '' $cgp \
  '"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":95}]}'
create_start $id || { show_log $id; abort create-start-failed; }
wait_file $OUT/$id/ready 20 || bad not-ready
pid=$(pid_of $id)
expect outside:Seccomp "$(kv /proc/$pid/status Seccomp:)" 2
expect_ge outside:Seccomp_filters "$(kv /proc/$pid/status Seccomp_filters:)" 1
expect cgroup.procs-has-init "$(grep -cx "$pid" $CG$cgp/cgroup.procs)" 1
rt kill $id KILL
wait_status $id stopped 20 || bad not-stopped
show_log $id
expect_grep mkdir-denied '^mkdir=EOPNOTSUPP$' $OUT/$id.log
expect_grep write-allowed '^write=ok$' $OUT/$id.log
expect_grep inside-Seccomp-2 '^Seccomp:[[:space:]]+2$' $OUT/$id.log
delete_check $id $cgp
finish
