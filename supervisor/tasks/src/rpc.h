#pragma once
// ttrpc status codes → the supervisor's error classes (core/errdefs.h).

#include <string>

#include "berth/base/error.h"
#include "berth/ttrpc/frame.h"

namespace berth::tasks {

inline Error rpc_failure(const std::string& what, const ttrpc::RpcStatus& status) {
  using ttrpc::Code;
  int code = EIO;
  switch (status.code) {
    case Code::kNotFound: code = ENOENT; break;
    case Code::kAlreadyExists: code = EEXIST; break;
    case Code::kInvalidArgument: code = EINVAL; break;
    case Code::kFailedPrecondition: code = EBUSY; break;
    case Code::kPermissionDenied: code = EPERM; break;
    case Code::kUnavailable: code = EHOSTUNREACH; break;
    case Code::kDeadlineExceeded: code = ETIMEDOUT; break;
    case Code::kUnimplemented: code = ENOTSUP; break;
    case Code::kCancelled: code = ECANCELED; break;
    case Code::kResourceExhausted: code = ENOSPC; break;
    default: break;
  }
  return make_error(what + ": " + status.message, code);
}

}  // namespace berth::tasks
