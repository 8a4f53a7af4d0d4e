// ps, stop, restart, kill, pause, unpause, rm, wait, inspect, logs, rename,
// top, container prune: docker's flags, output and errors.

#include "container_verbs.h"

#include <chrono>
#include <ctime>

#include "berth/v1/containers.grpc.pb.h"
#include "berth/v1/images.grpc.pb.h"
#include "images.h"
#include "render/human.h"
#include "render/listing.h"
#include "run_flags.h"
#include "terminal.h"

namespace berth::ctl {

namespace v1 = berth::v1;

namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// docker's State.String(): what the STATUS column says.
std::string status_text(const v1::ContainerSummary& c, int64_t now) {
  const std::string& s = c.state();
  if (s == "running" || s == "paused") {
    std::string up = "Up " + human_duration(now - c.started_at_ns());
    return s == "paused" ? up + " (Paused)" : up;
  }
  if (s == "restarting")
    return "Restarting (" + std::to_string(c.exit_code()) + ") " +
           human_duration(now - c.finished_at_ns()) + " ago";
  if (s == "created") return "Created";
  if (s == "removing") return "Removal In Progress";
  if (s == "dead") return "Dead";
  if (c.finished_at_ns() == 0) return "Created";
  return "Exited (" + std::to_string(c.exit_code()) + ") " +
         human_duration(now - c.finished_at_ns()) + " ago";
}

constexpr const char* kPsTable =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

json::Value ps_headers() {
  return headers({{"ID", "CONTAINER ID"},
                  {"Image", "IMAGE"},
                  {"Command", "COMMAND"},
                  {"CreatedAt", "CREATED AT"},
                  {"RunningFor", "CREATED"},
                  {"Status", "STATUS"},
                  {"State", "STATE"},
                  {"Ports", "PORTS"},
                  {"Names", "NAMES"},
                  {"Size", "SIZE"},
                  {"Labels", "LABELS"},
                  {"Mounts", "MOUNTS"},
                  {"Networks", "NETWORKS"},
                  {"LocalVolumes", "LOCAL VOLUMES"}});
}

json::Value ps_row(const v1::ContainerSummary& c, bool no_trunc, int64_t now) {
  std::string command = c.command();
  if (!no_trunc) command = ellipsis(command, 20);
  std::string labels;
  for (const auto& [k, v] : c.labels()) labels += (labels.empty() ? "" : ",") + k + "=" + v;
  return jobj({{"Command", jstr("\"" + command + "\"")},
               {"CreatedAt", jstr(created_at(c.created()))},
               {"ID", jstr(no_trunc ? c.id() : c.id().substr(0, 12))},
               {"Image", jstr(c.image())},
               {"Labels", jstr(labels)},
               {"LocalVolumes", jstr("0")},
               {"Mounts", jstr(c.mounts())},
               {"Names", jstr(c.name())},
               {"Networks", jstr(c.networks())},
               {"Ports", jstr(c.ports())},
               {"RunningFor", jstr(created_since(c.created(), now / 1000000000))},
               {"Size", jstr("0B")},
               {"State", jstr(c.state())},
               {"Status", jstr(status_text(c, now))}});
}

struct PsFlags {
  bool all = false, quiet = false, size = false, latest = false, no_trunc = false;
  int last = -1;
  std::vector<std::string> filters;
  std::string format;
  std::vector<std::string> args;
};

void add_ps(Cli& cli, CLI::App* parent, const std::string& name) {
  auto f = std::make_shared<PsFlags>();
  CLI::App* cmd = cli.command(parent, name, "[OPTIONS]", "List containers");
  if (name == "ls") cmd->alias("ps")->alias("list");
  cmd->add_flag("-a,--all", f->all, "Show all containers (default shows just running)");
  cmd->add_flag("-q,--quiet", f->quiet, "Only display container IDs");
  cmd->add_flag("-s,--size", f->size, "Display total file sizes");
  cmd->add_flag("-l,--latest", f->latest,
                "Show the latest created container (includes all states)");
  cmd->add_option("-n,--last", f->last, "Show n last created containers (includes all states)")
      ->type_name("int");
  cmd->add_flag("--no-trunc", f->no_trunc, "Don't truncate output");
  cmd->add_option("-f,--filter", f->filters, "Filter output based on conditions provided")
      ->type_name("filter")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  cmd->add_option("--format", f->format, "Pretty-print containers using a Go template")
      ->type_name("string");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.exact(cmd, f->args.size(), 0));
    v1::ListContainersRequest req;
    req.set_all(f->all);
    req.set_limit(f->latest ? 1 : f->last > 0 ? f->last : 0);
    add_filters(req, BERTH_VALUE(parse_filters(f->filters)));
    auto& client = cli.client();
    v1::ListContainersResponse resp;
    grpc::Status st =
        v1::Containers::NewStub(client.channel())->List(client.context().get(), req, &resp);
    if (!st.ok()) return client.error(st);
    int64_t now = now_ns();
    std::vector<json::Value> rows;
    for (const auto& c : resp.containers()) rows.push_back(ps_row(c, f->no_trunc, now));
    std::string format = f->quiet ? "{{.ID}}" : f->format;
    std::string table = kPsTable;
    if (f->size && format.empty()) table += "\t{{.Size}}";
    out(BERTH_VALUE(render_list(format, table, rows, ps_headers())));
    return {};
  });
}

// A verb applied to each argument in turn, docker's way: every one is
// tried, each success prints the argument, the failures are reported at
// the end together.
using EachFn = std::function<grpc::Status(v1::Containers::Stub&, grpc::ClientContext*,
                                          const std::string& ref)>;

Status for_each(Cli& cli, const std::vector<std::string>& refs, const EachFn& fn) {
  auto& client = cli.client();
  auto stub = v1::Containers::NewStub(client.channel());
  std::string errors;
  for (const auto& ref : refs) {
    grpc::Status st = fn(*stub, client.context().get(), ref);
    if (!st.ok()) {
      Error e = client.error(st);
      if (e.code() == EHOSTUNREACH) return e;
      errors += (errors.empty() ? "" : "\n") + e.message();
      continue;
    }
    out(ref + "\n");
  }
  if (!errors.empty()) return make_error(errors);
  return {};
}

struct StopFlags {
  int time = 0;
  bool time_set = false;
  std::string signal;
  std::vector<std::string> args;
};

void add_stop(Cli& cli, CLI::App* parent, const std::string& name) {
  auto f = std::make_shared<StopFlags>();
  bool restart = name == "restart";
  CLI::App* cmd = cli.command(
      parent, name, "[OPTIONS] CONTAINER [CONTAINER...]",
      restart ? "Restart one or more containers" : "Stop one or more running containers");
  cmd->add_option("-t,--time", f->time, "Seconds to wait for stop before killing it (default 10)")
      ->type_name("int")
      ->each([f](const std::string&) { f->time_set = true; });
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f, restart]() -> Status {
    BERTH_TRY(cli.arity(cmd, f->args.size(), 1, SIZE_MAX));
    return for_each(
        cli, f->args,
        [&](v1::Containers::Stub& stub, grpc::ClientContext* ctx, const std::string& ref) {
          v1::StopContainerRequest req;
          req.set_ref(ref);
          req.set_timeout(f->time);
          req.set_has_timeout(f->time_set);
          v1::Empty empty;
          return restart ? stub.Restart(ctx, req, &empty) : stub.Stop(ctx, req, &empty);
        });
  });
}

void add_kill(Cli& cli, CLI::App* parent) {
  auto f = std::make_shared<StopFlags>();
  CLI::App* cmd = cli.command(parent, "kill", "[OPTIONS] CONTAINER [CONTAINER...]",
                              "Kill one or more running containers");
  cmd->add_option("-s,--signal", f->signal, "Signal to send to the container (default \"KILL\")")
      ->type_name("string");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.arity(cmd, f->args.size(), 1, SIZE_MAX));
    return for_each(
        cli, f->args,
        [&](v1::Containers::Stub& stub, grpc::ClientContext* ctx, const std::string& ref) {
          v1::KillContainerRequest req;
          req.set_ref(ref);
          req.set_signal(f->signal);
          v1::Empty empty;
          return stub.Kill(ctx, req, &empty);
        });
  });
}

void add_pause(Cli& cli, CLI::App* parent, bool pause) {
  auto args = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = cli.command(parent, pause ? "pause" : "unpause", "CONTAINER [CONTAINER...]",
                              pause ? "Pause all processes within one or more containers"
                                    : "Unpause all processes within one or more containers");
  cmd->add_option("args", *args);
  cli.on_run(cmd, [&cli, cmd, args, pause]() -> Status {
    BERTH_TRY(cli.arity(cmd, args->size(), 1, SIZE_MAX));
    return for_each(
        cli, *args,
        [&](v1::Containers::Stub& stub, grpc::ClientContext* ctx, const std::string& ref) {
          v1::ContainerRef req;
          req.set_ref(ref);
          v1::Empty empty;
          return pause ? stub.Pause(ctx, req, &empty) : stub.Unpause(ctx, req, &empty);
        });
  });
}

struct RmFlags {
  bool force = false, volumes = false, link = false;
  std::vector<std::string> args;
};

void add_rm(Cli& cli, CLI::App* parent, const std::string& name) {
  auto f = std::make_shared<RmFlags>();
  CLI::App* cmd = cli.command(parent, name, "[OPTIONS] CONTAINER [CONTAINER...]",
                              "Remove one or more containers");
  if (name == "rm") cmd->alias("remove");
  cmd->add_flag("-f,--force", f->force, "Force the removal of a running container (uses SIGKILL)");
  cmd->add_flag("-v,--volumes", f->volumes,
                "Remove anonymous volumes associated with the container");
  cmd->add_flag("-l,--link", f->link, "Remove the specified link");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.arity(cmd, f->args.size(), 1, SIZE_MAX));
    return for_each(
        cli, f->args,
        [&](v1::Containers::Stub& stub, grpc::ClientContext* ctx, const std::string& ref) {
          v1::RemoveContainerRequest req;
          req.set_ref(ref);
          req.set_force(f->force);
          req.set_volumes(f->volumes);
          v1::Empty empty;
          return stub.Remove(ctx, req, &empty);
        });
  });
}

void add_wait(Cli& cli, CLI::App* parent) {
  auto args = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd =
      cli.command(parent, "wait", "CONTAINER [CONTAINER...]",
                  "Block until one or more containers stop, then print their exit codes");
  cmd->add_option("args", *args);
  cli.on_run(cmd, [&cli, cmd, args]() -> Status {
    BERTH_TRY(cli.arity(cmd, args->size(), 1, SIZE_MAX));
    auto& client = cli.client();
    auto stub = v1::Containers::NewStub(client.channel());
    std::string errors;
    for (const auto& ref : *args) {
      v1::WaitContainerRequest req;
      req.set_ref(ref);
      v1::WaitContainerResponse resp;
      grpc::Status st = stub->Wait(client.context().get(), req, &resp);
      if (!st.ok()) {
        errors += (errors.empty() ? "" : "\n") + client.error(st).message();
        continue;
      }
      out(std::to_string(resp.status_code()) + "\n");
    }
    if (!errors.empty()) return make_error(errors);
    return {};
  });
}

struct InspectFlags {
  std::string format, type;
  bool size = false;
  std::vector<std::string> args;
};

void add_inspect(Cli& cli, CLI::App* parent, bool containers_only) {
  auto f = std::make_shared<InspectFlags>();
  CLI::App* cmd =
      cli.command(parent, "inspect",
                  "[OPTIONS] " + std::string(containers_only ? "CONTAINER [CONTAINER...]"
                                                             : "NAME|ID [NAME|ID...]"),
                  containers_only ? "Display detailed information on one or more containers"
                                  : "Return low-level information on Docker objects");
  cmd->add_option("-f,--format", f->format, "Format output using a custom template")
      ->type_name("string");
  cmd->add_flag("-s,--size", f->size, "Display total file sizes");
  if (!containers_only)
    cmd->add_option("--type", f->type, "Return JSON for specified type")->type_name("string");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f, containers_only]() -> Status {
    BERTH_TRY(cli.arity(cmd, f->args.size(), 1, SIZE_MAX));
    auto& client = cli.client();
    auto containers = v1::Containers::NewStub(client.channel());
    auto images = v1::Images::NewStub(client.channel());
    std::vector<json::Value> found;
    std::string errors;
    bool want_containers = containers_only || f->type.empty() || f->type == "container";
    bool want_images = !containers_only && (f->type.empty() || f->type == "image");
    for (const auto& ref : f->args) {
      grpc::Status st;
      std::string text;
      if (want_containers) {
        v1::ContainerRef req;
        req.set_ref(ref);
        v1::InspectContainerResponse resp;
        st = containers->Inspect(client.context().get(), req, &resp);
        text = resp.json();
      }
      if (want_images && (!want_containers || st.error_code() == grpc::StatusCode::NOT_FOUND)) {
        v1::InspectImageRequest req;
        req.set_ref(ref);
        v1::InspectImageResponse resp;
        st = images->Inspect(client.context().get(), req, &resp);
        text = resp.json();
      }
      if (!st.ok()) {
        if (st.error_code() != grpc::StatusCode::NOT_FOUND) return client.error(st);
        errors += (errors.empty() ? "" : "\n") +
                  std::string(containers_only ? "Error: No such container: "
                                              : "Error: No such object: ") +
                  ref;
        continue;
      }
      auto value = json::parse(text, "inspect");
      if (!value) return client_error(value.error().message());
      found.push_back(std::move(*value));
    }
    if (f->format.empty()) {
      out(pretty_json_array(found));
    } else {
      for (const auto& v : found) out(BERTH_VALUE(render_one(f->format, v)));
    }
    if (!errors.empty()) return make_error(errors);
    return {};
  });
}

void add_rename(Cli& cli, CLI::App* parent) {
  auto args = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = cli.command(parent, "rename", "CONTAINER NEW_NAME", "Rename a container");
  cmd->add_option("args", *args);
  cli.on_run(cmd, [&cli, cmd, args]() -> Status {
    BERTH_TRY(cli.exact(cmd, args->size(), 2));
    auto& client = cli.client();
    v1::RenameContainerRequest req;
    req.set_ref((*args)[0]);
    req.set_new_name((*args)[1]);
    v1::Empty empty;
    grpc::Status st =
        v1::Containers::NewStub(client.channel())->Rename(client.context().get(), req, &empty);
    if (!st.ok()) return client.error(st);
    return {};
  });
}

void add_top(Cli& cli, CLI::App* parent) {
  auto args = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = cli.command(parent, "top", "CONTAINER [ps OPTIONS]",
                              "Display the running processes of a container");
  cmd->add_option("args", *args);
  cli.on_run(cmd, [&cli, cmd, args]() -> Status {
    BERTH_TRY(cli.arity(cmd, args->size(), 1, SIZE_MAX));
    auto& client = cli.client();
    v1::TopRequest req;
    req.set_ref((*args)[0]);
    v1::TopResponse resp;
    grpc::Status st =
        v1::Containers::NewStub(client.channel())->Top(client.context().get(), req, &resp);
    if (!st.ok()) return client.error(st);
    std::vector<std::vector<std::string>> table;
    table.emplace_back(resp.titles().begin(), resp.titles().end());
    for (const auto& row : resp.rows()) table.emplace_back(row.cells().begin(), row.cells().end());
    std::vector<size_t> width(table[0].size(), 0);
    for (const auto& row : table)
      for (size_t i = 0; i < row.size() && i < width.size(); ++i)
        width[i] = std::max(width[i], row[i].size());
    for (const auto& row : table) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) {
        line += row[i];
        if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 4, ' ');
      }
      out(line + "\n");
    }
    return {};
  });
}

struct LogsFlags {
  bool follow = false, timestamps = false, details = false;
  std::string tail = "all", since, until;
  std::vector<std::string> args;
};

// docker's --since/--until: RFC 3339, unix seconds, or a duration ("10m").
Result<int64_t> parse_log_time(const std::string& text, int64_t now) {
  if (text.empty()) return int64_t(0);
  char unit = text.back();
  std::string number = text;
  int64_t mult = 0;
  if (unit == 's') mult = 1000000000LL;
  if (unit == 'm') mult = 60LL * 1000000000LL;
  if (unit == 'h') mult = 3600LL * 1000000000LL;
  if (mult) {
    number.pop_back();
    char* end = nullptr;
    double v = std::strtod(number.c_str(), &end);
    if (end && *end == 0 && !number.empty()) return now - int64_t(v * double(mult));
  }
  char* end = nullptr;
  double secs = std::strtod(text.c_str(), &end);
  if (end && *end == 0) return int64_t(secs * 1e9);
  struct tm tm {};
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest) {
    int64_t ns = int64_t(timegm(&tm)) * 1000000000LL;
    if (*rest == '.') {
      ++rest;
      int64_t frac = 0, digits = 0;
      while (*rest >= '0' && *rest <= '9') {
        if (digits < 9) frac = frac * 10 + (*rest - '0'), ++digits;
        ++rest;
      }
      while (digits++ < 9) frac *= 10;
      ns += frac;
    }
    return ns;
  }
  return make_error("invalid value for \"since\": failed to parse value as time or duration: \"" +
                    text + "\"");
}

void add_logs(Cli& cli, CLI::App* parent) {
  auto f = std::make_shared<LogsFlags>();
  CLI::App* cmd =
      cli.command(parent, "logs", "[OPTIONS] CONTAINER", "Fetch the logs of a container");
  cmd->add_flag("-f,--follow", f->follow, "Follow log output");
  cmd->add_flag("-t,--timestamps", f->timestamps, "Show timestamps");
  cmd->add_flag("--details", f->details, "Show extra details provided to logs");
  cmd->add_option("-n,--tail", f->tail,
                  "Number of lines to show from the end of the logs (default \"all\")")
      ->type_name("string");
  cmd->add_option("--since", f->since, "Show logs since timestamp or relative (e.g. 42m)")
      ->type_name("string");
  cmd->add_option("--until", f->until, "Show logs before a timestamp or relative (e.g. 42m)")
      ->type_name("string");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.exact(cmd, f->args.size(), 1));
    int64_t now = now_ns();
    v1::LogsRequest req;
    req.set_ref(f->args[0]);
    req.set_follow(f->follow);
    req.set_tail(f->tail);
    req.set_since_ns(BERTH_VALUE(parse_log_time(f->since, now)));
    req.set_until_ns(BERTH_VALUE(parse_log_time(f->until, now)));
    req.set_stdout(true);
    req.set_stderr(true);
    auto& client = cli.client();
    auto ctx = client.context();
    auto reader = v1::Containers::NewStub(client.channel())->Logs(ctx.get(), req);
    v1::LogChunk chunk;
    while (reader->Read(&chunk)) {
      std::string data = chunk.data();
      if (f->timestamps) {
        struct timespec ts {};
        ts.tv_sec = chunk.time_ns() / 1000000000;
        struct tm tm {};
        gmtime_r(&ts.tv_sec, &tm);
        char buf[64];
        std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ ", tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                      (long long)(chunk.time_ns() % 1000000000));
        data = buf + data;
      }
      (void)write_out(chunk.stream() == 2 ? 2 : 1, data);
    }
    grpc::Status st = reader->Finish();
    if (!st.ok()) return client.error(st);
    return {};
  });
}

void add_prune(Cli& cli, CLI::App* parent) {
  auto force = std::make_shared<bool>(false);
  auto filters = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = cli.command(parent, "prune", "[OPTIONS]", "Remove all stopped containers");
  cmd->add_flag("-f,--force", *force, "Do not prompt for confirmation");
  cmd->add_option("--filter", *filters, "Provide filter values (e.g. 'until=<timestamp>')")
      ->type_name("filter")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  cli.on_run(cmd, [&cli, force, filters]() -> Status {
    if (!*force &&
        !BERTH_VALUE(confirm("WARNING! This will remove all stopped containers.\nAre you sure "
                             "you want to continue?"))) {
      return {};
    }
    v1::PruneContainersRequest req;
    add_filters(req, BERTH_VALUE(parse_filters(*filters)));
    auto& client = cli.client();
    v1::PruneReport report;
    grpc::Status st =
        v1::Containers::NewStub(client.channel())->Prune(client.context().get(), req, &report);
    if (!st.ok()) return client.error(st);
    out(prune_report_text(report, "Containers"));
    return {};
  });
}

struct UpdateFlags {
  std::string memory, cpus, restart;
  int64_t pids_limit = 0;
  bool pids_set = false;
  std::vector<std::string> args;
};

void add_update(Cli& cli, CLI::App* parent) {
  auto f = std::make_shared<UpdateFlags>();
  CLI::App* cmd = cli.command(parent, "update", "[OPTIONS] CONTAINER [CONTAINER...]",
                              "Update configuration of one or more containers");
  cmd->add_option("-m,--memory", f->memory, "Memory limit")->type_name("bytes");
  cmd->add_option("--cpus", f->cpus, "Number of CPUs")->type_name("decimal");
  cmd->add_option("--pids-limit", f->pids_limit, "Tune container pids limit (set -1 for unlimited)")
      ->type_name("int")
      ->each([f](const std::string&) { f->pids_set = true; });
  cmd->add_option("--restart", f->restart, "Restart policy to apply when a container exits")
      ->type_name("string");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.arity(cmd, f->args.size(), 1, SIZE_MAX));
    v1::UpdateContainerRequest base;
    if (!f->memory.empty()) {
      base.set_has_memory(true);
      base.set_memory(BERTH_VALUE(parse_memory(f->memory, "-m, --memory")));
    }
    if (!f->cpus.empty()) {
      base.set_has_nano_cpus(true);
      base.set_nano_cpus(BERTH_VALUE(parse_cpus(f->cpus)));
    }
    if (f->pids_set) {
      base.set_has_pids_limit(true);
      base.set_pids_limit(f->pids_limit);
    }
    if (!f->restart.empty()) {
      auto policy = BERTH_VALUE(parse_restart(f->restart));
      base.set_restart(policy.name);
      base.set_restart_max_retries(policy.max_retries);
    }
    if (!base.has_memory() && !base.has_nano_cpus() && !base.has_pids_limit() &&
        base.restart().empty())
      return make_error("you must provide one or more flags when using this command");
    return for_each(
        cli, f->args,
        [&](v1::Containers::Stub& stub, grpc::ClientContext* ctx, const std::string& ref) {
          v1::UpdateContainerRequest req = base;
          req.set_ref(ref);
          v1::Empty empty;
          return stub.Update(ctx, req, &empty);
        });
  });
}

// go-units BytesSize: binary units, 4 significant digits ("1.953MiB").
std::string bytes_size(double v) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int i = 0;
  while (v >= 1024 && i < 5) {
    v /= 1024;
    ++i;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g%s", v, kUnits[i]);
  return buf;
}

struct StatsFlags {
  bool all = false, no_stream = false, no_trunc = false;
  std::string format;
  std::vector<std::string> args;
};

void add_stats(Cli& cli, CLI::App* parent) {
  auto f = std::make_shared<StatsFlags>();
  CLI::App* cmd = cli.command(parent, "stats", "[OPTIONS] [CONTAINER...]",
                              "Display a live stream of container(s) resource usage statistics");
  cmd->add_flag("-a,--all", f->all, "Show all containers (default shows just running)");
  cmd->add_flag("--no-stream", f->no_stream,
                "Disable streaming stats and only pull the first result");
  cmd->add_flag("--no-trunc", f->no_trunc, "Do not truncate output");
  cmd->add_option("--format", f->format, "Pretty-print images using a Go template")
      ->type_name("string");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, f]() -> Status {
    v1::StatsRequest req;
    for (const auto& a : f->args) req.add_refs(a);
    req.set_stream(!f->no_stream);
    req.set_all(f->all);
    auto& client = cli.client();
    auto ctx = client.context();
    auto reader = v1::Containers::NewStub(client.channel())->Stats(ctx.get(), req);
    v1::StatsResponse resp;
    bool live = !f->no_stream && is_terminal(1);
    while (reader->Read(&resp)) {
      std::vector<json::Value> rows;
      for (const auto& st : resp.stats()) {
        char cpu[32], mem[32];
        std::snprintf(cpu, sizeof cpu, "%.2f%%", st.cpu_percent());
        std::snprintf(mem, sizeof mem, "%.2f%%",
                      st.memory_limit()
                          ? 100.0 * double(st.memory_usage()) / double(st.memory_limit())
                          : 0.0);
        std::string id = f->no_trunc ? st.id() : st.id().substr(0, 12);
        rows.push_back(jobj({{"BlockIO", jstr(human_size(double(st.block_read()), 3) + " / " +
                                              human_size(double(st.block_write()), 3))},
                             {"CPUPerc", jstr(cpu)},
                             {"Container", jstr(id)},
                             {"ID", jstr(id)},
                             {"MemPerc", jstr(mem)},
                             {"MemUsage", jstr(bytes_size(double(st.memory_usage())) + " / " +
                                               bytes_size(double(st.memory_limit())))},
                             {"Name", jstr(st.name())},
                             {"NetIO", jstr("0B / 0B")},
                             {"PIDs", jstr(std::to_string(st.pids()))}}));
      }
      auto text = render_list(f->format,
                              "table "
                              "{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{."
                              "NetIO}}\t{{.BlockIO}}\t{{.PIDs}}",
                              rows,
                              headers({{"Container", "CONTAINER"},
                                       {"ID", "CONTAINER ID"},
                                       {"Name", "NAME"},
                                       {"CPUPerc", "CPU %"},
                                       {"MemUsage", "MEM USAGE / LIMIT"},
                                       {"MemPerc", "MEM %"},
                                       {"NetIO", "NET I/O"},
                                       {"BlockIO", "BLOCK I/O"},
                                       {"PIDs", "PIDS"}}));
      if (!text) return text.error();
      if (live) out("\033[2J\033[H");
      out(*text);
      out_flush();
    }
    grpc::Status st = reader->Finish();
    if (!st.ok()) return client.error(st);
    return {};
  });
}

}  // namespace

Result<std::pair<std::string, bool>> inspect_summary(Cli& cli, const std::string& ref) {
  auto& client = cli.client();
  v1::ContainerRef req;
  req.set_ref(ref);
  v1::InspectContainerResponse resp;
  grpc::Status st =
      v1::Containers::NewStub(client.channel())->Inspect(client.context().get(), req, &resp);
  if (!st.ok()) return client.error(st);
  auto doc = json::parse(resp.json(), "container inspect");
  bool tty = false;
  if (doc) {
    const json::Value* config = doc->get("Config");
    const json::Value* t = config ? config->get("Tty") : nullptr;
    tty = t && t->is_bool() && t->as_bool();
  }
  return std::pair{resp.summary().state(), tty};
}

void add_container_verbs(Cli& cli, CLI::App* parent, bool in_group) {
  add_ps(cli, parent, in_group ? "ls" : "ps");
  add_stop(cli, parent, "stop");
  add_stop(cli, parent, "restart");
  add_kill(cli, parent);
  add_pause(cli, parent, true);
  add_pause(cli, parent, false);
  add_rm(cli, parent, "rm");
  add_wait(cli, parent);
  add_inspect(cli, parent, in_group);
  add_logs(cli, parent);
  add_rename(cli, parent);
  add_top(cli, parent);
  add_update(cli, parent);
  add_stats(cli, parent);
  if (in_group) add_prune(cli, parent);
}

}  // namespace berth::ctl
