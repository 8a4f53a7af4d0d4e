#!/bin/bash
# run-vm-tier.sh - berth's pure cgroup v2 tier: boot Debian's kernel under QEMU
# with cgroup_no_v1=all and run real berth containers in it.
#
# This host has hybrid cgroups (v1 controllers + a hugetlb-only cgroup2), so
# the cgroup2 code paths that matter (memory/pids/cpu controllers, BPF device
# programs, cgroup.freeze, cgroup.kill) can only be exercised in a VM. The VM
# boots the installed Debian kernel (/boot/vmlinuz-*, all needed drivers built
# in: 8250 serial, initramfs, cgroups, BPF) with a busybox initramfs made here:
#   /bin/busybox (+ applet links), /bin/berth, /bin/probe (static),
#   /vmtier/{init2,lib.sh,tests/*.sh} (spec-tests/vm/guest/),
#   /var/lib/vmtier/rootfs (busybox + probe: the containers' rootfs).
# The guest prints one line per test on the serial console:
#   VMTEST <name> PASS|FAIL <detail>
# then "VMTEST-SUMMARY pass=N fail=M" and "VMTEST-DONE", and powers off.
#
# Usage: run-vm-tier.sh [-k PATTERN]   (PATTERN: run only tests whose file
#        name contains it, e.g. -k memory)
# Exit: 0 every test passed; 1 a test failed, a result is missing, or the VM
#       timed out; 2 usage or build error; 77 qemu-system-x86_64 or a kernel
#       image is missing (the caller may skip).
# Environment:
#   BERTH_BIN            runtime under test (default <build>/runtime/cli/berth;
#                        a dynamic binary such as /usr/sbin/runc gets its
#                        shared libraries copied in)
#   BERTH_BUILD_DIR      build dir (default <repo>/build)
#   BERTH_VM_KERNEL      kernel image (default: newest /boot/vmlinuz-*)
#   BERTH_VM_TIMEOUT     hard wall-clock limit for qemu, seconds (default 150)
#   BERTH_VM_TEST_TIMEOUT  per-test limit inside the guest, seconds (default 45)
#   BERTH_VM_MEM         guest RAM in MiB (default 1024)
#   BERTH_VM_SMP         guest vCPUs (default 2)
#   BERTH_VM_LOG         also save the serial console to this file
#   BERTH_VM_KEEP=1      keep the temp dir (initramfs, console log)
# Needs: qemu-system-x86_64 (qemu-system-x86), cpio, busybox-static, a kernel
# (linux-image-cloud-amd64); gcc only if the probe is not built yet, objcopy
# (binutils) to strip the runtime's debug info (else it is copied as is).
# Root is not needed to build or boot: the guest mounts its own devtmpfs.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${BERTH_BUILD_DIR:-$REPO/build}
BERTH=${BERTH_BIN:-$BUILD/runtime/cli/berth}
TIMEOUT=${BERTH_VM_TIMEOUT:-150}
TEST_TIMEOUT=${BERTH_VM_TEST_TIMEOUT:-45}
MEM=${BERTH_VM_MEM:-1024}
SMP=${BERTH_VM_SMP:-2}
BUSYBOX=/bin/busybox
FILTER=

msg() { echo "run-vm-tier: $*" >&2; }
die() { msg "$*"; exit 2; }
skip() { msg "SKIP: $*"; exit 77; }

while [ $# -gt 0 ]; do
  case $1 in
    -k) [ $# -ge 2 ] || die "-k needs a pattern"; FILTER=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

# ---------------------------------------------------------------- prerequisites
command -v qemu-system-x86_64 >/dev/null ||
  skip "qemu-system-x86_64 not installed (apt package qemu-system-x86; contrib/install-deps.sh)"
KERNEL=${BERTH_VM_KERNEL:-}
if [ -z "$KERNEL" ]; then
  KERNEL=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1 || true)
fi
if [ -n "${BERTH_VM_KERNEL:-}" ]; then
  [ -r "$KERNEL" ] || skip "BERTH_VM_KERNEL=$KERNEL is not readable"
else
  [ -n "$KERNEL" ] && [ -r "$KERNEL" ] ||
    skip "no kernel image in /boot (apt package linux-image-cloud-amd64; contrib/install-deps.sh)"
fi
command -v cpio >/dev/null || die "cpio missing (contrib/install-deps.sh)"
[ -x "$BUSYBOX" ] || die "$BUSYBOX missing (busybox-static)"
if ldd "$BUSYBOX" >/dev/null 2>&1; then die "$BUSYBOX is not static (install busybox-static)"; fi
[ -x "$BERTH" ] || die "runtime $BERTH not found: run contrib/build.sh or set BERTH_BIN"

# --------------------------------------------------------------------- temp dir
WORK=$(mktemp -d /tmp/berth-vm-tier.XXXXXX)
QPID=
TPID=
cleanup() {
  local rc=$?
  if [ -n "$TPID" ]; then kill "$TPID" 2>/dev/null || true; wait "$TPID" 2>/dev/null || true; fi
  if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
    kill -TERM "$QPID" 2>/dev/null || true
    sleep 1
    kill -KILL "$QPID" 2>/dev/null || true
    wait "$QPID" 2>/dev/null || true
  fi
  if [ "${BERTH_VM_KEEP:-0}" = 1 ]; then msg "kept $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }
T_START=$(now_ms)
secs_since() { local t=$(( $(now_ms) - $1 )); printf '%d.%02d' $((t / 1000)) $(((t % 1000) / 10)); }

# ------------------------------------------------------------------- initramfs
S=$WORK/stage
mkdir -p "$S"/{bin,dev,proc,sys,run,tmp,newroot,vmtier/tests,var/lib/vmtier}

# busybox: the applet links are made at boot (init2: busybox --install), one
# process in the guest rather than hundreds of forks (or a python) here
install_busybox() {   # DIR_WITH_BIN
  cp "$BUSYBOX" "$1/bin/busybox"
  ln -s busybox "$1/bin/sh"
}
install_busybox "$S"

# the runtime: debug info stripped (a 20 MB initramfs is slow to unpack under
# TCG); a dynamic binary gets the libraries ldd lists, at the same paths
copy_bin() {   # SRC DEST_IN_STAGE
  mkdir -p "$(dirname "$S$2")"
  if ! objcopy --strip-debug "$1" "$S$2" 2>/dev/null; then cp -L "$1" "$S$2"; fi
  chmod 755 "$S$2"
  if ldd "$1" >/dev/null 2>&1; then
    local lib
    for lib in $(ldd "$1" | awk '/=> \//{print $3} /^\t\//{print $1}'); do
      [ -e "$S$lib" ] && continue
      mkdir -p "$S$(dirname "$lib")"
      cp -L "$lib" "$S$lib"
    done
  fi
}
copy_bin "$BERTH" /bin/berth

# the static probe that every spec-test rootfs has (contrib/build.sh builds it)
PROBE_SRC=$REPO/spec-tests/probe/probe.c
PROBE=$BUILD/spec-tests/probe
if [ ! -x "$PROBE" ] || [ "$PROBE_SRC" -nt "$PROBE" ]; then
  PROBE=$WORK/probe
  gcc -static -Os -o "$PROBE" "$PROBE_SRC" || die "cannot compile $PROBE_SRC"
fi
cp "$PROBE" "$S/bin/probe"

# the containers' rootfs (shared, mounted read-only by every test container)
C=$S/var/lib/vmtier/rootfs
mkdir -p "$C"/{bin,dev,etc,proc,sys,tmp,root,out}
install_busybox "$C"
cp "$PROBE" "$C/bin/probe"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$C/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$C/etc/group"
chmod 1777 "$C/tmp"

# guest scripts
cp "$HERE/guest/init" "$S/init"
cp "$HERE/guest/init2" "$HERE/guest/lib.sh" "$S/vmtier/"
ntests=0
for f in "$HERE"/guest/tests/*.sh; do
  case $(basename "$f") in *"$FILTER"*) cp "$f" "$S/vmtier/tests/"; ntests=$((ntests + 1)) ;; esac
done
[ $ntests -gt 0 ] || die "no test matches -k $FILTER"
chmod 755 "$S/init" "$S/vmtier/init2"
echo "TEST_TIMEOUT=$TEST_TIMEOUT" > "$S/vmtier/env"

# Uncompressed (gzip -1 made no measurable difference to the boot time).
(cd "$S" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$WORK/initrd.cpio"
msg "initramfs $(du -h "$WORK/initrd.cpio" | cut -f1) ($ntests test files) built in $(secs_since "$T_START")s;" \
    "kernel $KERNEL; runtime $BERTH"

# ------------------------------------------------------------------------ boot
ACCEL=tcg
# Kernel messages stay off the console (loglevel=1: OOM kills would otherwise
# interleave with result lines); the guest reads dmesg itself when it needs to.
APPEND="console=ttyS0 cgroup_no_v1=all panic=-1 loglevel=1 mitigations=off"
CONSOLE=$WORK/console.log
: > "$CONSOLE"
T_BOOT=$(now_ms)
qemu-system-x86_64 -accel "$ACCEL" -nographic -no-reboot -nic none \
  -m "$MEM" -smp "$SMP" -kernel "$KERNEL" -initrd "$WORK/initrd.cpio" \
  -append "$APPEND" < /dev/null > "$CONSOLE" 2>&1 &
QPID=$!
# show the console as it comes (stderr: stdout is for the verdict lines)
tail -n +1 -f --pid="$QPID" "$CONSOLE" | tr -d '\r' >&2 &
TPID=$!

timed_out=0
deadline=$(( T_BOOT + TIMEOUT * 1000 ))
while kill -0 "$QPID" 2>/dev/null; do
  if [ "$(now_ms)" -ge "$deadline" ]; then
    timed_out=1
    msg "TIMEOUT: the VM ran for ${TIMEOUT}s (BERTH_VM_TIMEOUT); killing qemu (pid $QPID)"
    kill -TERM "$QPID" 2>/dev/null || true
    sleep 1
    kill -KILL "$QPID" 2>/dev/null || true
    break
  fi
  sleep 0.2
done
set +e; wait "$QPID"; qrc=$?; set -e
QPID=
wait "$TPID" 2>/dev/null || true
TPID=
[ -z "${BERTH_VM_LOG:-}" ] || tr -d '\r' < "$CONSOLE" > "$BERTH_VM_LOG"

# --------------------------------------------------------------------- verdict
# QEMU exits 0 even when the guest dies: the verdict comes from the guest's
# own lines, cross-checked against its summary.
lines=$(tr -d '\r' < "$CONSOLE" | grep -E '^VMTEST(-[A-Z]+)?( |$)' || true)
results=$(echo "$lines" | grep -E '^VMTEST [^ ]+ (PASS|FAIL)( |$)' || true)
npass=$(echo "$results" | grep -cE '^VMTEST [^ ]+ PASS' || true)
nfail=$(echo "$results" | grep -cE '^VMTEST [^ ]+ FAIL' || true)
summary=$(echo "$lines" | grep -m1 '^VMTEST-SUMMARY ' || true)
done_marker=$(echo "$lines" | grep -c '^VMTEST-DONE' || true)
[ -z "$results" ] || echo "$results"
echo "VMTEST-HOST qemu_exit=$qrc timed_out=$timed_out boot_to_end_s=$(secs_since "$T_BOOT")" \
     "total_s=$(secs_since "$T_START") pass=$npass fail=$nfail guest=[${summary#VMTEST-SUMMARY }]"
if [ $timed_out = 0 ] && [ "$done_marker" -ge 1 ] && [ "$nfail" = 0 ] && [ "$npass" -ge 1 ] &&
   [ "$summary" = "VMTEST-SUMMARY pass=$npass fail=0" ]; then
  msg "all $npass passed"
  exit 0
fi
[ "$done_marker" -ge 1 ] || msg "the guest did not finish (no VMTEST-DONE): hung, crashed or timed out"
msg "FAILED"
exit 1
