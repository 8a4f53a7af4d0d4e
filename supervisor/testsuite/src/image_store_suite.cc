// The image store conformance suite (see image_store_suite.h).

#include "berth/testsuite/image_store_suite.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "berth/core/digest.h"
#include "berth/testsuite/temp_dir.h"
#include "berth/testsuite/why.h"

namespace berth::testsuite {

namespace {

core::Image image(std::string name, std::string_view content) {
  core::Image img;
  img.name = std::move(name);
  img.target.media_type = std::string(core::media::kOciIndex);
  img.target.digest = core::digest_of(content);
  img.target.size = static_cast<int64_t>(content.size());
  return img;
}

std::vector<std::string> names(core::ImageStore& store, std::string_view ns) {
  auto list = store.list(ns);
  REQUIRE_MESSAGE(list.ok(), testsuite::why(list));
  std::vector<std::string> out;
  for (auto& i : *list) out.push_back(i.name);
  return out;
}

}  // namespace

void run_image_store_suite(const ImageStoreFactory& make) {
  TempDir tmp("berth-image-suite-");
  auto store = make(tmp.path());
  REQUIRE(store != nullptr);

  SUBCASE("put creates, get returns every field") {
    auto img = image("docker.io/library/busybox:latest", "index");
    img.target.urls = {"https://example.invalid/blob"};
    img.target.annotations = {{"org.opencontainers.image.ref.name", "latest"},
                              {"quote", "a \"b\" \\ c"}};
    img.target.platform = core::Platform{"linux", "arm", "v7"};
    img.labels = {{"io.berth.origin", "pull"}, {"empty", ""}};
    auto previous = store->put("default", img);
    REQUIRE_MESSAGE(previous.ok(), testsuite::why(previous));
    CHECK(!previous->has_value());
    auto got = store->get("default", img.name);
    REQUIRE(got.ok());
    CHECK(got->name == img.name);
    CHECK(got->target.media_type == img.target.media_type);
    CHECK(got->target.digest == img.target.digest);
    CHECK(got->target.size == img.target.size);
    CHECK(got->target.urls == img.target.urls);
    CHECK(got->target.annotations == img.target.annotations);
    REQUIRE(got->target.platform.has_value());
    CHECK(*got->target.platform == *img.target.platform);
    CHECK(got->labels == img.labels);
    CHECK(got->created_at > 0);
    CHECK(got->updated_at >= got->created_at);
  }

  SUBCASE("put replaces and returns the previous target; created_at stays") {
    auto first = image("app:1", "one");
    REQUIRE(store->put("default", first).ok());
    auto created = store->get("default", "app:1")->created_at;
    auto second = image("app:1", "two");
    second.target.media_type = std::string(core::media::kDockerManifest);
    auto previous = store->put("default", second);
    REQUIRE(previous.ok());
    REQUIRE(previous->has_value());
    CHECK((*previous)->digest == first.target.digest);
    CHECK((*previous)->media_type == first.target.media_type);
    auto got = store->get("default", "app:1");
    REQUIRE(got.ok());
    CHECK(got->target.digest == second.target.digest);
    CHECK(got->target.media_type == second.target.media_type);
    CHECK(got->created_at == created);
    CHECK(names(*store, "default") == std::vector<std::string>{"app:1"});
  }

  SUBCASE("namespaces keep their records apart") {
    REQUIRE(store->put("default", image("a", "1")).ok());
    REQUIRE(store->put("default", image("b", "2")).ok());
    REQUIRE(store->put("k8s.io", image("a", "3")).ok());
    CHECK(names(*store, "default") == std::vector<std::string>{"a", "b"});
    CHECK(names(*store, "k8s.io") == std::vector<std::string>{"a"});
    CHECK(names(*store, "empty").empty());
    CHECK(store->get("k8s.io", "a")->target.digest == core::digest_of("3"));
    CHECK(store->get("k8s.io", "b").error().code() == ENOENT);
    auto ns = store->namespaces();
    REQUIRE(ns.ok());
    CHECK(*ns == std::vector<std::string>{"default", "k8s.io"});
  }

  SUBCASE("remove, and what is absent is ENOENT") {
    REQUIRE(store->put("default", image("gone", "x")).ok());
    REQUIRE(store->remove("default", "gone").ok());
    CHECK(store->get("default", "gone").error().code() == ENOENT);
    CHECK(store->remove("default", "gone").error().code() == ENOENT);
    CHECK(store->remove("other", "gone").error().code() == ENOENT);
    CHECK(names(*store, "default").empty());
  }

  SUBCASE("invalid names, namespaces and targets are refused") {
    auto bad_digest = image("x", "x");
    bad_digest.target.digest = "sha256:../../etc";
    CHECK(store->put("default", bad_digest).error().code() == EINVAL);
    CHECK(store->put("default", image("", "x")).error().code() == EINVAL);
    auto no_type = image("x", "x");
    no_type.target.media_type.clear();
    CHECK(store->put("default", no_type).error().code() == EINVAL);
    for (const std::string& ns :
         std::vector<std::string>{"", "../x", "a..b", "-a", "a b", std::string(77, 'a')}) {
      INFO("namespace: " << ns);
      CHECK(store->put(ns, image("x", "x")).error().code() == EINVAL);
      CHECK(store->get(ns, "x").error().code() == EINVAL);
      CHECK(store->list(ns).error().code() == EINVAL);
    }
    CHECK(names(*store, "default").empty());
    CHECK(store->namespaces()->empty());
  }

  SUBCASE("records persist across reopening") {
    REQUIRE(store->put("default", image("kept", "k")).ok());
    store.reset();
    auto again = make(tmp.path());
    auto got = again->get("default", "kept");
    REQUIRE(got.ok());
    CHECK(got->target.digest == core::digest_of("k"));
  }

  SUBCASE("puts from many threads all land") {
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < 25; ++i) {
          if (!store
                   ->put("default",
                         image("img-" + std::to_string(t) + "-" + std::to_string(i), "c"))
                   .ok())
            ++failures;
          if (!store->put("default", image("shared", std::to_string(t))).ok()) ++failures;
        }
      });
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
    CHECK(names(*store, "default").size() == 101);
  }
}

}  // namespace berth::testsuite
