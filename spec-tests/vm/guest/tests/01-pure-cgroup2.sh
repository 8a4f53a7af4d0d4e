# The VM really is a pure cgroup v2 host with every controller: no v1
# hierarchy mounted or mountable, cgroup2 on /sys/fs/cgroup.
. /vmtier/lib.sh "$1"
expect v1-mounts "$(grep -c ' cgroup ' /proc/mounts)" 0
expect fs-magic "$(stat -f -c %t $CG)" 63677270
mkdir -p /tmp/v1
if mount -t cgroup -o memory none /tmp/v1 2>/dev/null; then umount /tmp/v1; bad v1-memory-mountable
else note v1-memory-refused; fi
ctl=" $(cat $CG/cgroup.controllers) "
for c in cpu memory pids io cpuset; do
  case $ctl in *" $c "*) ;; *) bad "controller-missing:$c" ;; esac
done
note "controllers=[$(cat $CG/cgroup.controllers)]"
for f in cgroup.freeze cgroup.kill; do
  [ -e $CG/init.scope/$f ] && note "$f" || bad "no-$f"
done
finish
