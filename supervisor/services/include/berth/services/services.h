#pragma once
// berthd's gRPC services (proto/berth/v1): thin edges over the libraries.
// Each maps core errors to gRPC statuses (errdefs.h's table) and reads the
// namespace from the `berth-namespace` metadata.

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include <memory>
#include <string>

#include "berth/containers/service.h"
#include "berth/core/content.h"
#include "berth/core/events.h"
#include "berth/core/metadata.h"
#include "berth/core/remotes.h"
#include "berth/core/snapshots.h"
#include "berth/images/service.h"

namespace berth::services {

struct DaemonInfo {
  std::string version;
  std::string root, state, address;
  std::string snapshotter;
};

// What the services need; owned by the daemon (supervisor/daemon/builtins.cc).
struct Context {
  DaemonInfo info;
  core::ContentStore* content = nullptr;
  core::Snapshotter* snapshotter = nullptr;
  core::ImageStore* images = nullptr;
  core::LeaseStore* leases = nullptr;
  core::EventBus* events = nullptr;
  core::CredentialStore* credentials = nullptr;
  images::ImageService* image_service = nullptr;
  containers::ContainerService* containers = nullptr;
  // Checks credentials with a registry (System.Login).
  std::function<Status(std::string_view host, const core::Credentials&)> check_login;
  // Downloads a URL (Images.Import from a URL).
  std::function<Status(std::string_view url, const core::ByteSink&)> fetch_url;
};

std::unique_ptr<grpc::Service> make_system_service(Context& ctx);
std::unique_ptr<grpc::Service> make_images_service(Context& ctx);
std::unique_ptr<grpc::Service> make_content_service(Context& ctx);
std::unique_ptr<grpc::Service> make_snapshots_service(Context& ctx);
std::unique_ptr<grpc::Service> make_leases_service(Context& ctx);
std::unique_ptr<grpc::Service> make_events_service(Context& ctx);
std::unique_ptr<grpc::Service> make_containers_service(Context& ctx);
std::unique_ptr<grpc::Service> make_volumes_service(Context& ctx);

// Error → status, per core/errdefs.h.
grpc::Status to_status(const Error& error);
std::string namespace_of(const grpc::ServerContext* context);

}  // namespace berth::services
