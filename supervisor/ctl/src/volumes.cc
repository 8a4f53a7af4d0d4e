// volume create, ls, inspect, rm, prune: docker's flags and output.

#include <ctime>

#include "berth/v1/volumes.grpc.pb.h"
#include "cli.h"
#include "images.h"
#include "render/human.h"
#include "render/listing.h"

namespace berth::ctl {

namespace v1 = berth::v1;

namespace {

// docker's volume inspect object.
json::Value volume_json(const v1::VolumeInfo& v) {
  std::vector<std::pair<std::string, json::Value>> labels;
  for (const auto& [k, val] : v.labels()) labels.emplace_back(k, jstr(val));
  std::sort(labels.begin(), labels.end(), [](auto& a, auto& b) { return a.first < b.first; });
  time_t secs = time_t(v.created_at_ns() / 1000000000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char created[64];
  std::strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return jobj({{"CreatedAt", jstr(created)},
               {"Driver", jstr("local")},
               {"Labels", json::Value::object(std::move(labels))},
               {"Mountpoint", jstr(v.mountpoint())},
               {"Name", jstr(v.name())},
               {"Options", json::Value::object({})},
               {"Scope", jstr("local")}});
}

struct CreateFlags {
  std::string name, driver;
  std::vector<std::string> labels, opts, args;
};

void add_create(Cli& cli, CLI::App* group) {
  auto f = std::make_shared<CreateFlags>();
  CLI::App* cmd = cli.command(group, "create", "[OPTIONS] [VOLUME]", "Create a volume");
  cmd->add_option("--name", f->name, "Specify volume name")->type_name("string");
  cmd->add_option("-d,--driver", f->driver, "Specify volume driver name (default \"local\")")
      ->type_name("string");
  cmd->add_option("--label", f->labels, "Set metadata for a volume")
      ->type_name("list")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  cmd->add_option("-o,--opt", f->opts, "Set driver specific options")
      ->type_name("map")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.arity(cmd, f->args.size(), 0, 1));
    if (!f->args.empty() && !f->name.empty() && f->args[0] != f->name)
      return make_error(
          "conflicting options: either specify --name or provide positional arg, "
          "not both");
    v1::CreateVolumeRequest req;
    req.set_name(f->args.empty() ? f->name : f->args[0]);
    req.set_driver(f->driver);
    for (const auto& l : f->labels) {
      auto eq = l.find('=');
      (*req.mutable_labels())[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
    }
    for (const auto& o : f->opts) {
      auto eq = o.find('=');
      (*req.mutable_driver_opts())[o.substr(0, eq)] =
          eq == std::string::npos ? "" : o.substr(eq + 1);
    }
    auto& client = cli.client();
    v1::VolumeInfo resp;
    grpc::Status st =
        v1::Volumes::NewStub(client.channel())->Create(client.context().get(), req, &resp);
    if (!st.ok()) return client.error(st);
    out(resp.name() + "\n");
    return {};
  });
}

struct LsFlags {
  bool quiet = false;
  std::vector<std::string> filters;
  std::string format;
  std::vector<std::string> args;
};

void add_ls(Cli& cli, CLI::App* group) {
  auto f = std::make_shared<LsFlags>();
  CLI::App* cmd = cli.command(group, "ls", "[OPTIONS]", "List volumes");
  cmd->alias("list");
  cmd->add_flag("-q,--quiet", f->quiet, "Only display volume names");
  cmd->add_option("-f,--filter", f->filters, "Provide filter values (e.g. 'dangling=true')")
      ->type_name("filter")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  cmd->add_option("--format", f->format, "Pretty-print volumes using a Go template")
      ->type_name("string");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.exact(cmd, f->args.size(), 0));
    v1::ListVolumesRequest req;
    add_filters(req, BERTH_VALUE(parse_filters(f->filters)));
    auto& client = cli.client();
    v1::ListVolumesResponse resp;
    grpc::Status st =
        v1::Volumes::NewStub(client.channel())->List(client.context().get(), req, &resp);
    if (!st.ok()) return client.error(st);
    std::vector<json::Value> rows;
    for (const auto& v : resp.volumes()) {
      std::string labels;
      for (const auto& [k, val] : v.labels()) labels += (labels.empty() ? "" : ",") + k + "=" + val;
      rows.push_back(jobj({{"Driver", jstr("local")},
                           {"Labels", jstr(labels)},
                           {"Links", jstr("N/A")},
                           {"Mountpoint", jstr(v.mountpoint())},
                           {"Name", jstr(v.name())},
                           {"Scope", jstr("local")},
                           {"Size", jstr("N/A")}}));
    }
    std::string format = f->quiet ? "{{.Name}}" : f->format;
    out(BERTH_VALUE(render_list(format, "table {{.Driver}}\t{{.Name}}", rows,
                                headers({{"Driver", "DRIVER"},
                                         {"Name", "VOLUME NAME"},
                                         {"Labels", "LABELS"},
                                         {"Mountpoint", "MOUNTPOINT"},
                                         {"Scope", "SCOPE"},
                                         {"Size", "SIZE"},
                                         {"Links", "LINKS"}}))));
    return {};
  });
}

void add_inspect(Cli& cli, CLI::App* group) {
  auto format = std::make_shared<std::string>();
  auto args = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = cli.command(group, "inspect", "[OPTIONS] VOLUME [VOLUME...]",
                              "Display detailed information on one or more volumes");
  cmd->add_option("-f,--format", *format, "Format output using a custom template")
      ->type_name("string");
  cmd->add_option("args", *args);
  cli.on_run(cmd, [&cli, cmd, format, args]() -> Status {
    BERTH_TRY(cli.arity(cmd, args->size(), 1, SIZE_MAX));
    auto& client = cli.client();
    auto stub = v1::Volumes::NewStub(client.channel());
    std::vector<json::Value> found;
    std::string errors;
    for (const auto& name : *args) {
      v1::InspectVolumeRequest req;
      req.set_name(name);
      v1::VolumeInfo resp;
      grpc::Status st = stub->Inspect(client.context().get(), req, &resp);
      if (!st.ok()) {
        if (st.error_code() != grpc::StatusCode::NOT_FOUND) return client.error(st);
        errors += (errors.empty() ? "" : "\n") + ("Error: No such volume: " + name);
        continue;
      }
      found.push_back(volume_json(resp));
    }
    if (format->empty()) {
      out(pretty_json_array(found));
    } else {
      for (const auto& v : found) out(BERTH_VALUE(render_one(*format, v)));
    }
    if (!errors.empty()) return make_error(errors);
    return {};
  });
}

void add_rm(Cli& cli, CLI::App* group) {
  auto force = std::make_shared<bool>(false);
  auto args = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd =
      cli.command(group, "rm", "[OPTIONS] VOLUME [VOLUME...]", "Remove one or more volumes");
  cmd->alias("remove");
  cmd->add_flag("-f,--force", *force, "Force the removal of one or more volumes");
  cmd->add_option("args", *args);
  cli.on_run(cmd, [&cli, cmd, force, args]() -> Status {
    BERTH_TRY(cli.arity(cmd, args->size(), 1, SIZE_MAX));
    auto& client = cli.client();
    auto stub = v1::Volumes::NewStub(client.channel());
    std::string errors;
    for (const auto& name : *args) {
      v1::RemoveVolumeRequest req;
      req.set_name(name);
      req.set_force(*force);
      v1::RemoveVolumeResponse resp;
      grpc::Status st = stub->Remove(client.context().get(), req, &resp);
      if (!st.ok()) {
        errors += (errors.empty() ? "" : "\n") + client.error(st).message();
        continue;
      }
      out(name + "\n");
    }
    if (!errors.empty()) return make_error(errors);
    return {};
  });
}

void add_prune(Cli& cli, CLI::App* group) {
  auto force = std::make_shared<bool>(false);
  CLI::App* cmd = cli.command(group, "prune", "[OPTIONS]", "Remove all unused local volumes");
  cmd->add_flag("-f,--force", *force, "Do not prompt for confirmation");
  cli.on_run(cmd, [&cli, force]() -> Status {
    if (!*force && !BERTH_VALUE(confirm("WARNING! This will remove all local volumes not used by "
                                        "at least one container.\nAre you sure you want to "
                                        "continue?")))
      return {};
    auto& client = cli.client();
    v1::PruneVolumesRequest req;
    v1::PruneReport report;
    grpc::Status st =
        v1::Volumes::NewStub(client.channel())->Prune(client.context().get(), req, &report);
    if (!st.ok()) return client.error(st);
    out(prune_report_text(report, "Volumes"));
    return {};
  });
}

}  // namespace

void add_volume_commands(Cli& cli) {
  CLI::App* group = cli.group(&cli.root(), "volume", "Manage volumes");
  add_create(cli, group);
  add_ls(cli, group);
  add_inspect(cli, group);
  add_rm(cli, group);
  add_prune(cli, group);
}

}  // namespace berth::ctl
