// The lease store conformance suite (see lease_store_suite.h).

#include "berth/testsuite/lease_store_suite.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "berth/core/digest.h"
#include "berth/testsuite/temp_dir.h"
#include "berth/testsuite/why.h"

namespace berth::testsuite {

namespace {

core::Lease only_lease(core::LeaseStore& store, std::string_view ns) {
  auto list = store.list(ns);
  REQUIRE_MESSAGE(list.ok(), testsuite::why(list));
  REQUIRE(list->size() == 1);
  return (*list)[0];
}

}  // namespace

void run_lease_store_suite(const LeaseStoreFactory& make) {
  TempDir tmp("berth-lease-suite-");
  auto store = make(tmp.path());
  REQUIRE(store != nullptr);
  const core::LeaseResource layer{"content", core::digest_of("layer")};
  const core::LeaseResource snapshot{"snapshots/overlayfs", "sha256:chain"};

  SUBCASE("create and list") {
    auto lease = store->create("default", "pull-1", {{"purpose", "pull"}}, 4102444800);
    REQUIRE_MESSAGE(lease.ok(), testsuite::why(lease));
    CHECK(lease->id == "pull-1");
    CHECK(lease->created_at > 0);
    auto listed = only_lease(*store, "default");
    CHECK(listed.id == "pull-1");
    CHECK(listed.labels == core::Labels{{"purpose", "pull"}});
    CHECK(listed.expires_at == 4102444800);
    CHECK(listed.created_at == lease->created_at);
    CHECK(listed.resources.empty());
  }

  SUBCASE("an ID is taken once per namespace") {
    REQUIRE(store->create("default", "l", {}, 0).ok());
    auto again = store->create("default", "l", {}, 0);
    REQUIRE(!again.ok());
    CHECK(again.error().code() == EEXIST);
    CHECK(store->create("k8s.io", "l", {}, 0).ok());
  }

  SUBCASE("resources: added once, removed, listed with their lease") {
    REQUIRE(store->create("default", "l", {}, 0).ok());
    REQUIRE(store->add_resource("default", "l", layer).ok());
    REQUIRE(store->add_resource("default", "l", layer).ok());
    REQUIRE(store->add_resource("default", "l", snapshot).ok());
    REQUIRE(store->add_resource("default", "l", {"ingests", "layer-ref"}).ok());
    auto lease = only_lease(*store, "default");
    CHECK(lease.resources.size() == 3);
    CHECK(std::find(lease.resources.begin(), lease.resources.end(), layer) !=
          lease.resources.end());
    REQUIRE(store->remove_resource("default", "l", layer).ok());
    REQUIRE(store->remove_resource("default", "l", layer).ok());  // already gone: fine
    lease = only_lease(*store, "default");
    CHECK(lease.resources.size() == 2);
    CHECK(std::find(lease.resources.begin(), lease.resources.end(), layer) ==
          lease.resources.end());
  }

  SUBCASE("removing a lease removes its resources") {
    REQUIRE(store->create("default", "l", {}, 0).ok());
    REQUIRE(store->add_resource("default", "l", layer).ok());
    REQUIRE(store->remove("default", "l").ok());
    auto list = store->list("default");
    REQUIRE(list.ok());
    CHECK(list->empty());
    CHECK(store->remove("default", "l").error().code() == ENOENT);
    REQUIRE(store->create("default", "l", {}, 0).ok());
    CHECK(only_lease(*store, "default").resources.empty());
  }

  SUBCASE("a lease that does not exist is ENOENT") {
    CHECK(store->add_resource("default", "none", layer).error().code() == ENOENT);
    CHECK(store->remove_resource("default", "none", layer).error().code() == ENOENT);
    CHECK(store->remove("default", "none").error().code() == ENOENT);
    REQUIRE(store->create("k8s.io", "elsewhere", {}, 0).ok());
    CHECK(store->add_resource("default", "elsewhere", layer).error().code() == ENOENT);
  }

  SUBCASE("expired leases are still listed: the GC decides what expiry means") {
    REQUIRE(store->create("default", "old", {}, 1).ok());
    CHECK(only_lease(*store, "default").expires_at == 1);
  }

  SUBCASE("invalid IDs, namespaces and resources are refused") {
    for (const std::string& id :
         std::vector<std::string>{"", "../x", "a/b", "a..b", std::string(77, 'x')}) {
      INFO("id: " << id);
      CHECK(store->create("default", id, {}, 0).error().code() == EINVAL);
      CHECK(store->create(id, "l", {}, 0).error().code() == EINVAL);
    }
    CHECK(store->create("default", "l", {}, -5).error().code() == EINVAL);
    REQUIRE(store->create("default", "l", {}, 0).ok());
    CHECK(store->add_resource("default", "l", {"content", "../../etc/passwd"}).error().code() ==
          EINVAL);
    CHECK(store->add_resource("default", "l", {"blobs", "x"}).error().code() == EINVAL);
    CHECK(store->add_resource("default", "l", {"snapshots/", "x"}).error().code() == EINVAL);
    CHECK(store->add_resource("default", "l", {"ingests", ""}).error().code() == EINVAL);
    CHECK(only_lease(*store, "default").resources.empty());
  }

  SUBCASE("leases persist across reopening") {
    REQUIRE(store->create("default", "kept", {{"k", "v"}}, 0).ok());
    REQUIRE(store->add_resource("default", "kept", layer).ok());
    store.reset();
    auto again = make(tmp.path());
    auto lease = only_lease(*again, "default");
    CHECK(lease.id == "kept");
    CHECK(lease.labels == core::Labels{{"k", "v"}});
    CHECK(lease.resources == std::vector<core::LeaseResource>{layer});
  }
}

}  // namespace berth::testsuite
