#pragma once
// berth::sys, the one module that makes raw syscalls (tools/check-raw-syscalls.sh
// keeps it so). Every wrapper retries EINTR where that is safe, creates
// descriptors with CLOEXEC, and returns Result with an Error that names the
// operation and path. Kernel constants the C library lacks are in
// sys/constants.h. This header includes every part; include a part alone
// where only it is needed.

#include "berth/base/sys/constants.h"
#include "berth/base/sys/event.h"
#include "berth/base/sys/files.h"
#include "berth/base/sys/io.h"
#include "berth/base/sys/mount.h"
#include "berth/base/sys/process.h"
#include "berth/base/sys/retry.h"
#include "berth/base/sys/socket.h"
