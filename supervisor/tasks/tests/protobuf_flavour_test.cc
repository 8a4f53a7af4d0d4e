// berthd links gRPC, so full libprotobuf: the task runtime's protos must be
// the full flavour (berth_proto_full) next to berthd's own API protos, with
// libprotobuf's one google::protobuf::Any (CMakeLists.txt also checks the
// binary with nm).
#include <doctest/doctest.h>
#include <google/protobuf/descriptor.h>

#include "berth/v1/system.pb.h"
#include "containerd/runc/v1/options.pb.h"
#include "containerd/task/v2/shim.pb.h"

TEST_CASE("the containerd protos and berth.v1 share one full descriptor pool") {
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  // Reflection exists only in the full runtime: a lite message has no descriptor.
  containerd::task::v2::CreateTaskRequest create;
  REQUIRE(pool->FindMessageTypeByName("containerd.task.v2.CreateTaskRequest") != nullptr);
  berth::v1::VersionResponse version;
  CHECK(version.GetDescriptor() == pool->FindMessageTypeByName("berth.v1.VersionResponse"));

  containerd::runc::v1::Options runc;
  runc.set_binary_name("berth");
  REQUIRE(create.mutable_options()->PackFrom(runc));
  CHECK(create.options().type_url() == "type.googleapis.com/containerd.runc.v1.Options");
  containerd::runc::v1::Options back;
  REQUIRE(create.options().UnpackTo(&back));
  CHECK(back.binary_name() == "berth");
}
