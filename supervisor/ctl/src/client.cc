#include "client.h"

namespace berth::ctl {

Result<std::string> resolve_address(const std::string& address, const std::string& host) {
  if (!address.empty() && !host.empty()) {
    return client_error("specify either --address or -H, not both");
  }
  std::string path = address.empty() ? host : address;
  if (path.empty()) path = kDefaultSocket;
  if (path.starts_with("unix://")) path = path.substr(7);
  if (path.find("://") != std::string::npos) {
    return client_error("invalid address `" + path +
                        "`: berthd listens on unix sockets only (unix://PATH)");
  }
  if (path.empty()) return client_error("invalid address: empty socket path");
  return "unix://" + path;
}

const std::shared_ptr<grpc::Channel>& Client::channel() {
  if (!channel_) {
    grpc::ChannelArguments args;
    // Images are saved and loaded as streams of chunks; inspect and info
    // answers can exceed gRPC's 4 MiB default for large histories.
    args.SetMaxReceiveMessageSize(64 << 20);
    channel_ = grpc::CreateCustomChannel(target_, grpc::InsecureChannelCredentials(), args);
  }
  return channel_;
}

std::unique_ptr<grpc::ClientContext> Client::context() const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata(kNamespaceKey, ns_);
  ctx->set_wait_for_ready(false);
  return ctx;
}

Error Client::error(const grpc::Status& status) {
  // UNAVAILABLE is also the daemon's own answer for an unreachable registry
  // (errdefs.h); only a channel that is not connected means no daemon.
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
      (!channel_ || channel_->GetState(false) != GRPC_CHANNEL_READY)) {
    return make_error(
        "Cannot connect to the berth daemon at " + target_ + ". Is the berth daemon running?",
        EHOSTUNREACH);
  }
  std::string message = status.error_message();
  if (message.empty())
    message = "unknown error (gRPC status " + std::to_string(status.error_code()) + ")";
  return make_error("Error response from daemon: " + message, EIO);
}

}  // namespace berth::ctl
