// One function per command; each parses its flags and calls the library.
#include "commands.h"

#include <fcntl.h>
#include <sys/capability.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <set>
#include <sstream>

#include "args.h"
#include "berth/base/sys.h"
#include "berth/json/json.h"
#include "berth/spec/spec.h"
#include "log.h"
#include "berth/base/signals.h"

namespace berth::cli {

namespace {

using container::Globals;
using Argv = std::vector<std::string>;

int fail(const Error& e) {
  log_error(e.to_string());
  return 1;
}

int fail(std::string message) { return fail(make_error(std::move(message), 0)); }

Result<std::string> one_id(const Args& a, std::string_view command, size_t max_extra = 0) {
  if (a.positional().empty())
    return make_error(std::string(command) + ": a container id is required", 0);
  if (a.positional().size() > 1 + max_extra)
    return make_error(
        std::string(command) + ": unexpected argument `" + a.positional()[1 + max_extra] + "`", 0);
  return a.positional()[0];
}

const std::vector<FlagSpec> kCreateFlags = {
    {"bundle", "b", true},   {"console-socket", "", true},  {"pid-file", "", true},
    {"no-pivot", "", false}, {"no-new-keyring", "", false}, {"preserve-fds", "", true},
    {"detach", "d", false},  {"keep", "", false},
};

Result<container::CreateOptions> create_options(const Args& a, std::string_view command) {
  container::CreateOptions o;
  o.id = BERTH_VALUE(one_id(a, command));
  o.bundle = a.get("bundle", ".");
  o.console_socket = a.get("console-socket");
  o.pid_file = a.get("pid-file");
  if (!o.pid_file.empty() && o.pid_file[0] != '/') {
    char cwd[4096];
    if (sys::getcwd(cwd, sizeof cwd)) o.pid_file = std::string(cwd) + "/" + o.pid_file;
  }
  o.no_pivot = a.has("no-pivot");
  o.no_new_keyring = a.has("no-new-keyring");
  if (a.has("preserve-fds")) {
    std::string v = a.get("preserve-fds");
    char* end = nullptr;
    long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < 0 || n > 65536)
      return make_error("--preserve-fds: not a count: `" + v + "`", 0);
    o.preserve_fds = static_cast<int>(n);
  }
  return o;
}

int cmd_create(const Globals& g, const Argv& argv, size_t i) {
  auto a = Args::parse(argv, i, kCreateFlags, "create");
  if (!a) return fail(a.error());
  auto o = create_options(*a, "create");
  if (!o) return fail(o.error());
  auto st = container::create(g, *o);
  return st ? 0 : fail(st.error());
}

int cmd_run(const Globals& g, const Argv& argv, size_t i) {
  auto a = Args::parse(argv, i, kCreateFlags, "run");
  if (!a) return fail(a.error());
  auto o = create_options(*a, "run");
  if (!o) return fail(o.error());
  auto code = container::run(g, *o, a->has("detach"));
  return code ? *code : fail(code.error());
}

int cmd_start(const Globals& g, const Argv& argv, size_t i) {
  auto a = Args::parse(argv, i, {}, "start");
  if (!a) return fail(a.error());
  auto id = one_id(*a, "start");
  if (!id) return fail(id.error());
  auto st = container::start(g, *id);
  return st ? 0 : fail(st.error());
}

int cmd_state(const Globals& g, const Argv& argv, size_t i) {
  auto a = Args::parse(argv, i, {}, "state");
  if (!a) return fail(a.error());
  auto id = one_id(*a, "state");
  if (!id) return fail(id.error());
  auto st = container::state(g, *id);
  if (!st) return fail(st.error());
  std::printf("%s\n", container::state_json(*st, true).c_str());
  return 0;
}

int cmd_kill(const Globals& g, const Argv& argv, size_t i) {
  auto a = Args::parse(argv, i, {{"all", "a", false}, {"pid", "", true}}, "kill");
  if (!a) return fail(a.error());
  auto id = one_id(*a, "kill", 1);
  if (!id) return fail(id.error());
  int sig = 15;
  if (a->positional().size() > 1) {
    auto parsed = parse_signal(a->positional()[1]);
    if (!parsed) return fail(parsed.error());
    sig = *parsed;
  }
  auto st = container::kill(g, *id, sig, a->has("all"));
  return st ? 0 : fail(st.error());
}

int cmd_delete(const Globals& g, const Argv& argv, size_t i) {
  auto a = Args::parse(argv, i, {{"force", "f", false}}, "delete");
  if (!a) return fail(a.error());
  auto id = one_id(*a, "delete");
  if (!id) return fail(id.error());
  auto st = container::remove(g, *id, a->has("force"));
  return st ? 0 : fail(st.error());
}

int cmd_list(const Globals& g, const Argv& argv, size_t i) {
  auto a = Args::parse(argv, i, {{"quiet", "q", false}, {"format", "f", true}}, "list");
  if (!a) return fail(a.error());
  std::string format = a->get("format", "table");
  if (format != "table" && format != "json")
    return fail("list: --format: must be table or json, got `" + format + "`");
  auto all = container::list(g);
  if (!all) return fail(all.error());
  if (a->has("quiet")) {
    for (const auto& s : *all) std::printf("%s\n", s.id.c_str());
  } else if (format == "json") {
    std::printf("%s\n", container::state_list_json(*all).c_str());
  } else {
    std::printf("%-12s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
                "OWNER");
    for (const auto& s : *all)
      std::printf("%-12s %-8d %-10s %-40s %-30s %s\n", s.id.c_str(), s.pid,
                  std::string(container::status_name(s.status)).c_str(), s.bundle.c_str(),
                  s.created.c_str(), s.owner.c_str());
  }
  return 0;
}

// `ps --format table` runs the system's ps with the given arguments
// (default -ef) and keeps the header plus the container's rows, as runc does.
int ps_table(const std::vector<pid_t>& pids, std::vector<std::string> ps_args) {
  if (ps_args.empty()) ps_args = {"-ef"};
  int pipefd[2];
  if (sys::pipe2(pipefd, O_CLOEXEC) != 0) return fail(sys_error("pipe"));
  pid_t child = sys::fork();
  if (child < 0) return fail(sys_error("fork"));
  if (child == 0) {
    sys::dup2(pipefd[1], 1);
    std::vector<char*> av{const_cast<char*>("ps")};
    for (auto& s : ps_args) av.push_back(s.data());
    av.push_back(nullptr);
    sys::execvp("ps", av.data());
    sys::exit_immediately(127);
  }
  sys::close_fd(pipefd[1]);
  berth::UniqueFd out(pipefd[0]);
  auto text = sys::read_all(out, 64 << 20, "ps output");
  int status = 0;
  sys::waitpid(child, &status, 0);
  if (!text) return fail(text.error());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return fail("ps: `ps` failed (is procps installed?)");
  std::istringstream lines(*text);
  std::string line;
  if (!std::getline(lines, line)) return 0;
  std::printf("%s\n", line.c_str());
  // Locate the PID column from the header.
  std::istringstream header(line);
  std::string word;
  int pid_col = -1;
  for (int col = 0; header >> word; ++col)
    if (word == "PID") pid_col = col;
  if (pid_col < 0) return fail("ps: no PID column in the output of `ps`");
  std::set<pid_t> wanted(pids.begin(), pids.end());
  while (std::getline(lines, line)) {
    std::istringstream row(line);
    for (int col = 0; row >> word; ++col) {
      if (col != pid_col) continue;
      if (wanted.count(static_cast<pid_t>(std::atoi(word.c_str()))))
        std::printf("%s\n", line.c_str());
      break;
    }
  }
  return 0;
}

int cmd_ps(const Globals& g, const Argv& argv, size_t i) {
  auto a = Args::parse(argv, i, {{"format", "f", true}}, "ps");
  if (!a) return fail(a.error());
  if (a->positional().empty()) return fail("ps: a container id is required");
  std::string format = a->get("format", "table");
  if (format != "table" && format != "json")
    return fail("ps: --format: must be table or json, got `" + format + "`");
  auto pids = container::pids(g, a->positional()[0]);
  if (!pids) return fail(pids.error());
  if (format == "json") {
    json::Writer w;
    w.begin_array();
    for (pid_t p : *pids) w.integer(p);
    w.end_array();
    std::printf("%s\n", w.str().c_str());
    return 0;
  }
  return ps_table(*pids,
                  std::vector<std::string>(a->positional().begin() + 1, a->positional().end()));
}

int cmd_spec(const Globals&, const Argv& argv, size_t i) {
  auto a = Args::parse(argv, i, {{"bundle", "b", true}, {"rootless", "", false}}, "spec");
  if (!a) return fail(a.error());
  std::string path = a->get("bundle", ".") + "/config.json";
  if (sys::exists(path)) return fail("spec: `" + path + "` exists: remove it first");
  std::string text = spec::default_spec_json(a->has("rootless"), sys::getuid(), sys::getgid());
  auto fd = sys::open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (!fd) return fail(fd.error());
  auto st = sys::write_all(*fd, text + "\n", path);
  return st ? 0 : fail(st.error());
}

int cmd_features(const Globals&, const Argv&, size_t) {
  json::Writer w(true);
  w.begin_object();
  w.key("ociVersionMin").string("1.0.0");
  w.key("ociVersionMax").string("1.2.0");
  w.key("hooks").begin_array();
  for (const char* h :
       {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"})
    w.string(h);
  w.end_array();
  w.key("mountOptions").begin_array();
  for (const char* o : {"async",    "atime",       "bind",          "defaults",  "dev",
                        "diratime", "dirsync",     "exec",          "lazytime",  "mand",
                        "noatime",  "nodev",       "nodiratime",    "noexec",    "nolazytime",
                        "nomand",   "norelatime",  "nostrictatime", "nosuid",    "nosymfollow",
                        "private",  "rbind",       "rdev",          "rdiratime", "relatime",
                        "remount",  "rexec",       "rnoatime",      "rnodev",    "rnodiratime",
                        "rnoexec",  "rnosuid",     "rnosymfollow",  "ro",        "rprivate",
                        "rro",      "rrw",         "rshared",       "rslave",    "rstrictatime",
                        "rsuid",    "rsymfollow",  "runbindable",   "rw",        "shared",
                        "slave",    "strictatime", "suid",          "sync",      "unbindable"})
    w.string(o);
  w.end_array();
  w.key("linux").begin_object();
  w.key("namespaces").begin_array();
  for (const char* n : {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"})
    w.string(n);
  w.end_array();
  w.key("capabilities").begin_array();
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    char* name = ::cap_to_name(static_cast<cap_value_t>(cap));
    std::string upper = name ? name : "";
    ::cap_free(name);
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper.rfind("CAP_", 0) == 0) w.string(upper);
  }
  w.end_array();
  w.key("cgroup")
      .begin_object()
      .key("v1")
      .boolean(true)
      .key("v2")
      .boolean(true)
      .key("systemd")
      .boolean(false)
      .key("systemdUser")
      .boolean(false)
      .key("rdma")
      .boolean(false)
      .end_object();
  w.key("seccomp").begin_object().key("enabled").boolean(true);
  w.key("actions").begin_array();
  for (const char* a : {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
                        "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
                        "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"})
    w.string(a);
  w.end_array();
  w.key("operators").begin_array();
  for (const char* o : {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
                        "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"})
    w.string(o);
  w.end_array();
  w.key("archs").begin_array();
  for (const char* a :
       {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"})
    w.string(a);
  w.end_array();
  w.key("knownFlags").begin_array();
  for (const char* f : {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                        "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"})
    w.string(f);
  w.end_array();
  w.end_object();
  w.key("apparmor").begin_object().key("enabled").boolean(false).end_object();
  w.key("selinux").begin_object().key("enabled").boolean(false).end_object();
  w.key("intelRdt").begin_object().key("enabled").boolean(false).end_object();
  w.key("mountExtensions")
      .begin_object()
      .key("idmap")
      .begin_object()
      .key("enabled")
      .boolean(false)
      .end_object()
      .end_object();
  w.end_object();
  w.key("annotations")
      .begin_object()
      .key("org.opencontainers.runc.checkpoint.enabled")
      .string("false")
      .key("io.github.berth.version")
      .string(BERTH_VERSION)
      .end_object();
  w.end_object();
  std::printf("%s\n", w.str().c_str());
  return 0;
}

int cmd_exec(const Globals& g, const Argv& argv, size_t i) {
  auto a = Args::parse(argv, i,
                       {{"process", "p", true},
                        {"tty", "t", false},
                        {"console-socket", "", true},
                        {"cwd", "", true},
                        {"env", "e", true},
                        {"user", "u", true},
                        {"additional-gids", "g", true},
                        {"cap", "c", true},
                        {"no-new-privs", "", false},
                        {"apparmor", "", true},
                        {"process-label", "", true},
                        {"detach", "d", false},
                        {"pid-file", "", true},
                        {"preserve-fds", "", true},
                        {"ignore-paused", "", false},
                        {"cgroup", "", true}},
                       "exec");
  if (!a) return fail(a.error());
  if (a->positional().empty()) return fail("exec: a container id is required");
  container::ExecOptions o;
  o.id = a->positional()[0];
  o.args.assign(a->positional().begin() + 1, a->positional().end());
  o.process_file = a->get("process");
  o.tty = a->has("tty");
  o.console_socket = a->get("console-socket");
  o.cwd = a->get("cwd");
  o.env = a->get_all("env");
  o.user = a->get("user");
  for (const auto& gid : a->get_all("additional-gids")) {
    char* end = nullptr;
    unsigned long v = std::strtoul(gid.c_str(), &end, 10);
    if (gid.empty() || *end != '\0' || v > 0xffffffffUL)
      return fail("exec: --additional-gids: not a gid: `" + gid + "`");
    o.additional_gids.push_back(static_cast<uint32_t>(v));
  }
  o.capabilities = a->get_all("cap");
  o.no_new_privs = a->has("no-new-privs");
  o.apparmor = a->get("apparmor");
  if (a->has("process-label")) return fail("exec: --process-label: SELinux is not supported");
  if (a->has("cgroup")) return fail("exec: --cgroup: sub-cgroups are not supported yet");
  o.detach = a->has("detach");
  o.pid_file = a->get("pid-file");
  if (a->has("preserve-fds")) o.preserve_fds = std::atoi(a->get("preserve-fds").c_str());
  auto code = container::exec(g, o);
  return code ? *code : fail(code.error());
}

int cmd_pause_resume(const Globals& g, const Argv& argv, size_t i, bool pause) {
  const char* name = pause ? "pause" : "resume";
  auto a = Args::parse(argv, i, {}, name);
  if (!a) return fail(a.error());
  auto id = one_id(*a, name);
  if (!id) return fail(id.error());
  auto st = pause ? container::pause(g, *id) : container::resume(g, *id);
  return st ? 0 : fail(st.error());
}

// A size as runc's flags take it (docker's RAMInBytes): "-1", "512",
// "96m", "48MB", "1g"; binary multiples, case-insensitive.
std::optional<std::string> parse_ram(const std::string& text) {
  if (text == "-1") return text;
  size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  double value = std::strtod(text.substr(0, i).c_str(), nullptr);
  std::string unit = text.substr(i);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  if (!unit.empty() && unit.back() == 'i') unit.pop_back();  // "MiB"
  static constexpr std::pair<const char*, double> kUnits[] = {
      {"", 1},
      {"k", 1024.0},
      {"m", 1024.0 * 1024},
      {"g", 1024.0 * 1024 * 1024},
      {"t", 1024.0 * 1024 * 1024 * 1024},
      {"p", 1024.0 * 1024 * 1024 * 1024 * 1024}};
  for (const auto& [name, factor] : kUnits)
    if (unit == name) return std::to_string(static_cast<uint64_t>(value * factor));
  return std::nullopt;
}

// runc's individual update flags, as a linux.resources object.
Result<std::string> update_flags_json(const Args& a) {
  auto number = [&](std::string_view flag) -> Result<std::optional<std::string>> {
    if (!a.has(flag)) return std::optional<std::string>();
    std::string v = a.get(flag);
    if (flag.rfind("memory", 0) == 0 || flag.rfind("kernel-memory", 0) == 0) {
      auto bytes = parse_ram(v);
      if (!bytes)
        return make_error("update: --" + std::string(flag) + ": not a size: `" + v + "`", 0);
      return std::optional<std::string>(*bytes);
    }
    size_t i = (!v.empty() && v[0] == '-') ? 1 : 0;
    if (i == v.size())
      return make_error("update: --" + std::string(flag) + ": not a number: `" + v + "`", 0);
    for (; i < v.size(); ++i)
      if (v[i] < '0' || v[i] > '9')
        return make_error("update: --" + std::string(flag) + ": not a number: `" + v + "`", 0);
    return std::optional<std::string>(v);
  };
  json::Writer w;
  w.begin_object();
  auto section = [&](const char* key,
                     std::initializer_list<std::pair<const char*, const char*>> fields) -> Status {
    bool any = false;
    for (const auto& [flag, name] : fields) {
      auto v = BERTH_VALUE(number(flag));
      if (!v) continue;
      if (!any) w.key(key).begin_object();
      any = true;
      w.key(name).value(*json::parse(*v, "flag"));
    }
    if (any) w.end_object();
    return {};
  };
  BERTH_TRY(section("memory", {{"memory", "limit"},
                               {"memory-swap", "swap"},
                               {"memory-reservation", "reservation"},
                               {"kernel-memory", "kernel"},
                               {"kernel-memory-tcp", "kernelTCP"}}));
  BERTH_TRY(section("pids", {{"pids-limit", "limit"}}));
  BERTH_TRY(section("blockIO", {{"blkio-weight", "weight"}}));
  bool cpu = false;
  for (const char* f : {"cpu-share", "cpu-shares", "cpu-period", "cpu-quota", "cpu-rt-period",
                        "cpu-rt-runtime", "cpuset-cpus", "cpuset-mems", "cpu-idle", "cpu-burst"})
    cpu = cpu || a.has(f);
  if (cpu) {
    w.key("cpu").begin_object();
    for (const auto& [flag, name] : {std::pair{"cpu-share", "shares"},
                                     {"cpu-shares", "shares"},
                                     {"cpu-period", "period"},
                                     {"cpu-quota", "quota"},
                                     {"cpu-rt-period", "realtimePeriod"},
                                     {"cpu-rt-runtime", "realtimeRuntime"},
                                     {"cpu-idle", "idle"},
                                     {"cpu-burst", "burst"}}) {
      auto v = BERTH_VALUE(number(flag));
      if (v) w.key(name).value(*json::parse(*v, "flag"));
    }
    if (a.has("cpuset-cpus")) w.key("cpus").string(a.get("cpuset-cpus"));
    if (a.has("cpuset-mems")) w.key("mems").string(a.get("cpuset-mems"));
    w.end_object();
  }
  w.end_object();
  return w.str();
}

int cmd_update(const Globals& g, const Argv& argv, size_t i) {
  std::vector<FlagSpec> flags = {{"resources", "r", true}};
  for (const char* f :
       {"memory", "memory-swap", "memory-reservation", "kernel-memory", "kernel-memory-tcp",
        "pids-limit", "blkio-weight", "cpu-share", "cpu-shares", "cpu-period", "cpu-quota",
        "cpu-rt-period", "cpu-rt-runtime", "cpuset-cpus", "cpuset-mems", "cpu-idle", "cpu-burst",
        "l3-cache-schema", "mem-bw-schema"})
    flags.push_back({f, "", true});
  auto a = Args::parse(argv, i, flags, "update");
  if (!a) return fail(a.error());
  auto id = one_id(*a, "update");
  if (!id) return fail(id.error());
  if (a->has("l3-cache-schema") || a->has("mem-bw-schema"))
    return fail("update: Intel RDT is not supported");
  std::string text;
  std::string field = "--resources";
  if (a->has("resources")) {
    std::string path = a->get("resources");
    auto content = path == "-" ? sys::read_all(BorrowedFd(0), 16 << 20, "stdin")
                               : sys::read_file(path, 16 << 20);
    if (!content) return fail(content.error().wrap("update: --resources"));
    text = *content;
    field = "--resources " + (path == "-" ? std::string("(stdin)") : path);
  } else {
    auto built = update_flags_json(*a);
    if (!built) return fail(built.error());
    text = *built;
    field = "update flags";
  }
  auto st = container::update(g, *id, text, field);
  return st ? 0 : fail(st.error());
}

void print_line(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

int cmd_events(const Globals& g, const Argv& argv, size_t i) {
  auto a = Args::parse(argv, i, {{"stats", "", false}, {"interval", "", true}}, "events");
  if (!a) return fail(a.error());
  auto id = one_id(*a, "events");
  if (!id) return fail(id.error());
  if (a->has("stats")) {
    auto line = container::stats_event(g, *id);
    if (!line) return fail(line.error());
    print_line(*line);
    return 0;
  }
  // --interval takes Go durations as runc does: "5s", "500ms", "1m".
  std::string text = a->get("interval", "5s");
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  std::string unit = end ? end : "";
  double ms = unit == "ms" ? value : unit == "s" ? value * 1000 : unit == "m" ? value * 60000 : -1;
  if (text.empty() || value <= 0 || ms < 1)
    return fail("events: --interval: not a duration: `" + text + "`");
  auto st = container::events(g, *id, static_cast<int>(ms), print_line);
  return st ? 0 : fail(st.error());
}

}  // namespace

int dispatch(const Globals& g, const Argv& argv, size_t i) {
  const std::string& command = argv[i];
  ++i;
  if (command == "create") return cmd_create(g, argv, i);
  if (command == "start") return cmd_start(g, argv, i);
  if (command == "run") return cmd_run(g, argv, i);
  if (command == "state") return cmd_state(g, argv, i);
  if (command == "kill") return cmd_kill(g, argv, i);
  if (command == "delete") return cmd_delete(g, argv, i);
  if (command == "list") return cmd_list(g, argv, i);
  if (command == "exec") return cmd_exec(g, argv, i);
  if (command == "pause") return cmd_pause_resume(g, argv, i, true);
  if (command == "resume") return cmd_pause_resume(g, argv, i, false);
  if (command == "update") return cmd_update(g, argv, i);
  if (command == "events") return cmd_events(g, argv, i);
  if (command == "ps") return cmd_ps(g, argv, i);
  if (command == "spec") return cmd_spec(g, argv, i);
  if (command == "features") return cmd_features(g, argv, i);
  return fail("unknown command `" + command + "` (see berth --help)");
}

}  // namespace berth::cli
