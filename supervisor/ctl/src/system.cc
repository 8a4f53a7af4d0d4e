// version, info / system info, system df, system prune, events / system events.
#include <ctime>

#include "berth/template/docker_format.h"
#include "berth/v1/content.grpc.pb.h"
#include "berth/v1/images.grpc.pb.h"
#include "berth/v1/system.grpc.pb.h"
#include "cli.h"
#include "images.h"
#include "render/human.h"
#include "render/listing.h"
#include "system.h"

#ifndef BERTH_VERSION
#define BERTH_VERSION "unknown"
#endif

namespace berth::ctl {

std::string disk_reclaimable(int64_t reclaimable, int64_t size) {
  std::string text = human_size(static_cast<double>(reclaimable));
  if (size > 0) text += " (" + std::to_string(reclaimable * 100 / size) + "%)";
  return text;
}

std::vector<json::Value> disk_usage_rows(const v1::DiskUsageResponse& du) {
  std::vector<json::Value> rows;
  for (const auto& r : du.rows()) {
    rows.push_back(jobj({{"Active", jstr(std::to_string(r.active()))},
                         {"Reclaimable", jstr(disk_reclaimable(r.reclaimable(), r.size()))},
                         {"Size", jstr(human_size(static_cast<double>(r.size())))},
                         {"TotalCount", jstr(std::to_string(r.total()))},
                         {"Type", jstr(r.type())}}));
  }
  return rows;
}

std::string info_text(const json::Value& info) {
  std::string text = "Server:\n";
  auto scalar = [](const json::Value& v) -> std::string {
    if (v.is_string()) return v.as_string();
    if (v.is_number()) return v.number_text();
    if (v.is_bool()) return v.as_bool() ? "true" : "false";
    if (v.is_null()) return "";
    json::Writer w;
    w.value(v);
    return w.str();
  };
  for (const auto& [key, value] : info.members()) {
    if (value.is_object()) {
      text += " " + key + ":\n";
      for (const auto& [k, v] : value.members()) text += "  " + k + ": " + scalar(v) + "\n";
    } else if (value.is_array()) {
      text += " " + key + ":\n";
      for (const auto& item : value.items()) text += "  " + scalar(item) + "\n";
    } else {
      text += " " + key + ": " + scalar(value) + "\n";
    }
  }
  return text;
}

std::string event_time(int64_t ns) {
  time_t seconds = static_cast<time_t>(ns / 1'000'000'000);
  struct tm tm {};
  localtime_r(&seconds, &tm);
  char date[64], zone[16], frac[16];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  std::strftime(zone, sizeof zone, "%z", &tm);
  std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(ns % 1'000'000'000));
  std::string z = zone;
  z = (z == "+0000") ? "Z" : z.substr(0, 3) + ":" + z.substr(3);
  return std::string(date) + frac + z;
}

json::Value event_row(const v1::Envelope& e) {
  // docker's .Type and .Action from containerd's topic: "/images/create"
  // is Type "image", Action "create".
  std::string topic = e.topic();
  std::string type, action;
  auto first = topic.find('/', 1);
  if (first != std::string::npos) {
    type = topic.substr(1, first - 1);
    if (type.ends_with("s")) type.pop_back();
    action = topic.substr(topic.rfind('/') + 1);
  }
  auto payload = json::parse(e.payload_json(), "event");
  return jobj({{"Action", jstr(action)},
               {"Namespace", jstr(e.namespace_())},
               {"Payload", payload ? std::move(*payload) : jstr(e.payload_json())},
               {"Time", jnum(e.timestamp_ns() / 1'000'000'000)},
               {"TimeNano", jnum(e.timestamp_ns())},
               {"Topic", jstr(topic)},
               {"Type", jstr(type)}});
}

namespace {

int64_t now_seconds() { return static_cast<int64_t>(std::time(nullptr)); }

struct FormatFlags {
  std::string format;
  bool verbose = false;
  std::vector<std::string> args;
};

void add_version(Cli& cli, CLI::App* parent) {
  auto f = std::make_shared<FormatFlags>();
  CLI::App* cmd = cli.command(parent, "version", "[OPTIONS]", "Show the berth version information");
  cmd->add_option("-f,--format", f->format, "Format output using a custom template")
      ->type_name("string");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.arity(cmd, f->args.size(), 0, 0));
    auto& client = cli.client();
    v1::VersionResponse v;
    grpc::Status st = v1::System::NewStub(client.channel())
                          ->Version(client.context().get(), v1::VersionRequest(), &v);
    auto client_part = jobj({{"Version", jstr(BERTH_VERSION)},
                             {"ApiVersion", jstr("v1")},
                             {"Os", jstr("linux")},
                             {"Arch", jstr(BERTH_ARCH)}});
    if (f->format.empty()) {
      // Like docker, the client's half is printed even without a daemon.
      out("Client:\n Version:           " BERTH_VERSION
          "\n API version:       v1\n"
          " OS/Arch:           linux/" BERTH_ARCH "\n");
      if (!st.ok()) {
        out("\n");
        return client.error(st);
      }
      out("\nServer:\n Version:           " + v.version() +
          "\n API version:       " + v.api_version() + "\n Git commit:        " + v.git_commit() +
          "\n OS/Arch:           " + v.os() + "/" + v.arch() +
          "\n Kernel Version:    " + v.kernel_version() + "\n");
      return {};
    }
    if (!st.ok()) return client.error(st);
    auto server = jobj({{"Version", jstr(v.version())},
                        {"ApiVersion", jstr(v.api_version())},
                        {"GitCommit", jstr(v.git_commit())},
                        {"Os", jstr(v.os())},
                        {"Arch", jstr(v.arch())},
                        {"KernelVersion", jstr(v.kernel_version())}});
    out(BERTH_VALUE(render_one(f->format, jobj({{"Client", client_part}, {"Server", server}}))));
    return {};
  });
}

void add_info(Cli& cli, CLI::App* parent) {
  auto f = std::make_shared<FormatFlags>();
  CLI::App* cmd = cli.command(parent, "info", "[OPTIONS]", "Display system-wide information");
  cmd->add_option("-f,--format", f->format, "Format output using a custom template")
      ->type_name("string");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.arity(cmd, f->args.size(), 0, 0));
    auto& client = cli.client();
    v1::InfoResponse resp;
    grpc::Status st = v1::System::NewStub(client.channel())
                          ->Info(client.context().get(), v1::InfoRequest(), &resp);
    if (!st.ok()) return client.error(st);
    auto info = json::parse(resp.json(), "info");
    if (!info) return client_error(info.error().message());
    out(f->format.empty() ? info_text(*info) : BERTH_VALUE(render_one(f->format, *info)));
    return {};
  });
}

void add_df(Cli& cli, CLI::App* parent) {
  auto f = std::make_shared<FormatFlags>();
  CLI::App* cmd = cli.command(parent, "df", "[OPTIONS]", "Show berth disk usage");
  cmd->add_option("--format", f->format, "Format output using a custom template")
      ->type_name("string");
  cmd->add_flag("-v,--verbose", f->verbose, "Show detailed information on space usage");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.arity(cmd, f->args.size(), 0, 0));
    auto& client = cli.client();
    if (f->verbose) {
      // docker's -v: the images table with their sizes.
      v1::ListImagesResponse list;
      grpc::Status st = v1::Images::NewStub(client.channel())
                            ->List(client.context().get(), v1::ListImagesRequest(), &list);
      if (!st.ok()) return client.error(st);
      auto rows = image_rows(list, {}, now_seconds());
      out("Images space usage:\n\n");
      out(BERTH_VALUE(
          render_list(f->format,
                      "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
                      "\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
                      rows, images_headers())));
      return {};
    }
    v1::DiskUsageResponse du;
    grpc::Status st = v1::System::NewStub(client.channel())
                          ->DiskUsage(client.context().get(), v1::DiskUsageRequest(), &du);
    if (!st.ok()) return client.error(st);
    out(BERTH_VALUE(
        render_list(f->format, kDiskUsageTable, disk_usage_rows(du), disk_usage_headers())));
    return {};
  });
}

struct SystemPruneFlags {
  bool all = false, force = false, volumes = false;
  std::vector<std::string> filters, args;
};

void add_system_prune(Cli& cli, CLI::App* parent) {
  auto f = std::make_shared<SystemPruneFlags>();
  CLI::App* cmd = cli.command(parent, "prune", "[OPTIONS]", "Remove unused data");
  cmd->add_flag("-a,--all", f->all, "Remove all unused images not just dangling ones");
  cmd->add_option("--filter", f->filters, "Provide filter values (e.g. \"label=<key>=<value>\")")
      ->allow_extra_args(false)
      ->type_name("filter");
  cmd->add_flag("-f,--force", f->force, "Do not prompt for confirmation");
  cmd->add_flag("--volumes", f->volumes, "Prune anonymous volumes");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.arity(cmd, f->args.size(), 0, 0));
    auto filters = BERTH_VALUE(parse_filters(f->filters));
    if (!f->force && !BERTH_VALUE(confirm(system_prune_warning(f->all, f->volumes)))) {
      out("Total reclaimed space: 0B\n");
      return {};
    }
    v1::SystemPruneRequest req;
    req.set_all(f->all);
    req.set_volumes(f->volumes);
    add_filters(req, filters);
    auto& client = cli.client();
    v1::PruneReport report;
    grpc::Status st =
        v1::System::NewStub(client.channel())->Prune(client.context().get(), req, &report);
    if (!st.ok()) return client.error(st);
    out(prune_report_text(report));
    return {};
  });
}

struct EventsFlags {
  std::vector<std::string> filters;
  std::string format;
  std::vector<std::string> args;
};

void add_events(Cli& cli, CLI::App* parent) {
  auto f = std::make_shared<EventsFlags>();
  CLI::App* cmd =
      cli.command(parent, "events", "[OPTIONS]", "Get real time events from the server");
  cmd->add_option("-f,--filter", f->filters, "Filter output based on conditions provided")
      ->allow_extra_args(false)
      ->type_name("filter");
  cmd->add_option("--format", f->format, "Format the output using the given Go template")
      ->type_name("string");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.arity(cmd, f->args.size(), 0, 0));
    // A bad template fails before subscribing, not at the first event.
    if (!f->format.empty()) BERTH_TRY(tmpl::DockerFormat::parse(f->format));
    v1::SubscribeRequest req;
    for (const auto& filter : f->filters) req.add_filters(filter);
    auto& client = cli.client();
    auto ctx = client.context();
    auto reader = v1::Events::NewStub(client.channel())->Subscribe(ctx.get(), req);
    v1::Envelope e;
    while (reader->Read(&e)) {
      if (!f->format.empty()) {
        out(BERTH_VALUE(render_one(f->format, event_row(e))));
      } else {
        out(event_time(e.timestamp_ns()) + " " + e.namespace_() + " " + e.topic() + " " +
            e.payload_json() + "\n");
      }
      out_flush();
    }
    grpc::Status st = reader->Finish();
    if (!st.ok()) return client.error(st);
    return {};
  });
}

}  // namespace

void add_system_commands(Cli& cli) {
  CLI::App* root = &cli.root();
  CLI::App* system = cli.group(root, "system", "Manage berth");
  add_version(cli, root);
  add_info(cli, root);
  add_info(cli, system);
  add_df(cli, system);
  add_system_prune(cli, system);
  add_events(cli, root);
  add_events(cli, system);
}

}  // namespace berth::ctl
