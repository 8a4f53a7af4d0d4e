#pragma once
// The command tree of berthctl and docker's conventions around it:
//   usage errors   `"berthctl pull" requires exactly 1 argument.` + See/Usage,
//                  exit 1 (docker's cli.ExactArgs and friends)
//   flag errors    "unknown flag: --foo" + "See 'berthctl pull --help'.",
//                  exit 125 (docker's FlagErrorFunc)
//   help           docker's layout: Usage, summary, Aliases, Options/Commands
// Commands only record what to run while CLI11 parses; main runs it after
// the whole command line has been accepted, so nothing happens (and no
// connection is made) for a command line that is wrong.

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "client.h"

namespace berth::ctl {

class Cli {
 public:
  Cli();

  CLI::App& root() { return app_; }
  // A verb: `usage` is what follows its path in "Usage:" ("[OPTIONS] NAME").
  CLI::App* command(CLI::App* parent, const std::string& name, const std::string& usage,
                    const std::string& summary);
  // A group of verbs (`image`, `system`, `content`).
  CLI::App* group(CLI::App* parent, const std::string& name, const std::string& summary);
  // The `image` group, shared by the files that add image verbs.
  CLI::App* image_group();
  // What to run when `cmd` is the command given.
  void on_run(CLI::App* cmd, std::function<Status()> fn);
  // Docker's argument-count errors.
  Status arity(const CLI::App* cmd, size_t given, size_t min, size_t max) const;
  Status exact(const CLI::App* cmd, size_t given, size_t n) const {
    return arity(cmd, given, n, n);
  }

  // The connection, created on first use.
  Client& client();
  std::string path(const CLI::App* cmd) const;  // "berthctl image ls"
  std::string help(const CLI::App* cmd) const;

  // Flags end at the first positional argument (docker's
  // SetInterspersed(false)): `run IMAGE sh -c ...`, `exec C ls -l`.
  // Its positional arguments are then tail(), not CLI11's.
  void stop_flags_at_first_arg(const CLI::App* cmd) { no_interspersed_.push_back(cmd); }
  const std::vector<std::string>& tail() const { return tail_; }
  // The exit status of this run (run and start -a: the container's; on
  // failure 125-127 as docker's). Without it: 0, or 1 on failure.
  void set_exit_status(int status) { exit_status_ = status; }
  // What a failure of `cmd` exits with unless set_exit_status said (125 for
  // run, create and start: the daemon refused).
  void set_error_status(const CLI::App* cmd, int status) { error_status_[cmd] = status; }

  // Parses and runs; returns the exit status.
  int run(int argc, char** argv);
  // Tests: what would go to stderr is appended to `errors` instead.
  void capture_errors(std::string* errors) { errors_ = errors; }

 private:
  void err(const std::string& text);
  // The command whose --help the arguments ask for, or null.
  const CLI::App* help_request(const std::vector<std::string>& args) const;
  std::string* errors_ = nullptr;
  CLI::App app_;
  std::string address_;
  std::string host_;
  std::string namespace_ = "default";
  std::string target_;
  CLI::App* image_ = nullptr;
  std::map<const CLI::App*, std::string> usage_;
  std::function<Status()> action_;
  std::vector<const CLI::App*> no_interspersed_;
  std::optional<int> exit_status_;
  std::map<const CLI::App*, int> error_status_;
  std::vector<std::string> tail_;
  // Moves the arguments from the first positional of a no-interspersed
  // command on into tail_.
  void end_flags(std::vector<std::string>& args);
  std::unique_ptr<Client> client_;
};

// Registration, one function per command group (images.cc, registry.cc, ...).
void add_image_commands(Cli& cli);
void add_registry_commands(Cli& cli);
void add_archive_commands(Cli& cli);
void add_system_commands(Cli& cli);
void add_content_commands(Cli& cli);
void add_container_commands(Cli& cli);
void add_volume_commands(Cli& cli);
// Every group, in the order `berthctl --help` lists them.
void add_all_commands(Cli& cli);
// The whole program: main() calls only this.
int berthctl_main(int argc, char** argv);

// Prints to stdout (progress is flushed as it comes).
void out(const std::string& text);
void out_flush();

// docker's --filter KEY=VALUE, checked on the client as docker does.
Result<std::vector<std::pair<std::string, std::string>>> parse_filters(
    const std::vector<std::string>& flags);
// docker's PromptForConfirmation: "<message> [y/N] ", true on y or Y; an
// error when stdin is not a terminal.
Result<bool> confirm(const std::string& message);

}  // namespace berth::ctl
