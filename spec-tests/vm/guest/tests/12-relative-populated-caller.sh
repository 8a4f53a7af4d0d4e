# A relative cgroupsPath from a caller whose (non-root) cgroup holds
# processes, as a shim or daemon in its service cgroup: cgroupsPath
# "rel/ctr" with no resources needs no controller, so cgroup2 allows it:
# the container must land in <caller's cgroup>/rel/ctr, and the caller's
# cgroup must be left as it was (cgroup.subtree_control unchanged: enabling
# threaded controllers there would make it a thread root, and every domain
# cgroup below it unusable). runc 1.1.5 differs by design: it nests a
# relative path under the PARENT of the caller's cgroup (and would switch a
# "domain invalid" cgroup to threaded mode), so it fails only the placement
# check here (test_vm_cgroup2.py marks this runc_differs).
. /vmtier/lib.sh "$1"
id=relp; caller=/vmtier/$NAME/caller
mkdir -p $CG$caller
before=$(cgf $caller cgroup.subtree_control)
mk_bundle $id '["sleep","1000"]' '' rel/ctr
sh -c "echo \$\$ > $CG$caller/cgroup.procs && exec berth --root $STATE create --bundle $BUNDLES/$id $id" \
  > $OUT/$id.log 2>&1 < /dev/null || { show_log $id; bad create-failed; }
expect caller:subtree_control "$(cgf $caller cgroup.subtree_control)" "$before"
if [ $OK = 1 ]; then
  pid=$(pid_of $id)
  expect proc-cgroup "$(cat /proc/$pid/cgroup)" "0::$caller/rel/ctr"
  expect_ok delete rt delete --force $id
  [ -d $CG$caller/rel/ctr ] && bad "cgroup-left" || note cgroup-removed
fi
finish
