#pragma once
// berthctl's connection to berthd: the address (flags, then environment,
// then the default socket), one gRPC channel created on first use (so that
// `--help` and usage errors never pay for it), the namespace as metadata on
// every call, and gRPC failures turned into the one line docker prints.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "berth/base/error.h"

namespace berth::ctl {

inline constexpr const char* kDefaultSocket = "/run/berthd/berthd.sock";
inline constexpr const char* kNamespaceKey = "berth-namespace";

// The gRPC target from --address PATH or -H unix://PATH (at most one;
// BERTH_ADDRESS has filled --address when neither was given): always
// "unix://<absolute or relative path>". Only unix sockets are served.
Result<std::string> resolve_address(const std::string& address, const std::string& host);

class Client {
 public:
  Client(std::string target, std::string ns) : target_(std::move(target)), ns_(std::move(ns)) {}

  const std::shared_ptr<grpc::Channel>& channel();
  // A context for one call: the namespace, and wait-for-ready off so that a
  // missing daemon fails at once instead of after the default retry time.
  std::unique_ptr<grpc::ClientContext> context() const;
  // "Error response from daemon: <message>", or docker's "Cannot connect"
  // line when the daemon was never reached.
  Error error(const grpc::Status& status);

 private:
  std::string target_;
  std::string ns_;
  std::shared_ptr<grpc::Channel> channel_;
};

// A client-side failure: "berthctl: <message>".
inline Error client_error(const std::string& message) { return make_error("berthctl: " + message); }

}  // namespace berth::ctl
