#include <doctest/doctest.h>

#include <string>

#include "berth/core/image.h"

using namespace berth::core;

namespace {

const std::string kD1 = "sha256:" + std::string(64, '1');
const std::string kD2 = "sha256:" + std::string(64, '2');
const std::string kD3 = "sha256:" + std::string(64, '3');

std::string manifest(std::string_view media_type_field,
                     std::string_view layer_type = media::kOciLayerGzip) {
  return R"({"schemaVersion": 2, )" + std::string(media_type_field) +
         R"("config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": ")" +
         kD1 + R"(", "size": 123}, "layers": [{"mediaType": ")" + std::string(layer_type) +
         R"(", "digest": ")" + kD2 + R"(", "size": 4567, "annotations": {"a": "b"}}]})";
}

std::string err(const berth::Error& e) { return e.message(); }

}  // namespace

TEST_CASE("OCI and Docker schema2 manifests") {
  auto m = parse_manifest(
      manifest(R"("mediaType": "application/vnd.oci.image.manifest.v1+json", )"), "", "manifest x");
  REQUIRE(m.ok());
  CHECK(m->media_type == media::kOciManifest);
  CHECK(m->config.digest == kD1);
  CHECK(m->config.size == 123);
  REQUIRE(m->layers.size() == 1);
  CHECK(m->layers[0].size == 4567);
  CHECK(m->layers[0].annotations.at("a") == "b");
  // No mediaType field: the type it was served as.
  auto d = parse_manifest(manifest("", media::kDockerLayerGzip), media::kDockerManifest, "m");
  REQUIRE(d.ok());
  CHECK(d->media_type == media::kDockerManifest);
  CHECK(*layer_compression(d->layers[0].media_type) == Compression::kGzip);
}

TEST_CASE("manifest errors name the document and the field") {
  auto served_wrong =
      parse_manifest(manifest(R"("mediaType": "application/vnd.oci.image.manifest.v1+json", )"),
                     media::kOciIndex, "manifest x");
  CHECK(err(served_wrong.error()).find("manifest x: mediaType: document says") == 0);
  auto bad_layer = parse_manifest(manifest("", "application/x-tar"), "", "m");
  CHECK(err(bad_layer.error()) ==
        "m: layers[0].mediaType: unsupported layer media type `application/x-tar`");
  auto schema1 =
      parse_manifest(R"({"schemaVersion": 1, "fsLayers": []})", media::kDockerSchema1Signed, "m");
  CHECK(err(schema1.error()).find("schema 1 is not supported") != std::string::npos);
  auto v3 = parse_manifest(R"({"schemaVersion": 3})", "", "m");
  CHECK(err(v3.error()) == "m: schemaVersion: unsupported version 3");
  auto no_config = parse_manifest(R"({"schemaVersion": 2, "layers": []})", "", "m");
  CHECK(err(no_config.error()) == "m: config: missing");
  std::string bad_digest = manifest("");
  bad_digest.replace(bad_digest.find(kD2), kD2.size(), "sha256:xyz");
  CHECK(err(parse_manifest(bad_digest, "", "m").error()) ==
        "m: layers[0].digest: not a valid digest: `sha256:xyz`");
  std::string neg = manifest("");
  neg.replace(neg.find("4567"), 4, "-1");
  CHECK(err(parse_manifest(neg, "", "m").error()) ==
        "m: layers[0].size: expected a non-negative integer");
  CHECK_FALSE(parse_manifest("[]", "", "m").ok());
  CHECK_FALSE(parse_manifest("{", "", "m").ok());
  std::string huge(kMaxManifestSize + 1, ' ');
  CHECK(err(parse_manifest(huge, "", "m").error()).find("exceeds the limit") != std::string::npos);
}

TEST_CASE("indexes and platforms") {
  std::string text =
      R"({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
    "manifests": [
      {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": ")" +
      kD1 + R"(", "size": 1,
       "platform": {"architecture": "arm", "os": "linux", "variant": "v6"}},
      {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": ")" +
      kD2 + R"(", "size": 2,
       "platform": {"architecture": "x86_64", "os": "linux"}}]})";
  auto idx = parse_index(text, media::kDockerManifestList, "index");
  REQUIRE(idx.ok());
  REQUIRE(idx->manifests.size() == 2);
  CHECK(idx->manifests[0].platform->str() == "linux/arm/v6");
  CHECK(idx->manifests[1].platform->str() == "linux/amd64");
  CHECK(err(parse_index(R"({"schemaVersion": 2})", "", "i").error()) == "i: manifests: missing");
  CHECK(sniff_document(text, "") == DocumentKind::kIndex);
  CHECK(sniff_document(R"({"schemaVersion": 2, "layers": []})", "") == DocumentKind::kManifest);
  CHECK(sniff_document(R"({"schemaVersion": 1, "fsLayers": []})", "") == DocumentKind::kSchema1);
}

TEST_CASE("image configs: docker's fields, rootfs and history") {
  std::string text = R"({"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
    "config": {"User": "nobody", "Env": ["PATH=/bin"], "Cmd": ["sh"], "WorkingDir": "/w",
               "ExposedPorts": {"80/tcp": {}}, "Volumes": {"/data": {}}, "Labels": {"k": "v"},
               "StopSignal": "SIGTERM", "Unknown": 1},
    "rootfs": {"type": "layers", "diff_ids": [")" +
                     kD1 + R"(", ")" + kD2 + R"("]},
    "history": [{"created_by": "ADD file", "created": "x"}, {"created_by": "CMD", "empty_layer": true},
                {"created_by": "RUN x"}]})";
  auto c = parse_config(text, "config");
  REQUIRE(c.ok());
  CHECK(c->user == "nobody");
  CHECK(c->cmd == std::vector<std::string>{"sh"});
  CHECK(c->exposed_ports == std::vector<std::string>{"80/tcp"});
  CHECK(c->volumes == std::vector<std::string>{"/data"});
  CHECK(c->labels.at("k") == "v");
  CHECK(c->diff_ids.size() == 2);
  CHECK(c->history.size() == 3);
  CHECK(c->history[1].empty_layer);
  CHECK(c->raw.get("config")->get("Unknown") != nullptr);
  // A scratch import has no config object at all.
  CHECK(parse_config(R"({"rootfs": {"type": "layers", "diff_ids": []}})", "c").ok());
  CHECK(
      err(parse_config(R"({"config": {"Env": "x"}, "rootfs": {"type": "layers"}})", "c").error()) ==
      "c: config.Env: expected an array of strings");
  CHECK(err(parse_config(R"({})", "c").error()) == "c: rootfs: missing");
  CHECK(err(parse_config(R"({"rootfs": {"type": "tar"}})", "c").error()) ==
        "c: rootfs.type: expected \"layers\", got \"tar\"");
  CHECK(err(parse_config(R"({"rootfs": {"type": "layers", "diff_ids": ["x"]}})", "c").error()) ==
        "c: rootfs.diff_ids[0]: not a valid digest: `x`");
  CHECK(err(parse_config(R"({"rootfs": {"type": "layers", "diff_ids": []}, "history": [{}]})", "c")
                .error()) == "c: history: 1 entries with a layer, but rootfs has 0 layers");
}

TEST_CASE("layer media types and their compression") {
  CHECK(*layer_compression(media::kOciLayer) == Compression::kNone);
  CHECK(*layer_compression(media::kOciLayerZstd) == Compression::kZstd);
  CHECK(*layer_compression("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip") ==
        Compression::kGzip);
  CHECK(*layer_compression("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip") ==
        Compression::kGzip);
  CHECK_FALSE(layer_compression(media::kOciConfig).ok());
  CHECK(kind_of(media::kDockerSchema1) == DocumentKind::kSchema1);
  CHECK(kind_of("text/plain") == DocumentKind::kUnknown);
}
