#!/bin/sh
# A stand-in for an OCI runtime with runc's command line, for the shim's
# service tests (no root, no namespaces). The "container" is a shell running
# the command in <bundle>/cmd once `start` releases it; an exec runs its
# process file as a shell command and the runtime returns only 0.3 s later,
# so a quick exec exits before `exec --detach` does (the shim must still
# report it). Errors go to --log as JSON lines, like runc.
root=/tmp; log=/dev/null
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=$2; shift 2 ;;
    --log) log=$2; shift 2 ;;
    --log-format) shift 2 ;;
    --systemd-cgroup) shift ;;
    *) break ;;
  esac
done
fail() { echo "{\"level\":\"error\",\"msg\":\"$1\",\"time\":\"2026-01-01T00:00:00Z\"}" >> "$log"; exit 1; }
verb=$1; shift
mkdir -p "$root"
echo "$verb $*" >> "$root/calls.log"
case "$verb" in
  create)
    while [ $# -gt 1 ]; do
      case "$1" in
        --bundle) b=$2; shift 2 ;;
        --pid-file) p=$2; shift 2 ;;
        --console-socket) shift 2 ;;
        *) shift ;;
      esac
    done
    id=$1
    [ -f "$b/fail-create" ] && fail "fake create refused for $id"
    # Created, but with a pid file that names no pid.
    if [ -f "$b/bad-pid-file" ]; then echo "$b" > "$root/$id"; echo nonsense > "$p"; exit 0; fi
    rm -f "$b/start.fifo"; mkfifo "$b/start.fifo"
    # A subshell starts the init and exits: the init is orphaned at once and
    # re-parented to the shim, as runc's init is.
    ( sh -c 'read x < "$1/start.fifo"; exec sh -c "$(cat "$1/cmd")"' fake-init "$b" &
      echo $! > "$p" )
    echo "$b" > "$root/$id"
    ;;
  start)
    b=$(cat "$root/$1" 2>/dev/null) || fail "container $1 does not exist"
    echo go > "$b/start.fifo"
    ;;
  kill)
    [ "$1" = --all ] && shift
    b=$(cat "$root/$1" 2>/dev/null) || fail "container $1 does not exist"
    kill -"$2" "$(cat "$b/init.pid")" 2>/dev/null || fail "container not running"
    ;;
  delete)
    [ "$1" = --force ] && shift
    b=$(cat "$root/$1" 2>/dev/null) || fail "container $1 does not exist"
    kill -9 "$(cat "$b/init.pid")" 2>/dev/null
    rm -f "$root/$1" "$b/start.fifo"
    ;;
  ps)
    b=$(cat "$root/$3" 2>/dev/null) || fail "container $3 does not exist"
    echo "[$(cat "$b/init.pid")]"
    ;;
  pause|resume)
    b=$(cat "$root/$1" 2>/dev/null) || fail "container $1 does not exist"
    [ "$verb" = pause ] && sig=STOP || sig=CONT
    kill -"$sig" "$(cat "$b/init.pid")"
    ;;
  exec)
    while [ $# -gt 1 ]; do
      case "$1" in
        --process) proc=$2; shift 2 ;;
        --pid-file) p=$2; shift 2 ;;
        --console-socket) shift 2 ;;
        *) shift ;;
      esac
    done
    ( sh -c "$(cat "$proc")" &
      echo $! > "$p" )
    sleep 0.3
    ;;
  *) fail "unknown command $verb" ;;
esac
