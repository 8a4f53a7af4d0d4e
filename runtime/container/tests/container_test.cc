#include <doctest/doctest.h>

#include "berth/container/container.h"
#include "berth/json/json.h"

using namespace berth;

TEST_CASE("container ids: runc's alphabet, no path tricks") {
  CHECK(container::validate_id("abc-1.2_x+y").ok());
  CHECK_FALSE(container::validate_id("").ok());
  CHECK_FALSE(container::validate_id("..").ok());
  CHECK_FALSE(container::validate_id("a/b").ok());
  CHECK_FALSE(container::validate_id("a b").ok());
  CHECK_FALSE(container::validate_id(std::string(1025, 'a')).ok());
}

TEST_CASE("state json has the runtime-spec fields plus runc's") {
  container::State s;
  s.oci_version = "1.2.0";
  s.id = "c1";
  s.status = container::ContainerStatus::kCreated;
  s.pid = 42;
  s.bundle = "/b";
  s.rootfs = "/b/rootfs";
  s.created = "2026-01-01T00:00:00.000000000Z";
  s.owner = "root";
  s.annotations["k"] = "v";
  auto doc = json::parse(container::state_json(s, true), "state");
  REQUIRE(doc.ok());
  CHECK(doc->get("ociVersion")->as_string() == "1.2.0");
  CHECK(doc->get("status")->as_string() == "created");
  CHECK(doc->get("pid")->as_i64() == 42);
  CHECK(doc->get("bundle")->as_string() == "/b");
  CHECK(doc->get("rootfs")->as_string() == "/b/rootfs");
  CHECK(doc->get("owner")->as_string() == "root");
  CHECK(doc->get("annotations")->get("k")->as_string() == "v");
  auto list = json::parse(container::state_list_json({s, s}), "list");
  REQUIRE(list.ok());
  CHECK(list->items().size() == 2);
}
