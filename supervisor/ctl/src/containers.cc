// Container verbs that start or attach: create, run, start, attach, exec.
// The rest (ps, stop, rm, inspect, logs, ...) are in container_verbs.cc.

#include <unistd.h>

#include "attach.h"
#include "berth/core/container.h"
#include "berth/core/reference.h"
#include "berth/v1/containers.grpc.pb.h"
#include "berth/v1/images.grpc.pb.h"
#include "cli.h"
#include "container_verbs.h"
#include "progress_stream.h"
#include "run_flags.h"
#include "terminal.h"

namespace berth::ctl {

namespace v1 = berth::v1;

namespace {

// docker run's codes for a container that could not be started.
int start_failure_status(const std::string& message) {
  if (message.find("executable file not found") != std::string::npos ||
      message.find("no such file or directory") != std::string::npos ||
      message.find("No such file or directory") != std::string::npos)
    return 127;
  if (message.find("ermission denied") != std::string::npos ||
      message.find("not an executable file") != std::string::npos)
    return 126;
  return 125;
}

// Creates the container; pulls the image first when it is missing (docker
// run/create: "Unable to find image 'x' locally" on stderr, then the pull).
Result<std::string> create_container(Cli& cli, const RunFlags& f) {
  auto config = BERTH_VALUE(to_container_config(f));
  auto& client = cli.client();
  auto stub = v1::Containers::NewStub(client.channel());
  v1::CreateContainerRequest req;
  req.set_name(f.name);
  req.set_config_json(core::to_json(config));
  auto create = [&]() -> std::pair<grpc::Status, v1::CreateContainerResponse> {
    v1::CreateContainerResponse resp;
    grpc::Status st = stub->Create(client.context().get(), req, &resp);
    return {st, resp};
  };
  if (f.pull == "always") BERTH_TRY(pull_image(cli, config.image, f.platform, false));
  auto [st, resp] = create();
  if (st.error_code() == grpc::StatusCode::NOT_FOUND &&
      st.error_message().starts_with("No such image") && f.pull != "never") {
    auto ref = core::parse_reference(config.image, false);
    std::string shown = ref ? ref->familiar() : config.image;
    if (ref && ref->tag.empty() && ref->digest.empty()) shown += ":latest";
    std::fprintf(stderr, "Unable to find image '%s' locally\n", shown.c_str());
    BERTH_TRY(pull_image(cli, config.image, f.platform, true));
    std::tie(st, resp) = create();
  }
  if (!st.ok()) return client.error(st);
  return resp.id();
}

void add_create(Cli& cli, CLI::App* parent) {
  auto f = std::make_shared<RunFlags>();
  CLI::App* cmd =
      cli.command(parent, "create", "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container");
  cmd->set_help_flag("--help", "Print usage");
  add_run_flags(cmd, *f, false);
  cli.stop_flags_at_first_arg(cmd);
  cli.set_error_status(cmd, 125);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    f->args = cli.tail();
    BERTH_TRY(cli.arity(cmd, f->args.size(), 1, SIZE_MAX));
    auto id = BERTH_VALUE(create_container(cli, *f));
    out(id + "\n");
    return {};
  });
}

Result<AttachEnd> attach_and_start(Cli& cli, const std::string& id, bool start, bool stdin,
                                   bool tty, const std::string& detach_keys) {
  auto& client = cli.client();
  auto ctx = client.context();
  auto stream = v1::Containers::NewStub(client.channel())->Attach(ctx.get());
  v1::AttachRequest first;
  first.set_ref(id);
  first.set_stdin(stdin);
  first.set_stdout(true);
  first.set_stderr(true);
  first.set_start(start);
  return run_attach(client, *stream, *ctx, std::move(first), {stdin, tty, detach_keys});
}

void add_run(Cli& cli, CLI::App* parent) {
  auto f = std::make_shared<RunFlags>();
  CLI::App* cmd = cli.command(parent, "run", "[OPTIONS] IMAGE [COMMAND] [ARG...]",
                              "Run a command in a new container");
  cmd->set_help_flag("--help", "Print usage");
  add_run_flags(cmd, *f, true);
  cli.stop_flags_at_first_arg(cmd);
  cli.set_error_status(cmd, 125);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    f->args = cli.tail();
    BERTH_TRY(cli.arity(cmd, f->args.size(), 1, SIZE_MAX));
    // docker's check: only an attached stdin must be a terminal (`-dit`
    // from a script is fine).
    if (f->tty && f->interactive && !f->detach && !is_terminal(STDIN_FILENO))
      return make_error("the input device is not a TTY");
    auto id = BERTH_VALUE(create_container(cli, *f));
    auto& client = cli.client();
    if (f->detach) {
      v1::ContainerRef ref;
      ref.set_ref(id);
      v1::Empty empty;
      grpc::Status st =
          v1::Containers::NewStub(client.channel())->Start(client.context().get(), ref, &empty);
      if (!st.ok()) {
        cli.set_exit_status(start_failure_status(st.error_message()));
        return client.error(st);
      }
      out(id + "\n");
      return {};
    }
    auto end = attach_and_start(cli, id, true, f->interactive, f->tty, f->detach_keys);
    if (!end) {
      cli.set_exit_status(start_failure_status(end.error().message()));
      return end.error();
    }
    if (end->detached) return {};
    if (!end->error.empty()) {
      cli.set_exit_status(end->exit_code);
      return make_error("Error response from daemon: " + end->error);
    }
    cli.set_exit_status(end->exit_code);
    return {};
  });
}

struct StartFlags {
  bool attach = false, interactive = false;
  std::string detach_keys;
  std::vector<std::string> args;
};

void add_start(Cli& cli, CLI::App* parent) {
  auto f = std::make_shared<StartFlags>();
  CLI::App* cmd = cli.command(parent, "start", "[OPTIONS] CONTAINER [CONTAINER...]",
                              "Start one or more stopped containers");
  cmd->add_flag("-a,--attach", f->attach, "Attach STDOUT/STDERR and forward signals");
  cmd->add_flag("-i,--interactive", f->interactive, "Attach container's STDIN");
  cmd->add_option("--detach-keys", f->detach_keys,
                  "Override the key sequence for detaching a container")
      ->type_name("string");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.arity(cmd, f->args.size(), 1, SIZE_MAX));
    auto& client = cli.client();
    if (f->attach || f->interactive) {
      if (f->args.size() > 1)
        return make_error("you cannot start and attach multiple containers at once");
      auto info = BERTH_VALUE(inspect_summary(cli, f->args[0]));
      auto end =
          attach_and_start(cli, f->args[0], true, f->interactive, info.second, f->detach_keys);
      if (!end) return end.error();
      if (!end->detached) cli.set_exit_status(end->exit_code);
      if (!end->error.empty()) return make_error("Error response from daemon: " + end->error);
      return {};
    }
    auto stub = v1::Containers::NewStub(client.channel());
    std::string errors;
    for (const auto& ref : f->args) {
      v1::ContainerRef req;
      req.set_ref(ref);
      v1::Empty empty;
      grpc::Status st = stub->Start(client.context().get(), req, &empty);
      if (!st.ok()) {
        errors += (errors.empty() ? "" : "\n") + client.error(st).message();
        continue;
      }
      out(ref + "\n");
    }
    if (!errors.empty())
      return make_error(errors + "\nError: failed to start containers: " + f->args.front());
    return {};
  });
}

struct AttachFlags {
  bool no_stdin = false, sig_proxy = true;
  std::string detach_keys;
  std::vector<std::string> args;
};

void add_attach(Cli& cli, CLI::App* parent) {
  auto f = std::make_shared<AttachFlags>();
  CLI::App* cmd = cli.command(parent, "attach", "[OPTIONS] CONTAINER",
                              "Attach local standard input, output, and error streams to a "
                              "running container");
  cmd->add_flag("--no-stdin", f->no_stdin, "Do not attach STDIN");
  cmd->add_flag("--sig-proxy", f->sig_proxy, "Proxy all received signals to the process");
  cmd->add_option("--detach-keys", f->detach_keys,
                  "Override the key sequence for detaching a container")
      ->type_name("string");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.exact(cmd, f->args.size(), 1));
    auto info = BERTH_VALUE(inspect_summary(cli, f->args[0]));
    if (info.first != "running")
      return make_error("You cannot attach to a stopped container, start it first");
    auto end = attach_and_start(cli, f->args[0], false, !f->no_stdin, info.second, f->detach_keys);
    if (!end) return end.error();
    if (!end->detached) cli.set_exit_status(end->exit_code);
    return {};
  });
}

struct ExecFlags {
  bool interactive = false, tty = false, detach = false, privileged = false;
  std::vector<std::string> env;
  std::string user, workdir, detach_keys;
  std::vector<std::string> args;
};

void add_exec(Cli& cli, CLI::App* parent) {
  auto f = std::make_shared<ExecFlags>();
  CLI::App* cmd = cli.command(parent, "exec", "[OPTIONS] CONTAINER COMMAND [ARG...]",
                              "Run a command in a running container");
  cmd->add_flag("-i,--interactive", f->interactive, "Keep STDIN open even if not attached");
  cmd->add_flag("-t,--tty", f->tty, "Allocate a pseudo-TTY");
  cmd->add_flag("-d,--detach", f->detach, "Detached mode: run command in the background");
  cmd->add_flag("--privileged", f->privileged, "Give extended privileges to the command");
  cmd->add_option("-e,--env", f->env, "Set environment variables")
      ->type_name("list")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  cmd->add_option("-u,--user", f->user, "Username or UID (format: <name|uid>[:<group|gid>])")
      ->type_name("string");
  cmd->add_option("-w,--workdir", f->workdir, "Working directory inside the container")
      ->type_name("string");
  cmd->add_option("--detach-keys", f->detach_keys, "Override the key sequence for detaching")
      ->type_name("string");
  cmd->add_option("args", f->args);
  cli.stop_flags_at_first_arg(cmd);
  cli.set_error_status(cmd, 126);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    f->args = cli.tail();
    BERTH_TRY(cli.arity(cmd, f->args.size(), 2, SIZE_MAX));
    if (f->tty && f->interactive && !is_terminal(STDIN_FILENO))
      return make_error("the input device is not a TTY");
    auto& client = cli.client();
    auto ctx = client.context();
    auto stream = v1::Containers::NewStub(client.channel())->Exec(ctx.get());
    v1::ExecRequest first;
    first.set_ref(f->args[0]);
    for (size_t i = 1; i < f->args.size(); ++i) first.add_cmd(f->args[i]);
    for (const auto& e : f->env) first.add_env(e);
    first.set_user(f->user);
    first.set_working_dir(f->workdir);
    first.set_tty(f->tty);
    first.set_stdin(f->interactive);
    first.set_privileged(f->privileged);
    first.set_detach(f->detach);
    auto end = run_exec_attach(client, *stream, *ctx, std::move(first),
                               {f->interactive && !f->detach, f->tty, f->detach_keys});
    if (!end) {
      cli.set_exit_status(start_failure_status(end.error().message()) == 125
                              ? 126
                              : start_failure_status(end.error().message()));
      return end.error();
    }
    if (!end->error.empty()) {
      cli.set_exit_status(end->exit_code);
      return make_error("OCI runtime exec failed: " + end->error);
    }
    cli.set_exit_status(end->exit_code);
    return {};
  });
}

}  // namespace

Status pull_image(Cli& cli, const std::string& image, const std::string& platform,
                  bool quiet_status) {
  auto& client = cli.client();
  auto ctx = client.context();
  v1::PullRequest req;
  req.set_ref(image);
  req.set_platform(platform);
  auto reader = v1::Images::NewStub(client.channel())->Pull(ctx.get(), req);
  // docker prints the pull's progress on stderr when it runs for `run`.
  (void)quiet_status;
  v1::Progress p;
  while (reader->Read(&p)) {
    if (!p.id().empty()) continue;
    if (!p.status().empty()) std::fprintf(stderr, "%s\n", p.status().c_str());
  }
  grpc::Status st = reader->Finish();
  if (!st.ok()) return client.error(st);
  return {};
}

void add_container_commands(Cli& cli) {
  CLI::App* root = &cli.root();
  CLI::App* group = cli.group(root, "container", "Manage containers");
  for (CLI::App* parent : {root, group}) {
    add_create(cli, parent);
    add_run(cli, parent);
    add_start(cli, parent);
    add_attach(cli, parent);
    add_exec(cli, parent);
    add_container_verbs(cli, parent, parent == group);
  }
}

}  // namespace berth::ctl
