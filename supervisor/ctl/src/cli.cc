#include "cli.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "terminal.h"

namespace berth::ctl {

namespace {

// The deepest command CLI11 selected.
const CLI::App* selected(const CLI::App& root) {
  const CLI::App* cmd = &root;
  while (!cmd->get_subcommands().empty()) cmd = cmd->get_subcommands().front();
  return cmd;
}

std::string plural(size_t n) { return n == 1 ? "argument" : "arguments"; }

// pflag's shapes: "unknown flag: --foo", "unknown shorthand flag: 'x' in -x".
std::string unknown_flag(const std::string& arg) {
  if (arg.starts_with("--")) return "unknown flag: " + arg.substr(0, arg.find('='));
  return "unknown shorthand flag: '" + arg.substr(1, 1) + "' in " + arg;
}

// pflag accepts -H=false and -o=FILE; CLI11 reads "-H=false" as the flag H
// with the value "=false". history's -H is a boolean flag (docker's
// documented `-H=false`), elsewhere -X=value is -X value.
std::vector<std::string> normalise_args(int argc, char** argv) {
  std::vector<std::string> args;
  bool history = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "history") history = true;
    if (a.size() > 3 && a[0] == '-' && a[1] != '-' && a[2] == '=') {
      if (history && a[1] == 'H') {
        args.push_back("--human=" + a.substr(3));
      } else {
        args.push_back(a.substr(0, 2));
        args.push_back(a.substr(3));
      }
      continue;
    }
    args.push_back(std::move(a));
  }
  return args;
}

}  // namespace

void out(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }
void out_flush() { std::fflush(stdout); }

Result<std::vector<std::pair<std::string, std::string>>> parse_filters(
    const std::vector<std::string>& flags) {
  std::vector<std::pair<std::string, std::string>> filters;
  for (const auto& f : flags) {
    auto eq = f.find('=');
    if (eq == std::string::npos || eq == 0)
      return make_error("bad format of filter (expected name=value)");
    filters.emplace_back(f.substr(0, eq), f.substr(eq + 1));
  }
  return filters;
}

Result<bool> confirm(const std::string& message) {
  // Scripts must never hang on a question nobody sees: without a terminal
  // there is no prompt, and the answer has to come from -f.
  if (!is_terminal(STDIN_FILENO)) {
    return client_error("confirmation required but stdin is not a terminal: use -f/--force");
  }
  out(message + " [y/N] ");
  out_flush();
  auto answer = read_line();
  return answer && (*answer == "y" || *answer == "Y");
}

Cli::Cli() : app_("A self-sufficient runtime for containers", "berthctl") {
  app_.set_help_flag("-h,--help", "Print usage");
  app_.allow_extras();
  app_.require_subcommand(0, 1);
  // pflag: a flag given twice keeps its last value (subcommands inherit this).
  app_.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app_.add_option("--address", address_, "Daemon socket to connect to")
      ->envname("BERTH_ADDRESS")
      ->type_name("string");
  app_.add_option("-H,--host", host_, "Daemon socket to connect to (unix://PATH)")
      ->type_name("string");
  app_.add_option("--namespace", namespace_, "Namespace of the images and content")
      ->envname("BERTH_NAMESPACE")
      ->type_name("string");
  usage_[&app_] = "[OPTIONS] COMMAND";
}

CLI::App* Cli::command(CLI::App* parent, const std::string& name, const std::string& usage,
                       const std::string& summary) {
  CLI::App* cmd = parent->add_subcommand(name, summary);
  cmd->set_help_flag("-h,--help", "Print usage");
  cmd->allow_extras();
  cmd->fallthrough();
  usage_[cmd] = usage;
  return cmd;
}

CLI::App* Cli::group(CLI::App* parent, const std::string& name, const std::string& summary) {
  CLI::App* cmd = command(parent, name, "COMMAND", summary);
  cmd->require_subcommand(0, 1);
  return cmd;
}

CLI::App* Cli::image_group() {
  if (image_ == nullptr) image_ = group(&app_, "image", "Manage images");
  return image_;
}

void Cli::on_run(CLI::App* cmd, std::function<Status()> fn) {
  cmd->callback([this, fn = std::move(fn)] { action_ = fn; });
}

std::string Cli::path(const CLI::App* cmd) const {
  std::string p;
  for (const CLI::App* c = cmd; c != nullptr; c = c->get_parent()) {
    p = p.empty() ? c->get_name() : c->get_name() + " " + p;
  }
  return p;
}

Status Cli::arity(const CLI::App* cmd, size_t given, size_t min, size_t max) const {
  if (given >= min && given <= max) return {};
  std::string quoted = "\"" + path(cmd) + "\"";
  std::string what;
  if (max == 0) {
    what = quoted + " accepts no arguments.";
  } else if (min == max) {
    what = quoted + " requires exactly " + std::to_string(min) + " " + plural(min) + ".";
  } else if (max == SIZE_MAX) {
    what = quoted + " requires at least " + std::to_string(min) + " " + plural(min) + ".";
  } else if (min == 0) {
    what = quoted + " requires at most " + std::to_string(max) + " " + plural(max) + ".";
  } else {
    what = quoted + " requires at least " + std::to_string(min) + " and at most " +
           std::to_string(max) + " " + plural(max) + ".";
  }
  auto it = usage_.find(cmd);
  return make_error(what + "\nSee '" + path(cmd) + " --help'.\n\nUsage:  " + path(cmd) + " " +
                    (it == usage_.end() ? "" : it->second) + "\n\n" + cmd->get_description());
}

std::string Cli::help(const CLI::App* cmd) const {
  auto it = usage_.find(cmd);
  std::string text = "\nUsage:  " + path(cmd) + " " + (it == usage_.end() ? "" : it->second) +
                     "\n\n" + cmd->get_description() + "\n";
  if (!cmd->get_aliases().empty()) {
    text += "\nAliases:\n  " + path(cmd);
    std::string parent = cmd->get_parent() ? path(cmd->get_parent()) + " " : "";
    for (const auto& a : cmd->get_aliases()) text += ", " + parent + a;
    text += "\n";
  }
  auto subs = cmd->get_subcommands([](const CLI::App*) { return true; });
  if (!subs.empty()) {
    size_t width = 0;
    for (const CLI::App* s : subs) width = std::max(width, s->get_name().size());
    text += "\nCommands:\n";
    for (const CLI::App* s : subs) {
      std::string summary = s->get_description();
      text += "  " + s->get_name() + std::string(width + 3 - s->get_name().size(), ' ') +
              summary.substr(0, summary.find('\n')) + "\n";
    }
  }
  std::vector<std::pair<std::string, std::string>> rows;
  for (const CLI::Option* o : cmd->get_options()) {
    // docker lists neither positionals nor its --help flag.
    if (o->get_positional() || o->get_name() == "--help" ||
        o->get_lnames() == std::vector<std::string>{"help"}) {
      continue;
    }
    std::string flags;
    auto shorts = o->get_snames();
    auto longs = o->get_lnames();
    flags = shorts.empty() ? "    " : "-" + shorts.front() + ", ";
    if (!longs.empty()) flags += "--" + longs.front();
    if (o->get_expected_min() > 0) {
      std::string type = o->get_type_name();
      flags += " " + (type == "TEXT" ? std::string("string") : type);
    }
    rows.emplace_back(flags, o->get_description());
  }
  if (!rows.empty()) {
    size_t width = 0;
    for (const auto& [f, d] : rows) width = std::max(width, f.size());
    text += cmd == &app_ ? "\nGlobal Options:\n" : "\nOptions:\n";
    for (const auto& [f, d] : rows)
      text += "  " + f + std::string(width + 3 - f.size(), ' ') + d + "\n";
  }
  if (!subs.empty())
    text += "\nRun '" + path(cmd) + " COMMAND --help' for more information on a command.\n";
  return text;
}

Client& Cli::client() {
  // run() resolved the address before any command ran.
  if (!client_) client_ = std::make_unique<Client>(target_, namespace_);
  return *client_;
}

void Cli::err(const std::string& text) {
  if (errors_ != nullptr) {
    *errors_ += text;
  } else {
    std::fwrite(text.data(), 1, text.size(), stderr);
  }
}

const CLI::App* Cli::help_request(const std::vector<std::string>& args) const {
  const CLI::App* cmd = &app_;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") return nullptr;
    // -h is --help except where it is a flag of its own (run -h HOSTNAME).
    if (a == "--help" ||
        (a == "-h" && cmd->get_help_ptr() != nullptr && cmd->get_help_ptr()->check_sname("h")))
      return cmd;
    if (a.starts_with("-")) {
      // The value of `--format images` is no command name.
      for (const CLI::App* c = cmd; c != nullptr; c = c->get_parent()) {
        const CLI::Option* o = c->get_option_no_throw(a);
        if (o != nullptr) {
          if (o->get_expected_min() > 0) ++i;
          break;
        }
      }
      continue;
    }
    for (const CLI::App* sub : cmd->get_subcommands([](const CLI::App*) { return true; })) {
      if (sub->check_name(a)) {
        cmd = sub;
        break;
      }
    }
  }
  return nullptr;
}

void Cli::end_flags(std::vector<std::string>& args) {
  const CLI::App* cmd = &app_;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      if (std::find(no_interspersed_.begin(), no_interspersed_.end(), cmd) !=
          no_interspersed_.end()) {
        tail_.assign(args.begin() + long(i) + 1, args.end());
        args.resize(i);
      }
      return;
    }
    if (a.starts_with("-") && a != "-") {
      if (a.find('=') != std::string::npos) continue;
      // A cluster of short flags (-it) takes a value only through its last.
      std::string name = a.starts_with("--") ? a : "-" + a.substr(a.size() - 1);
      for (const CLI::App* c = cmd; c != nullptr; c = c->get_parent()) {
        const CLI::Option* o = c->get_option_no_throw(name);
        if (o != nullptr) {
          if (o->get_expected_min() > 0) ++i;
          break;
        }
      }
      continue;
    }
    if (std::find(no_interspersed_.begin(), no_interspersed_.end(), cmd) !=
        no_interspersed_.end()) {
      tail_.assign(args.begin() + long(i), args.end());
      args.resize(i);
      return;
    }
    bool sub_found = false;
    for (const CLI::App* sub : cmd->get_subcommands([](const CLI::App*) { return true; })) {
      if (sub->check_name(a)) {
        cmd = sub;
        sub_found = true;
        break;
      }
    }
    if (!sub_found) return;
  }
}

int Cli::run(int argc, char** argv) {
  std::vector<std::string> args = normalise_args(argc, argv);
  end_flags(args);
  // --help is answered before CLI11 parses: its answer is an exception, and
  // the first C++ throw of a process costs ~10 ms in a static binary (the
  // unwinder sorts every FDE of the 60 MB of gRPC it carries).
  if (const CLI::App* cmd = help_request(args)) {
    out(help(cmd));
    return 0;
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes them reversed
  try {
    app_.parse(args);
  } catch (const CLI::CallForHelp&) {
    out(help(selected(app_)));
    return 0;
  } catch (const CLI::ParseError& e) {
    const CLI::App* cmd = selected(app_);
    err(std::string(e.what()) + "\nSee '" + path(cmd) + " --help'.\n");
    return 125;
  }
  const CLI::App* cmd = selected(app_);
  for (const std::string& extra : app_.remaining(true)) {
    if (extra.starts_with("-") && extra != "-") {
      err(unknown_flag(extra) + "\nSee '" + path(cmd) + " --help'.\n");
      return 125;
    }
    std::string verb =
        cmd == &app_ ? extra : path(cmd).substr(app_.get_name().size() + 1) + " " + extra;
    err("berthctl: '" + verb + "' is not a berthctl command.\nSee 'berthctl --help'\n");
    return 1;
  }
  if (!action_) {
    // A group or the bare program: docker prints the usage.
    out(help(cmd));
    return 0;
  }
  auto target = resolve_address(address_, host_);
  if (!target) {
    err(target.error().message() + "\n");
    return 1;
  }
  target_ = *target;
  Status st = action_();
  out_flush();
  if (!st) {
    err(st.error().message() + "\n");
    if (exit_status_) return *exit_status_;
    auto it = error_status_.find(cmd);
    return it != error_status_.end() ? it->second : 1;
  }
  return exit_status_.value_or(0);
}

void add_all_commands(Cli& cli) {
  add_image_commands(cli);
  add_registry_commands(cli);
  add_archive_commands(cli);
  add_system_commands(cli);
  add_content_commands(cli);
  add_container_commands(cli);
  add_volume_commands(cli);
}

int berthctl_main(int argc, char** argv) {
  // attach's window-size thread sigwait()s for SIGWINCH: blocked here,
  // before gRPC starts its threads, so every thread inherits the mask. A
  // thread that did not block it would take the signal and drop it (its
  // default action), and `-t` containers would never see a resize.
  sigset_t winch;
  sigemptyset(&winch);
  sigaddset(&winch, SIGWINCH);
  pthread_sigmask(SIG_BLOCK, &winch, nullptr);
  Cli cli;
  add_all_commands(cli);
  return cli.run(argc, argv);
}

}  // namespace berth::ctl
