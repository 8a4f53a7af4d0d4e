#pragma once
// berth.v1.Containers (containers_service.cc: the verbs; containers_stream.cc:
// logs, attach and exec, which stream).

#include "berth/containers/service.h"
#include "berth/services/services.h"
#include "berth/v1/containers.grpc.pb.h"

namespace berth::services {

void fill_container_summary(const core::Container& c, berth::v1::ContainerSummary* out);

class ContainersService final : public berth::v1::Containers::Service {
 public:
  explicit ContainersService(Context& ctx) : ctx_(ctx), svc_(*ctx.containers) {}
  using ServerContext = grpc::ServerContext;
  using Status = grpc::Status;

  Status Create(ServerContext*, const berth::v1::CreateContainerRequest*,
                berth::v1::CreateContainerResponse*) override;
  Status Start(ServerContext*, const berth::v1::ContainerRef*, berth::v1::Empty*) override;
  Status Stop(ServerContext*, const berth::v1::StopContainerRequest*, berth::v1::Empty*) override;
  Status Restart(ServerContext*, const berth::v1::StopContainerRequest*,
                 berth::v1::Empty*) override;
  Status Kill(ServerContext*, const berth::v1::KillContainerRequest*, berth::v1::Empty*) override;
  Status Pause(ServerContext*, const berth::v1::ContainerRef*, berth::v1::Empty*) override;
  Status Unpause(ServerContext*, const berth::v1::ContainerRef*, berth::v1::Empty*) override;
  Status Remove(ServerContext*, const berth::v1::RemoveContainerRequest*,
                berth::v1::Empty*) override;
  Status Wait(ServerContext*, const berth::v1::WaitContainerRequest*,
              berth::v1::WaitContainerResponse*) override;
  Status List(ServerContext*, const berth::v1::ListContainersRequest*,
              berth::v1::ListContainersResponse*) override;
  Status Inspect(ServerContext*, const berth::v1::ContainerRef*,
                 berth::v1::InspectContainerResponse*) override;
  Status Rename(ServerContext*, const berth::v1::RenameContainerRequest*,
                berth::v1::Empty*) override;
  Status Top(ServerContext*, const berth::v1::TopRequest*, berth::v1::TopResponse*) override;
  Status Prune(ServerContext*, const berth::v1::PruneContainersRequest*,
               berth::v1::PruneReport*) override;
  Status Update(ServerContext*, const berth::v1::UpdateContainerRequest*,
                berth::v1::Empty*) override;
  // containers_stats.cc
  Status Stats(ServerContext*, const berth::v1::StatsRequest*,
               grpc::ServerWriter<berth::v1::StatsResponse>*) override;
  // containers_stream.cc
  Status Logs(ServerContext*, const berth::v1::LogsRequest*,
              grpc::ServerWriter<berth::v1::LogChunk>*) override;
  Status Attach(
      ServerContext*,
      grpc::ServerReaderWriter<berth::v1::AttachResponse, berth::v1::AttachRequest>*) override;
  Status Exec(
      ServerContext*,
      grpc::ServerReaderWriter<berth::v1::AttachResponse, berth::v1::ExecRequest>*) override;

 private:
  Context& ctx_;
  containers::ContainerService& svc_;
};

}  // namespace berth::services
