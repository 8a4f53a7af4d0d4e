// Error classes → gRPC statuses (the table in core/errdefs.h), and the
// namespace a call is for.

#include <cerrno>

#include "berth/services/services.h"

namespace berth::services {

grpc::Status to_status(const Error& error) {
  grpc::StatusCode code;
  switch (error.code()) {
    case ENOENT: code = grpc::StatusCode::NOT_FOUND; break;
    case EEXIST: code = grpc::StatusCode::ALREADY_EXISTS; break;
    case EINVAL: code = grpc::StatusCode::INVALID_ARGUMENT; break;
    case EBUSY: code = grpc::StatusCode::FAILED_PRECONDITION; break;
    case EACCES: code = grpc::StatusCode::UNAUTHENTICATED; break;
    case EPERM: code = grpc::StatusCode::PERMISSION_DENIED; break;
    case EHOSTUNREACH:
    case ECONNREFUSED: code = grpc::StatusCode::UNAVAILABLE; break;
    case EBADMSG: code = grpc::StatusCode::DATA_LOSS; break;
    case ENOSPC: code = grpc::StatusCode::RESOURCE_EXHAUSTED; break;
    case ECANCELED: code = grpc::StatusCode::CANCELLED; break;
    case ENOTSUP: code = grpc::StatusCode::UNIMPLEMENTED; break;
    default: code = grpc::StatusCode::INTERNAL; break;
  }
  return grpc::Status(code, error.to_string());
}

std::string namespace_of(const grpc::ServerContext* context) {
  const auto& md = context->client_metadata();
  auto it = md.find("berth-namespace");
  if (it == md.end() || it->second.empty()) return "default";
  return std::string(it->second.data(), it->second.size());
}

}  // namespace berth::services
