#pragma once
// berth-logger: containerd's binary log driver writing docker's json-file
// logs. The shim (shim/src/process_io.h) starts it before the container:
//
// | what        | value                                                      |
// |-------------|------------------------------------------------------------|
// | argv        | [self, k1, v1, k2, v2, ...], keys sorted, from the URI's   |
// |             | query: path (absolute, required), max-size (docker units,  |
// |             | -1 or absent: unlimited), max-file (>= 1, default 1)       |
// | env         | CONTAINER_ID, CONTAINER_NAMESPACE (unused)                 |
// | fds 0-2     | /dev/null                                                  |
// | fd 3, fd 4  | read ends of the container's stdout and stderr             |
// | fd 5        | ready pipe: closed once the log file and its lock are held;|
// |             | a bad argument or an unwritable path exits 1 before that,  |
// |             | so the shim reports the logger (and the container) failed  |
// | exit        | 0 when fds 3 and 4 both reached EOF and all was written;   |
// |             | on SIGTERM (task deleted) what is readable now is written  |
// |             | and it exits 0 at once                                     |
//
// <path>.lock (0600) is flock'ed from before the ready signal to exit:
// json_file.h's writer_active() reads it.

#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/logs/writer.h"

namespace berth::logs {

// The key/value arguments after argv[0].
Result<RotateOptions> parse_logger_args(const std::vector<std::string>& args);

struct LoggerFds {
  int out = 3, err = 4, ready = 5;
};
// Everything after argument parsing; returns when the logger is done.
Status run_logger(const RotateOptions& options, const LoggerFds& fds = {});

}  // namespace berth::logs
