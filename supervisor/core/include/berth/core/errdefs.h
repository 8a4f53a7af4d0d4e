#pragma once
// The supervisor's error classes. An Error's code is an errno value; each
// class below is one errno, so lib/base's Error needs nothing new and a
// plugin's syscall errors already fall in the right class. The gRPC edge
// (supervisor/services) maps classes to status codes, and berthctl prints
// the message as docker would.
//
//   class               errno          gRPC status
//   not found           ENOENT         NOT_FOUND
//   already exists      EEXIST         ALREADY_EXISTS
//   invalid argument    EINVAL         INVALID_ARGUMENT
//   in use / conflict   EBUSY          FAILED_PRECONDITION
//   unauthenticated     EACCES         UNAUTHENTICATED
//   denied              EPERM          PERMISSION_DENIED
//   unavailable         EHOSTUNREACH   UNAVAILABLE   (registry down, connection dropped)
//   data loss           EBADMSG        DATA_LOSS     (digest or size mismatch)
//   no space            ENOSPC         RESOURCE_EXHAUSTED
//   canceled            ECANCELED      CANCELLED
//   unsupported         ENOTSUP        UNIMPLEMENTED (schema1, unknown media type)
//   anything else       other          INTERNAL

#include <cerrno>
#include <string>

#include "berth/base/error.h"

namespace berth::core {

inline Error not_found(std::string message) { return make_error(std::move(message), ENOENT); }
inline Error already_exists(std::string message) { return make_error(std::move(message), EEXIST); }
inline Error invalid_argument(std::string message) {
  return make_error(std::move(message), EINVAL);
}
inline Error in_use(std::string message) { return make_error(std::move(message), EBUSY); }
inline Error unauthenticated(std::string message) { return make_error(std::move(message), EACCES); }
inline Error denied(std::string message) { return make_error(std::move(message), EPERM); }
inline Error unavailable(std::string message) {
  return make_error(std::move(message), EHOSTUNREACH);
}
inline Error data_loss(std::string message) { return make_error(std::move(message), EBADMSG); }
inline Error canceled(std::string message) { return make_error(std::move(message), ECANCELED); }
inline Error unsupported(std::string message) { return make_error(std::move(message), ENOTSUP); }

inline bool is_not_found(const Error& e) { return e.code() == ENOENT; }
inline bool is_already_exists(const Error& e) { return e.code() == EEXIST; }

}  // namespace berth::core
