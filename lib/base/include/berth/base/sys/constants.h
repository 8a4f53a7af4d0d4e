#pragma once
// Kernel constants that the C library headers of our oldest target (Debian
// 12: glibc 2.36, linux-libc-dev 6.1) may lack, each defined here and nowhere
// else. The kernel's own name is kept so code reads like the man page; the
// system header comes first so that a header which has it wins.

#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/ioctl.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080  // Linux 5.6
#endif

#ifndef TIOCGPTPEER
#define TIOCGPTPEER 0x5441  // _IO('T', 0x41), Linux 4.13
#endif

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)  // Linux 5.11
#endif

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)  // Linux 5.0
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)  // Linux 5.7
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)  // Linux 5.19
#endif

namespace berth::sys {
constexpr int kAtFdcwd = AT_FDCWD;
}  // namespace berth::sys
