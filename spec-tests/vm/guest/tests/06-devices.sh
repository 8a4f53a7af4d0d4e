# linux.resources.devices: deny all, allow c 1:3 (/dev/null). cgroup v2 has
# no devices.* files: the runtime must attach a BPF_CGROUP_DEVICE program.
# In the container /dev/null works, a node for c 1:11 (/dev/kmsg) and one
# for b 8:0 fail with EPERM (without the program: "ok" and ENXIO); the
# runtime's default allow list still lets /dev/zero through.
. /vmtier/lib.sh "$1"
id=dev; cgp=/vmtier/$NAME/$id
mk_bundle $id '["sh","-c","probe read /dev/null; echo null-read-rc=$?; echo x > /dev/null && echo null-write-ok; echo zero=$(head -c 4 /dev/zero | wc -c); mknod /dev/xkmsg c 1 11 && echo kmsg=$(probe write /dev/xkmsg vmtier-devices-test); mknod /dev/xsda b 8 0 && echo sda=$(probe read /dev/xsda)"]' \
  '"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"}]' $cgp
create $id || { show_log $id; abort create-failed; }
# The program belongs to the cgroup: any process moved into it is bound too.
out=$(sh -c "echo \$\$ > $CG$cgp/cgroup.procs && exec probe write /dev/kmsg vmtier-devices-test" 2>/dev/null)
expect cgroup-member:kmsg "$out" EPERM
out=$(sh -c "echo \$\$ > $CG$cgp/cgroup.procs && exec probe read /dev/null" 2>&1; echo rc=$?)
expect cgroup-member:null "$out" rc=0
expect_ok start rt start $id
wait_status $id stopped 30 || bad not-stopped
show_log $id
expect_grep null-read '^null-read-rc=0$' $OUT/$id.log
expect_grep null-write '^null-write-ok$' $OUT/$id.log
expect_grep zero-default-allowed '^zero=4$' $OUT/$id.log
expect_grep kmsg-EPERM '^kmsg=EPERM$' $OUT/$id.log
expect_grep sda-EPERM '^sda=EPERM$' $OUT/$id.log
delete_check $id $cgp
finish
