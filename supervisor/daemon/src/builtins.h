#pragma once
// The plugins berthd runs, built from its config: the one wiring list.

#include <memory>

#include "berth/services/services.h"
#include "config.h"

namespace berth::daemon {

class Builtins {
 public:
  static Result<std::unique_ptr<Builtins>> open(const Config& config);
  ~Builtins();
  services::Context& context() { return ctx_; }
  // The gRPC services, in registration order.
  std::vector<std::unique_ptr<grpc::Service>> make_services();

 private:
  Builtins() = default;
  struct Plugins;
  std::unique_ptr<Plugins> plugins_;
  services::Context ctx_;
};

}  // namespace berth::daemon
