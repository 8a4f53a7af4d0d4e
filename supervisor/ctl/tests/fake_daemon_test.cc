// The real berthctl binary against a fake berthd: an in-process gRPC server
// on a unix socket in a temp dir, answering with canned data. Checks what
// the unit tests cannot: the namespace metadata, streams (pull progress,
// save to a file, load from stdin), and how daemon errors are printed.
#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>

#include "berth/v1/content.grpc.pb.h"
#include "berth/v1/images.grpc.pb.h"
#include "berth/v1/system.grpc.pb.h"

namespace v1 = berth::v1;

namespace {

std::string namespace_of(grpc::ServerContext* ctx) {
  auto it = ctx->client_metadata().find("berth-namespace");
  return it == ctx->client_metadata().end() ? ""
                                            : std::string(it->second.data(), it->second.size());
}

class FakeImages final : public v1::Images::Service {
 public:
  std::mutex mu;
  std::string last_namespace;
  std::string loaded;

  grpc::Status List(grpc::ServerContext* ctx, const v1::ListImagesRequest* req,
                    v1::ListImagesResponse* resp) override {
    {
      std::lock_guard lock(mu);
      last_namespace = namespace_of(ctx);
    }
    if (!req->filters().empty() && req->filters(0).key() == "reference" &&
        req->filters(0).value() == "none") {
      return grpc::Status::OK;
    }
    auto* img = resp->add_images();
    img->set_id("sha256:4e5021d210f65ebe915670c7089120120bc0a303b90208592851708c1b8c04bd");
    img->add_repo_tags("docker.io/library/busybox:latest");
    img->set_created(time(nullptr) - 3 * 86400);
    img->set_size(4261550);
    return grpc::Status::OK;
  }

  grpc::Status Remove(grpc::ServerContext*, const v1::RemoveImageRequest* req,
                      v1::RemoveImageResponse* resp) override {
    if (req->ref() == "busybox") {
      resp->add_untagged("docker.io/library/busybox:latest");
      resp->add_deleted("sha256:4e5021d210f65ebe915670c7089120120bc0a303b90208592851708c1b8c04bd");
      return grpc::Status::OK;
    }
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "No such image: " + req->ref());
  }

  grpc::Status Pull(grpc::ServerContext*, const v1::PullRequest* req,
                    grpc::ServerWriter<v1::Progress>* w) override {
    if (req->ref().starts_with("localhost:5000/denied")) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "Get \"http://localhost:5000/v2/\": dial tcp 127.0.0.1:5000: connect: "
                          "connection refused");
    }
    auto send = [&](std::string id, std::string status, int64_t cur = 0, int64_t total = 0,
                    std::string result = "") {
      v1::Progress p;
      p.set_id(id);
      p.set_status(status);
      p.set_current(cur);
      p.set_total(total);
      p.set_result(result);
      w->Write(p);
    };
    send("", "latest: Pulling from library/busybox");
    send("a1b2c3d4e5f6", "Pulling fs layer");
    send("a1b2c3d4e5f6", "Downloading", 1000, 2000);
    send("a1b2c3d4e5f6", "Downloading", 2000, 2000);
    send("a1b2c3d4e5f6", "Download complete");
    send("a1b2c3d4e5f6", "Pull complete");
    send("", "Digest: sha256:5acba83a746c7608ed544dc1533b87c737a0b0fb730301639a0179f9344b1678");
    send("", "Status: Downloaded newer image for busybox:latest", 0, 0,
         "docker.io/library/busybox:latest");
    return grpc::Status::OK;
  }

  grpc::Status Inspect(grpc::ServerContext*, const v1::InspectImageRequest* req,
                       v1::InspectImageResponse* resp) override {
    if (req->ref() != "busybox") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "No such image: " + req->ref());
    }
    resp->set_json(R"({"Id":"sha256:4e50","RepoTags":["busybox:latest"],"Config":{"Cmd":["sh"]}})");
    return grpc::Status::OK;
  }

  grpc::Status Save(grpc::ServerContext*, const v1::SaveRequest* req,
                    grpc::ServerWriter<v1::DataChunk>* w) override {
    for (const auto& ref : req->refs()) {
      v1::DataChunk c;
      c.set_data("archive of " + ref + "\n");
      w->Write(c);
    }
    return grpc::Status::OK;
  }

  grpc::Status Load(grpc::ServerContext*,
                    grpc::ServerReaderWriter<v1::Progress, v1::LoadRequest>* stream) override {
    v1::LoadRequest req;
    std::string data;
    bool first = true;
    bool quiet = false;
    while (stream->Read(&req)) {
      if (first) quiet = req.quiet();
      if (!first) data += req.data();
      first = false;
    }
    {
      std::lock_guard lock(mu);
      loaded = data;
    }
    // As berthd does: progress only when not quiet, then the name as a
    // line without an id.
    if (!quiet) {
      v1::Progress layer;
      layer.set_id("a1b2c3d4e5f6");
      layer.set_status("Loading layer");
      stream->Write(layer);
    }
    v1::Progress p;
    p.set_status("Loaded image: busybox:latest");
    stream->Write(p);
    return grpc::Status::OK;
  }
};

class FakeSystem final : public v1::System::Service {
  grpc::Status Version(grpc::ServerContext*, const v1::VersionRequest*,
                       v1::VersionResponse* v) override {
    v->set_version("0.1.0-fake");
    v->set_api_version("v1");
    v->set_os("linux");
    v->set_arch("amd64");
    return grpc::Status::OK;
  }
  grpc::Status DiskUsage(grpc::ServerContext*, const v1::DiskUsageRequest*,
                         v1::DiskUsageResponse* du) override {
    auto* row = du->add_rows();
    row->set_type("Images");
    row->set_total(2);
    row->set_active(1);
    row->set_size(8523100);
    row->set_reclaimable(4261550);
    return grpc::Status::OK;
  }
  grpc::Status Login(grpc::ServerContext*, const v1::LoginRequest* req,
                     v1::LoginResponse* resp) override {
    if (req->password() != "secret") {
      return grpc::Status(
          grpc::StatusCode::UNAUTHENTICATED,
          "Get \"http://127.0.0.1:5000/v2/\": unauthorized: authentication required");
    }
    resp->set_status("Login Succeeded");
    return grpc::Status::OK;
  }
};

class FakeSnapshots final : public v1::Snapshots::Service {
 public:
  std::string last_snapshotter;
  grpc::Status List(grpc::ServerContext*, const v1::ListSnapshotsRequest* req,
                    v1::ListSnapshotsResponse* resp) override {
    last_snapshotter = req->snapshotter();
    auto* s = resp->add_snapshots();
    s->set_key("sha256:aaaa");
    s->set_kind("Committed");
    s = resp->add_snapshots();
    s->set_key("work");
    s->set_parent("sha256:aaaa");
    s->set_kind("Active");
    return grpc::Status::OK;
  }
};

struct Daemon {
  std::string dir;
  std::string socket;
  FakeImages images;
  FakeSystem system;
  FakeSnapshots snapshots;
  std::unique_ptr<grpc::Server> server;

  Daemon() {
    char tmpl[] = "/tmp/berthctl-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    socket = dir + "/berthd.sock";
    grpc::ServerBuilder b;
    b.AddListeningPort("unix://" + socket, grpc::InsecureServerCredentials());
    b.RegisterService(&images);
    b.RegisterService(&system);
    b.RegisterService(&snapshots);
    server = b.BuildAndStart();
    REQUIRE(server != nullptr);
  }
  ~Daemon() {
    server->Shutdown();
    std::string rm = "rm -rf '" + dir + "'";
    (void)std::system(rm.c_str());
  }
};

struct Out {
  int code;
  std::string out;
  std::string err;
};

// Runs the real binary; `stdin_file` (optional) is its standard input.
Out berthctl(const Daemon& d, const std::string& args, const std::string& env = "",
             const std::string& stdin_file = "/dev/null") {
  std::string err_file = d.dir + "/stderr";
  std::string cmd = env + " " BERTHCTL_PATH " --address " + d.socket + " " + args + " <" +
                    stdin_file + " 2>" + err_file;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  std::ifstream f(err_file);
  std::stringstream err;
  err << f.rdbuf();
  return {WEXITSTATUS(status), out, err.str()};
}

}  // namespace

TEST_CASE("images: docker's table, the namespace as metadata") {
  Daemon d;
  auto r = berthctl(d, "images");
  CHECK(r.code == 0);
  CHECK(r.out ==
        "REPOSITORY   TAG       IMAGE ID       CREATED      SIZE\n"
        "busybox      latest    4e5021d210f6   3 days ago   4.26MB\n");
  CHECK(d.images.last_namespace == "default");
  r = berthctl(d, "image ls -q", "BERTH_NAMESPACE=builds");
  CHECK(r.out == "4e5021d210f6\n");
  CHECK(d.images.last_namespace == "builds");
  r = berthctl(d, "--namespace other images --format '{{.Repository}}:{{.Tag}} {{.Size}}'");
  CHECK(r.out == "busybox:latest 4.26MB\n");
  CHECK(d.images.last_namespace == "other");
  r = berthctl(d, "images none");
  CHECK(r.out == "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n");
}

TEST_CASE("pull: one line per state change when stdout is not a terminal; -q prints the name") {
  Daemon d;
  auto r = berthctl(d, "pull busybox");
  CHECK(r.code == 0);
  CHECK(r.out ==
        "Using default tag: latest\n"
        "latest: Pulling from library/busybox\n"
        "a1b2c3d4e5f6: Pulling fs layer\n"
        "a1b2c3d4e5f6: Download complete\n"
        "a1b2c3d4e5f6: Pull complete\n"
        "Digest: sha256:5acba83a746c7608ed544dc1533b87c737a0b0fb730301639a0179f9344b1678\n"
        "Status: Downloaded newer image for busybox:latest\n"
        "docker.io/library/busybox:latest\n");
  r = berthctl(d, "image pull -q busybox:latest");
  CHECK(r.code == 0);
  CHECK(r.out == "docker.io/library/busybox:latest\n");
}

TEST_CASE("daemon errors: one line, docker's prefix, exit 1") {
  Daemon d;
  auto r = berthctl(d, "pull localhost:5000/denied:latest");
  CHECK(r.code == 1);
  // UNAVAILABLE from a daemon that answered is the registry's, not ours.
  CHECK(r.err ==
        "Error response from daemon: Get \"http://localhost:5000/v2/\": dial tcp 127.0.0.1:5000: "
        "connect: "
        "connection refused\n");
  r = berthctl(d, "rmi busybox nope");
  CHECK(r.code == 1);
  CHECK(r.out ==
        "Untagged: busybox:latest\n"
        "Deleted: sha256:4e5021d210f65ebe915670c7089120120bc0a303b90208592851708c1b8c04bd\n");
  CHECK(r.err == "Error response from daemon: No such image: nope\n");
}

TEST_CASE("login: --password-stdin, docker's warning for -p") {
  Daemon d;
  std::string pw = d.dir + "/pw";
  std::ofstream(pw) << "secret\n";
  auto r = berthctl(d, "login -u me --password-stdin 127.0.0.1:5000", "", pw);
  CHECK(r.code == 0);
  CHECK(r.out == "Login Succeeded\n");
  r = berthctl(d, "login -u me -p wrong 127.0.0.1:5000");
  CHECK(r.code == 1);
  CHECK(r.err ==
        "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n"
        "Error response from daemon: Get \"http://127.0.0.1:5000/v2/\": unauthorized: "
        "authentication required\n");
  // stdin is not a terminal: an error, never a prompt that waits.
  r = berthctl(d, "login 127.0.0.1:5000");
  CHECK(r.code == 1);
  CHECK(r.err == "Error: Cannot perform an interactive login from a non TTY device\n");
}

TEST_CASE("save to a file, load from stdin") {
  Daemon d;
  std::string tar = d.dir + "/out.tar";
  auto r = berthctl(d, "save -o " + tar + " busybox alpine");
  CHECK(r.code == 0);
  std::stringstream saved;
  saved << std::ifstream(tar).rdbuf();
  CHECK(saved.str() == "archive of busybox\narchive of alpine\n");
  r = berthctl(d, "load", "", tar);
  CHECK(r.code == 0);
  CHECK(r.out == "a1b2c3d4e5f6: Loading layer\nLoaded image: busybox:latest\n");
  CHECK(d.images.loaded == saved.str());
  // Regression: -q printed nothing, as if "Loaded image" were progress.
  r = berthctl(d, "load -q -i " + tar);
  CHECK(r.code == 0);
  CHECK(r.out == "Loaded image: busybox:latest\n");
}

TEST_CASE("no daemon at the address") {
  Daemon d;
  d.server->Shutdown();
  std::string missing = d.dir + "/gone.sock";
  auto r = berthctl(d, "--address " + missing + " images");
  CHECK(r.code == 1);
  CHECK(r.err == "Cannot connect to the berth daemon at unix://" + missing +
                     ". Is the berth daemon running?\n");
}

TEST_CASE("prune without -f and without a terminal: an error, not a prompt that waits") {
  Daemon d;
  auto r = berthctl(d, "image prune");
  CHECK(r.code == 1);
  CHECK(r.out == "");
  CHECK(r.err == "berthctl: confirmation required but stdin is not a terminal: use -f/--force\n");
  r = berthctl(d, "system prune -a");
  CHECK(r.code == 1);
}

TEST_CASE("image inspect: docker's indented array, -f, missing images after the found ones") {
  Daemon d;
  auto r = berthctl(d, "image inspect busybox");
  CHECK(r.code == 0);
  CHECK(r.out ==
        "[\n    {\n        \"Id\": \"sha256:4e50\",\n        \"RepoTags\": [\n"
        "            \"busybox:latest\"\n        ],\n        \"Config\": {\n"
        "            \"Cmd\": [\n                \"sh\"\n            ]\n        }\n    }\n]\n");
  r = berthctl(d, "image inspect -f '{{.Id}} {{index .Config.Cmd 0}}' busybox nope");
  CHECK(r.code == 1);
  CHECK(r.out == "sha256:4e50 sh\n");
  CHECK(r.err == "Error: No such image: nope\n");
  r = berthctl(d, "image inspect nope");
  CHECK(r.out == "[]\n");
}

TEST_CASE("version --format, system df, snapshot ls") {
  Daemon d;
  auto r = berthctl(d, "version --format '{{.Server.Version}} {{.Server.Os}}/{{.Server.Arch}}'");
  CHECK(r.code == 0);
  CHECK(r.out == "0.1.0-fake linux/amd64\n");
  r = berthctl(d, "system df");
  CHECK(r.out ==
        "TYPE      TOTAL     ACTIVE    SIZE      RECLAIMABLE\n"
        "Images    2         1         8.523MB   4.262MB (50%)\n");
  r = berthctl(d, "snapshot --snapshotter native ls");
  CHECK(r.code == 0);
  CHECK(r.out ==
        "KEY           PARENT        KIND\n"
        "sha256:aaaa                 Committed\n"
        "work          sha256:aaaa   Active\n");
  CHECK(d.snapshots.last_snapshotter == "native");
}
