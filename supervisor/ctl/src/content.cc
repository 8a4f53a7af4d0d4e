// ctr-style store verbs: content ls|get|rm|active, snapshot ls|info|mounts|
// usage|rm, lease ls|create|rm. Output as ctr prints it, columns aligned by
// the same tabwriter as docker's tables.
#include <unistd.h>

#include <ctime>

#include "berth/v1/content.grpc.pb.h"
#include "cli.h"
#include "render/human.h"
#include "render/listing.h"
#include "terminal.h"

namespace berth::ctl {

namespace {

int64_t now_seconds() { return static_cast<int64_t>(std::time(nullptr)); }

std::string age(int64_t created_at) {
  if (created_at <= 0) return "-";
  return human_duration((now_seconds() - created_at) * 1'000'000'000);
}

std::string labels_text(const google::protobuf::Map<std::string, std::string>& labels) {
  if (labels.empty()) return "-";
  std::map<std::string, std::string> sorted(labels.begin(), labels.end());
  std::string text;
  for (const auto& [k, v] : sorted) text += (text.empty() ? "" : ",") + k + "=" + v;
  return text;
}

json::Value labels_json(const google::protobuf::Map<std::string, std::string>& labels) {
  std::map<std::string, std::string> sorted(labels.begin(), labels.end());
  std::vector<std::pair<std::string, json::Value>> members;
  for (const auto& [k, v] : sorted) members.emplace_back(k, jstr(v));
  return json::Value::object(std::move(members));
}

struct ListFlags {
  bool quiet = false;
  std::string snapshotter;
  std::vector<std::string> args;
};

void add_content(Cli& cli) {
  CLI::App* group = cli.group(&cli.root(), "content", "Manage content in the content store");

  auto ls = std::make_shared<ListFlags>();
  CLI::App* cmd = cli.command(group, "ls", "[OPTIONS]", "List all blobs in the store");
  cmd->alias("list");
  cmd->add_flag("-q,--quiet", ls->quiet, "Print only the blob digest");
  cmd->add_option("args", ls->args);
  cli.on_run(cmd, [&cli, cmd, ls]() -> Status {
    BERTH_TRY(cli.arity(cmd, ls->args.size(), 0, 0));
    auto& client = cli.client();
    v1::ListContentResponse resp;
    grpc::Status st = v1::Content::NewStub(client.channel())
                          ->List(client.context().get(), v1::ListContentRequest(), &resp);
    if (!st.ok()) return client.error(st);
    std::vector<json::Value> rows;
    for (const auto& info : resp.infos()) {
      rows.push_back(jobj({{"Digest", jstr(info.digest())},
                           {"Size", jstr(human_size(static_cast<double>(info.size())))},
                           {"Age", jstr(age(info.created_at()))}}));
    }
    out(BERTH_VALUE(
        render_list(ls->quiet ? "{{.Digest}}" : "", "table {{.Digest}}\t{{.Size}}\t{{.Age}}", rows,
                    headers({{"Digest", "DIGEST"}, {"Size", "SIZE"}, {"Age", "AGE"}}))));
    return {};
  });

  auto active = std::make_shared<std::vector<std::string>>();
  cmd = cli.command(group, "active", "", "Display active transfers");
  cmd->add_option("args", *active);
  cli.on_run(cmd, [&cli, cmd, active]() -> Status {
    BERTH_TRY(cli.arity(cmd, active->size(), 0, 0));
    auto& client = cli.client();
    v1::ListIngestsResponse resp;
    grpc::Status st = v1::Content::NewStub(client.channel())
                          ->ListIngests(client.context().get(), v1::ListIngestsRequest(), &resp);
    if (!st.ok()) return client.error(st);
    std::vector<json::Value> rows;
    for (const auto& in : resp.ingests()) {
      rows.push_back(jobj({{"Ref", jstr(in.ref())},
                           {"Size", jstr(human_size(static_cast<double>(in.offset())))},
                           {"Age", jstr(age(in.updated_at()))}}));
    }
    out(BERTH_VALUE(render_list("", "table {{.Ref}}\t{{.Size}}\t{{.Age}}", rows,
                                headers({{"Ref", "REF"}, {"Size", "SIZE"}, {"Age", "AGE"}}))));
    return {};
  });

  auto get = std::make_shared<std::vector<std::string>>();
  cmd = cli.command(group, "get", "DIGEST", "Get the data for an object");
  cmd->add_option("args", *get);
  cli.on_run(cmd, [&cli, cmd, get]() -> Status {
    BERTH_TRY(cli.exact(cmd, get->size(), 1));
    v1::ReadContentRequest req;
    req.set_digest((*get)[0]);
    auto& client = cli.client();
    auto ctx = client.context();
    auto reader = v1::Content::NewStub(client.channel())->Read(ctx.get(), req);
    v1::ContentChunk chunk;
    Status written;
    while (reader->Read(&chunk)) {
      written = write_out(STDOUT_FILENO, chunk.data());
      if (!written) {
        ctx->TryCancel();
        break;
      }
    }
    grpc::Status st = reader->Finish();
    if (!written) return client_error(written.error().to_string());
    if (!st.ok()) return client.error(st);
    return {};
  });

  auto rm = std::make_shared<std::vector<std::string>>();
  cmd = cli.command(group, "rm", "DIGEST [DIGEST...]", "Permanently delete one or more blobs");
  cmd->alias("delete");
  cmd->add_option("args", *rm);
  cli.on_run(cmd, [&cli, cmd, rm]() -> Status {
    BERTH_TRY(cli.arity(cmd, rm->size(), 1, SIZE_MAX));
    auto& client = cli.client();
    auto stub = v1::Content::NewStub(client.channel());
    for (const auto& digest : *rm) {
      v1::DeleteContentRequest req;
      req.set_digest(digest);
      v1::DeleteContentResponse resp;
      grpc::Status st = stub->Delete(client.context().get(), req, &resp);
      if (!st.ok()) return client.error(st);
    }
    return {};
  });
}

void add_snapshot(Cli& cli) {
  CLI::App* group = cli.group(&cli.root(), "snapshot", "Manage snapshots");
  group->alias("snapshots");
  auto snapshotter = std::make_shared<std::string>();
  group->add_option("--snapshotter", *snapshotter, "Snapshotter name (default: the daemon's)")
      ->type_name("string");

  auto ls = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = cli.command(group, "ls", "", "List snapshots");
  cmd->alias("list");
  cmd->add_option("args", *ls);
  cli.on_run(cmd, [&cli, cmd, ls, snapshotter]() -> Status {
    BERTH_TRY(cli.arity(cmd, ls->size(), 0, 0));
    v1::ListSnapshotsRequest req;
    req.set_snapshotter(*snapshotter);
    auto& client = cli.client();
    v1::ListSnapshotsResponse resp;
    grpc::Status st =
        v1::Snapshots::NewStub(client.channel())->List(client.context().get(), req, &resp);
    if (!st.ok()) return client.error(st);
    std::vector<json::Value> rows;
    for (const auto& s : resp.snapshots()) {
      rows.push_back(
          jobj({{"Key", jstr(s.key())}, {"Parent", jstr(s.parent())}, {"Kind", jstr(s.kind())}}));
    }
    out(BERTH_VALUE(
        render_list("", "table {{.Key}}\t{{.Parent}}\t{{.Kind}}", rows,
                    headers({{"Key", "KEY"}, {"Parent", "PARENT"}, {"Kind", "KIND"}}))));
    return {};
  });

  auto info = std::make_shared<std::vector<std::string>>();
  cmd = cli.command(group, "info", "KEY", "Get info about a snapshot");
  cmd->add_option("args", *info);
  cli.on_run(cmd, [&cli, cmd, info, snapshotter]() -> Status {
    BERTH_TRY(cli.exact(cmd, info->size(), 1));
    v1::StatSnapshotRequest req;
    req.set_snapshotter(*snapshotter);
    req.set_key((*info)[0]);
    auto& client = cli.client();
    v1::SnapshotInfo s;
    grpc::Status st =
        v1::Snapshots::NewStub(client.channel())->Stat(client.context().get(), req, &s);
    if (!st.ok()) return client.error(st);
    // ctr prints the snapshots.Info struct as indented JSON.
    auto value = jobj({{"Kind", jstr(s.kind())},
                       {"Name", jstr(s.key())},
                       {"Parent", jstr(s.parent())},
                       {"Labels", labels_json(s.labels())},
                       {"Created", jstr(rfc3339(s.created_at()))},
                       {"Updated", jstr(rfc3339(s.updated_at()))}});
    out(pretty_json(value));
    return {};
  });

  auto mounts = std::make_shared<std::vector<std::string>>();
  cmd = cli.command(group, "mounts", "TARGET KEY", "Mount gets mount commands for the snapshots");
  cmd->alias("m");
  cmd->add_option("args", *mounts);
  cli.on_run(cmd, [&cli, cmd, mounts, snapshotter]() -> Status {
    BERTH_TRY(cli.exact(cmd, mounts->size(), 2));
    v1::SnapshotMountsRequest req;
    req.set_snapshotter(*snapshotter);
    req.set_key((*mounts)[1]);
    auto& client = cli.client();
    v1::SnapshotMountsResponse resp;
    grpc::Status st =
        v1::Snapshots::NewStub(client.channel())->Mounts(client.context().get(), req, &resp);
    if (!st.ok()) return client.error(st);
    for (const auto& m : resp.mounts()) {
      std::string options;
      for (const auto& o : m.options()) options += (options.empty() ? "" : ",") + o;
      out("mount -t " + m.type() + " " + m.source() + " " + (*mounts)[0] +
          (options.empty() ? "" : " -o " + options) + "\n");
    }
    return {};
  });

  auto usage = std::make_shared<std::vector<std::string>>();
  cmd = cli.command(group, "usage", "KEY", "Usage snapshots");
  cmd->add_option("args", *usage);
  cli.on_run(cmd, [&cli, cmd, usage, snapshotter]() -> Status {
    BERTH_TRY(cli.exact(cmd, usage->size(), 1));
    v1::SnapshotUsageRequest req;
    req.set_snapshotter(*snapshotter);
    req.set_key((*usage)[0]);
    auto& client = cli.client();
    v1::SnapshotUsageResponse resp;
    grpc::Status st =
        v1::Snapshots::NewStub(client.channel())->Usage(client.context().get(), req, &resp);
    if (!st.ok()) return client.error(st);
    out(BERTH_VALUE(
        render_list("", "table {{.Key}}\t{{.Size}}\t{{.Inodes}}",
                    {jobj({{"Key", jstr((*usage)[0])},
                           {"Size", jstr(human_size(static_cast<double>(resp.size())))},
                           {"Inodes", jstr(std::to_string(resp.inodes()))}})},
                    headers({{"Key", "KEY"}, {"Size", "SIZE"}, {"Inodes", "INODES"}}))));
    return {};
  });

  auto rm = std::make_shared<std::vector<std::string>>();
  cmd = cli.command(group, "rm", "KEY [KEY...]", "Remove snapshots");
  cmd->alias("delete");
  cmd->add_option("args", *rm);
  cli.on_run(cmd, [&cli, cmd, rm, snapshotter]() -> Status {
    BERTH_TRY(cli.arity(cmd, rm->size(), 1, SIZE_MAX));
    auto& client = cli.client();
    auto stub = v1::Snapshots::NewStub(client.channel());
    for (const auto& key : *rm) {
      v1::RemoveSnapshotRequest req;
      req.set_snapshotter(*snapshotter);
      req.set_key(key);
      v1::RemoveSnapshotResponse resp;
      grpc::Status st = stub->Remove(client.context().get(), req, &resp);
      if (!st.ok()) return client.error(st);
    }
    return {};
  });
}

struct LeaseCreateFlags {
  std::string id;
  int64_t expires_seconds = 86400;
  std::vector<std::string> labels, args;
};

void add_lease(Cli& cli) {
  CLI::App* group = cli.group(&cli.root(), "lease", "Manage leases");
  group->alias("leases");

  auto ls = std::make_shared<ListFlags>();
  CLI::App* cmd = cli.command(group, "ls", "[OPTIONS]", "List all active leases");
  cmd->alias("list");
  cmd->add_flag("-q,--quiet", ls->quiet, "Print only the lease id");
  cmd->add_option("args", ls->args);
  cli.on_run(cmd, [&cli, cmd, ls]() -> Status {
    BERTH_TRY(cli.arity(cmd, ls->args.size(), 0, 0));
    auto& client = cli.client();
    v1::ListLeasesResponse resp;
    grpc::Status st = v1::Leases::NewStub(client.channel())
                          ->List(client.context().get(), v1::ListLeasesRequest(), &resp);
    if (!st.ok()) return client.error(st);
    std::vector<json::Value> rows;
    for (const auto& l : resp.leases()) {
      rows.push_back(jobj({{"ID", jstr(l.id())},
                           {"CreatedAt", jstr(rfc3339(l.created_at()))},
                           {"Labels", jstr(labels_text(l.labels()))}}));
    }
    out(BERTH_VALUE(
        render_list(ls->quiet ? "{{.ID}}" : "", "table {{.ID}}\t{{.CreatedAt}}\t{{.Labels}}", rows,
                    headers({{"ID", "ID"}, {"CreatedAt", "CREATED AT"}, {"Labels", "LABELS"}}))));
    return {};
  });

  auto create = std::make_shared<LeaseCreateFlags>();
  cmd = cli.command(group, "create", "[OPTIONS]", "Create lease");
  cmd->add_option("--id", create->id, "Set the id for the lease, will be generated by default")
      ->type_name("string");
  cmd->add_option("--expires", create->expires_seconds,
                  "Seconds until the lease expires (0: never)")
      ->type_name("int");
  cmd->add_option("--label", create->labels, "Labels to attach to the lease (KEY=VALUE)")
      ->allow_extra_args(false)
      ->type_name("stringArray");
  cmd->add_option("args", create->args);
  cli.on_run(cmd, [&cli, cmd, create]() -> Status {
    BERTH_TRY(cli.arity(cmd, create->args.size(), 0, 0));
    v1::CreateLeaseRequest req;
    req.set_id(create->id);
    req.set_expires_in_seconds(create->expires_seconds);
    for (const auto& label : create->labels) {
      auto eq = label.find('=');
      if (eq == std::string::npos)
        return client_error("invalid label `" + label + "`: expected KEY=VALUE");
      (*req.mutable_labels())[label.substr(0, eq)] = label.substr(eq + 1);
    }
    auto& client = cli.client();
    v1::LeaseInfo lease;
    grpc::Status st =
        v1::Leases::NewStub(client.channel())->Create(client.context().get(), req, &lease);
    if (!st.ok()) return client.error(st);
    out(lease.id() + "\n");
    return {};
  });

  auto rm = std::make_shared<std::vector<std::string>>();
  cmd = cli.command(group, "rm", "LEASE [LEASE...]", "Remove leases");
  cmd->alias("delete");
  cmd->add_option("args", *rm);
  cli.on_run(cmd, [&cli, cmd, rm]() -> Status {
    BERTH_TRY(cli.arity(cmd, rm->size(), 1, SIZE_MAX));
    auto& client = cli.client();
    auto stub = v1::Leases::NewStub(client.channel());
    for (const auto& id : *rm) {
      v1::DeleteLeaseRequest req;
      req.set_id(id);
      v1::DeleteLeaseResponse resp;
      grpc::Status st = stub->Delete(client.context().get(), req, &resp);
      if (!st.ok()) return client.error(st);
    }
    return {};
  });
}

}  // namespace

void add_content_commands(Cli& cli) {
  add_content(cli);
  add_snapshot(cli);
  add_lease(cli);
}

}  // namespace berth::ctl
