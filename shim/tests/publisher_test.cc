// Event publishing: order kept, retries until the receiver appears, a
// receiver that never answers costs a bounded wait and then the event.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "berth/base/sys.h"
#include "containerd/events/task.pb.h"
#include "containerd/services/events/ttrpc/v1/events.pb.h"
#include "google/protobuf/empty.pb.h"
#include "berth/loop/loop.h"
#include "publisher.h"
#include "berth/ttrpc/server.h"

using namespace berth;
using namespace berth::shim;
using namespace std::chrono_literals;

namespace {
constexpr const char* kEvents = "containerd.services.events.ttrpc.v1.Events";

containerd::events::TaskStart start_event(const std::string& id) {
  containerd::events::TaskStart e;
  e.set_container_id(id);
  return e;
}
}  // namespace

TEST_CASE("publisher retries until the receiver listens, in order") {
  auto loop = std::move(loop::Loop::create().value());
  char dir[] = "/tmp/berth-pub-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  std::string sock = std::string(dir) + "/events.sock";
  Publisher::Options o;
  o.first_backoff = 20ms;
  Publisher pub(*loop, "unix://" + sock, "ns1", o);
  for (const char* id : {"a", "b", "c"}) pub.publish("/tasks/start", start_event(id));
  for (int i = 0; i < 10; ++i) (void)loop->run_once(5ms);
  CHECK(pub.queued() == 3);

  std::vector<std::string> got;
  ttrpc::Server server(*loop);
  server.register_method(kEvents, "Forward",
                         [&](const ttrpc::IncomingRequest& req, ttrpc::Responder r) {
                           containerd::services::events::ttrpc::v1::ForwardRequest f;
                           REQUIRE(f.ParseFromString(req.payload));
                           CHECK(req.meta("containerd-namespace-ttrpc") == "ns1");
                           CHECK(f.envelope().topic() == "/tasks/start");
                           CHECK(f.envelope().event().type_url() == "containerd.events.TaskStart");
                           CHECK(f.envelope().timestamp().seconds() > 0);
                           containerd::events::TaskStart e;
                           REQUIRE(e.ParseFromString(f.envelope().event().value()));
                           got.push_back(e.container_id());
                           r.reply(google::protobuf::Empty().SerializeAsString());
                         });
  REQUIRE(server.serve(sys::listen_unix(sock, 4).value()).ok());
  for (int i = 0; i < 200 && pub.delivered() < 3; ++i) (void)loop->run_once(5ms);
  CHECK(got == std::vector<std::string>{"a", "b", "c"});
  CHECK(pub.delivered() == 3);
  bool flushed = false;
  pub.flush(1s, [&] { flushed = true; });
  for (int i = 0; i < 5 && !flushed; ++i) (void)loop->run_once(5ms);
  CHECK(flushed);
  (void)sys::remove_all(dir);
}

TEST_CASE("publisher drops an event a silent receiver never acknowledges") {
  auto loop = std::move(loop::Loop::create().value());
  char dir[] = "/tmp/berth-pub-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  std::string sock = std::string(dir) + "/events.sock";
  ttrpc::Server server(*loop);
  int calls = 0;
  std::vector<ttrpc::Responder> never;
  server.register_method(kEvents, "Forward",
                         [&](const ttrpc::IncomingRequest&, ttrpc::Responder r) {
                           ++calls;
                           never.push_back(r);
                         });
  REQUIRE(server.serve(sys::listen_unix(sock, 4).value()).ok());
  Publisher::Options o;
  o.timeout = 30ms;
  o.attempts = 3;
  o.first_backoff = 5ms;
  Publisher pub(*loop, sock, "ns1", o);
  pub.publish("/tasks/exit", start_event("x"));
  bool flushed = false;
  pub.flush(5s, [&] { flushed = true; });
  for (int i = 0; i < 100 && !flushed; ++i) (void)loop->run_once(5ms);
  CHECK(flushed);
  CHECK(calls == 3);
  CHECK(pub.dropped() == 1);
  CHECK(pub.queued() == 0);
  (void)sys::remove_all(dir);
}
