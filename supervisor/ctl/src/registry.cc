// login, logout, pull / image pull, push / image push.
#include <unistd.h>

#include "berth/core/reference.h"
#include "berth/v1/images.grpc.pb.h"
#include "berth/v1/system.grpc.pb.h"
#include "cli.h"
#include "progress_stream.h"
#include "terminal.h"

namespace berth::ctl {

namespace {

constexpr const char* kDockerHubServer = "https://index.docker.io/v1/";

struct TransferFlags {
  bool all_tags = false, quiet = false;
  std::string platform;
  std::vector<std::string> args;
};

// docker checks the reference before asking the daemon, and names the
// default tag it adds.
Result<core::Reference> check_reference(const std::string& text, bool all_tags, bool quiet) {
  auto ref = core::parse_reference(text, false);
  if (!ref) return client_error(ref.error().message());
  if (all_tags && !ref->tag.empty()) return client_error("tag can't be used with --all-tags/-a");
  if (!all_tags && ref->tag.empty() && ref->digest.empty() && !quiet)
    out("Using default tag: latest\n");
  return std::move(*ref);
}

void add_pull(Cli& cli, CLI::App* parent) {
  auto f = std::make_shared<TransferFlags>();
  CLI::App* cmd = cli.command(parent, "pull", "[OPTIONS] NAME[:TAG|@DIGEST]",
                              "Download an image from a registry");
  cmd->add_flag("-a,--all-tags", f->all_tags, "Download all tagged images in the repository");
  cmd->add_option("--platform", f->platform, "Set platform if server is multi-platform capable")
      ->type_name("string");
  cmd->add_flag("-q,--quiet", f->quiet, "Suppress verbose output");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.exact(cmd, f->args.size(), 1));
    BERTH_TRY(check_reference(f->args[0], f->all_tags, f->quiet));
    v1::PullRequest req;
    req.set_ref(f->args[0]);
    req.set_platform(f->platform);
    req.set_all_tags(f->all_tags);
    auto& client = cli.client();
    auto ctx = client.context();
    auto reader = v1::Images::NewStub(client.channel())->Pull(ctx.get(), req);
    BERTH_TRY(print_progress(client, *reader, {f->quiet, false, "", true}));
    return {};
  });
}

void add_push(Cli& cli, CLI::App* parent) {
  auto f = std::make_shared<TransferFlags>();
  CLI::App* cmd =
      cli.command(parent, "push", "[OPTIONS] NAME[:TAG]", "Upload an image to a registry");
  cmd->add_flag("-a,--all-tags", f->all_tags, "Push all tags of an image to the repository");
  cmd->add_flag("-q,--quiet", f->quiet, "Suppress verbose output");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.exact(cmd, f->args.size(), 1));
    BERTH_TRY(check_reference(f->args[0], f->all_tags, f->quiet));
    v1::PushRequest req;
    req.set_ref(f->args[0]);
    req.set_all_tags(f->all_tags);
    auto& client = cli.client();
    auto ctx = client.context();
    auto reader = v1::Images::NewStub(client.channel())->Push(ctx.get(), req);
    BERTH_TRY(print_progress(client, *reader, {f->quiet, false, "", false}));
    return {};
  });
}

struct LoginFlags {
  std::string username, password;
  bool password_stdin = false;
  std::vector<std::string> args;
};

// The password from --password-stdin: all of stdin, without the trailing
// newline an `echo` adds.
Result<std::string> password_from_stdin() {
  std::string all;
  while (auto line = read_line()) all += (all.empty() ? "" : "\n") + *line;
  while (!all.empty() && (all.back() == '\n' || all.back() == '\r')) all.pop_back();
  return all;
}

void add_login(Cli& cli, CLI::App* parent) {
  auto f = std::make_shared<LoginFlags>();
  CLI::App* cmd = cli.command(
      parent, "login", "[OPTIONS] [SERVER]",
      "Log in to a registry.\nIf no server is specified, the default is defined by the daemon.");
  cmd->add_option("-p,--password", f->password, "Password")->type_name("string");
  cmd->add_flag("--password-stdin", f->password_stdin, "Take the password from stdin");
  cmd->add_option("-u,--username", f->username, "Username")->type_name("string");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.arity(cmd, f->args.size(), 0, 1));
    if (!f->password.empty()) {
      std::fputs("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n",
                 stderr);
    }
    if (f->password_stdin) {
      if (!f->password.empty())
        return client_error("--password and --password-stdin are mutually exclusive");
      if (f->username.empty()) return client_error("Must provide --username with --password-stdin");
      f->password = BERTH_VALUE(password_from_stdin());
    }
    // Prompts only on a terminal: a script gets an error, never a hang.
    const bool tty = is_terminal(STDIN_FILENO);
    if ((f->username.empty() || f->password.empty()) && !tty) {
      return make_error("Error: Cannot perform an interactive login from a non TTY device");
    }
    if (f->username.empty()) {
      out("Username: ");
      out_flush();
      auto line = read_line();
      if (!line || line->empty()) return make_error("Error: Non-null Username Required");
      f->username = *line;
    }
    if (f->password.empty()) {
      f->password = BERTH_VALUE(read_password("Password: "));
      if (f->password.empty()) return make_error("Error: Password Required");
    }
    v1::LoginRequest req;
    if (!f->args.empty()) req.set_server(f->args[0]);
    req.set_username(f->username);
    req.set_password(f->password);
    auto& client = cli.client();
    v1::LoginResponse resp;
    grpc::Status st =
        v1::System::NewStub(client.channel())->Login(client.context().get(), req, &resp);
    if (!st.ok()) return client.error(st);
    out((resp.status().empty() ? std::string("Login Succeeded") : resp.status()) + "\n");
    return {};
  });
}

void add_logout(Cli& cli, CLI::App* parent) {
  auto args = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = cli.command(
      parent, "logout", "[SERVER]",
      "Log out from a registry.\nIf no server is specified, the default is defined by the daemon.");
  cmd->add_option("args", *args);
  cli.on_run(cmd, [&cli, cmd, args]() -> Status {
    BERTH_TRY(cli.arity(cmd, args->size(), 0, 1));
    v1::LogoutRequest req;
    if (!args->empty()) req.set_server((*args)[0]);
    auto& client = cli.client();
    v1::LogoutResponse resp;
    grpc::Status st =
        v1::System::NewStub(client.channel())->Logout(client.context().get(), req, &resp);
    if (!st.ok()) return client.error(st);
    std::string server = args->empty() ? kDockerHubServer : (*args)[0];
    out((resp.status().empty() ? "Removing login credentials for " + server : resp.status()) +
        "\n");
    return {};
  });
}

}  // namespace

void add_registry_commands(Cli& cli) {
  CLI::App* root = &cli.root();
  add_login(cli, root);
  add_logout(cli, root);
  add_pull(cli, root);
  add_pull(cli, cli.image_group());
  add_push(cli, root);
  add_push(cli, cli.image_group());
}

}  // namespace berth::ctl
