#pragma once
// The shim's process life, as containerd 1.6 launches it (see flags.h):
//
//   step  who                 what
//   1     containerd          runs `... -id ID start` with cwd = bundle, the
//                             runtime options Any on stdin, TTRPC_ADDRESS in env
//   2     start               reads stdin; binds <socket dir>/<sha256> (a path,
//                             never an abstract name: CVE-2020-15257; mode 0600)
//   3     start               forks the server: setsid, PR_SET_CHILD_SUBREAPER,
//                             stdio on /dev/null, logs to <bundle>/log (FIFO)
//   4     server → start      "ok" on a pipe once it serves (or the error)
//   5     start               writes <bundle>/address, prints unix://<path>, exits 0
//                             (nothing else on stdout/stderr: containerd reads both)
//   6     containerd          dials the socket: Create, Start, ... Shutdown
//   7     containerd          runs `... -id ID -bundle B delete` after every
//                             disconnect: DeleteResponse on stdout, idempotent
//
// `serve` (berth's own, with -socket PATH) runs the server in the foreground.

#include "flags.h"

namespace berth::shim {

int run_start(const ShimFlags& flags);
int run_delete(const ShimFlags& flags);
int run_serve(const ShimFlags& flags);

}  // namespace berth::shim
