// create/run flags → core::ContainerConfig (see run_flags.h). Errors are
// docker's: `invalid argument "1x" for "-m, --memory" flag: invalid size: '1x'`.

#include "run_flags.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <thread>

#include "berth/base/sys.h"
#include "client.h"

namespace berth::ctl {

namespace {

Error bad_flag(std::string_view value, std::string_view flag, std::string_view why) {
  return make_error("invalid argument \"" + std::string(value) + "\" for \"" + std::string(flag) +
                    "\" flag: " + std::string(why));
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    out.emplace_back(s.substr(start, at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

Result<int64_t> parse_int(std::string_view text, std::string_view flag) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty())
    return bad_flag(text, flag,
                    "strconv.ParseInt: parsing \"" + std::string(text) + "\": invalid syntax");
  return v;
}

// Lines of an --env-file or --label-file: blank lines and #comments skipped,
// `NAME` alone takes the value from berthctl's environment (dropped when
// unset), whitespace in a name is refused.
Result<std::vector<std::string>> read_kv_file(const std::string& path) {
  auto text = sys::read_file(path, 16 << 20);
  if (!text) return make_error("open " + path + ": no such file or directory");
  std::vector<std::string> out;
  int line_no = 0;
  for (auto line : split(*text, '\n')) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    line.erase(0, first);
    auto eq = line.find('=');
    std::string name = line.substr(0, eq);
    if (name.empty())
      return make_error("invalid environment variable: " + line + " (" + path + " line " +
                        std::to_string(line_no) + ")");
    if (name.find_first_of(" \t") != std::string::npos)
      return make_error("variable '" + name + "' contains whitespaces");
    if (eq != std::string::npos) {
      out.push_back(line);
    } else if (const char* v = std::getenv(name.c_str())) {
      out.push_back(name + "=" + v);
    }
  }
  return out;
}

constexpr std::string_view kPropagations[] = {"shared", "rshared", "slave",
                                              "rslave", "private", "rprivate"};

bool is_propagation(std::string_view s) {
  for (auto p : kPropagations)
    if (p == s) return true;
  return false;
}

// -v SRC:DST[:OPTS] | -v DST
Result<core::MountSpec> parse_volume(const std::string& spec) {
  auto parts = split(spec, ':');
  core::MountSpec m;
  if (parts.size() == 1) {
    m.type = "volume";
    m.target = parts[0];
  } else if (parts.size() <= 3) {
    m.source = parts[0];
    m.target = parts[1];
    m.type = m.source.starts_with("/") ? "bind" : "volume";
    if (m.source.empty())
      return make_error("invalid spec: " + spec + ": empty section between colons");
    if (parts.size() == 3) {
      for (const auto& opt : split(parts[2], ',')) {
        if (opt == "ro") {
          m.read_only = true;
        } else if (opt == "rw" || opt == "z" || opt == "Z" || opt == "nocopy" ||
                   opt == "delegated" || opt == "cached" || opt == "consistent") {
        } else if (is_propagation(opt)) {
          m.propagation = opt;
        } else {
          return make_error("invalid mode: " + opt);
        }
      }
    }
  } else {
    return make_error("invalid spec: " + spec + ": too many colons");
  }
  if (!m.target.starts_with("/"))
    return make_error("invalid mount config: invalid mount path: '" + m.target +
                      "' mount path must be absolute");
  if (m.type == "bind") m.options.push_back("create-host-path");  // -v makes a missing source
  return m;
}

// --mount type=bind,source=/a,target=/b,readonly,bind-propagation=rshared
Result<core::MountSpec> parse_mount(const std::string& spec) {
  core::MountSpec m;
  m.type = "volume";
  for (const auto& field : split(spec, ',')) {
    auto eq = field.find('=');
    std::string key = field.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : field.substr(eq + 1);
    for (auto& ch : key) ch = char(std::tolower(ch));
    if (key == "type") {
      if (value != "bind" && value != "volume" && value != "tmpfs")
        return make_error("invalid argument \"" + spec + "\" for \"--mount\" flag: type '" + value +
                          "' is not valid (bind, volume, tmpfs)");
      m.type = value;
    } else if (key == "source" || key == "src") {
      m.source = value;
    } else if (key == "target" || key == "destination" || key == "dst") {
      m.target = value;
    } else if (key == "readonly" || key == "ro") {
      m.read_only = value.empty() || value == "true" || value == "1";
    } else if (key == "bind-propagation") {
      if (!is_propagation(value)) return make_error("invalid propagation mode: " + value);
      m.propagation = value;
    } else if (key == "tmpfs-size") {
      m.options.push_back("size=" + value);
    } else if (key == "tmpfs-mode") {
      m.options.push_back("mode=" + value);
    } else if (key == "consistency" || key == "volume-nocopy" || key == "bind-nonrecursive") {
    } else {
      return make_error("invalid argument \"" + spec + "\" for \"--mount\" flag: unexpected key '" +
                        key + "' in '" + field + "'");
    }
  }
  if (m.target.empty())
    return make_error("invalid argument \"" + spec + "\" for \"--mount\" flag: target is required");
  if (m.type == "bind" && m.source.empty())
    return make_error("invalid mount config for type \"bind\": field Source must not be empty");
  if (m.type == "tmpfs" && !m.source.empty())
    return make_error(
        "invalid mount config for type \"tmpfs\": field Source must not be specified");
  return m;
}

constexpr std::string_view kUlimits[] = {"core",    "cpu",      "data",   "fsize",      "locks",
                                         "memlock", "msgqueue", "nice",   "nofile",     "nproc",
                                         "rss",     "rtprio",   "rttime", "sigpending", "stack"};

Result<core::Ulimit> parse_ulimit(const std::string& spec) {
  auto eq = spec.find('=');
  if (eq == std::string::npos)
    return bad_flag(spec, "--ulimit", "invalid ulimit argument: " + spec);
  core::Ulimit u;
  u.name = spec.substr(0, eq);
  bool known = false;
  for (auto n : kUlimits) known = known || n == u.name;
  if (!known) return bad_flag(spec, "--ulimit", "invalid ulimit type: " + u.name);
  auto limits = split(spec.substr(eq + 1), ':');
  if (limits.size() > 2)
    return bad_flag(spec, "--ulimit",
                    "too many limit value arguments - " + spec.substr(eq + 1) +
                        ", can only have up to two, `soft[:hard]`");
  u.soft = BERTH_VALUE(parse_int(limits[0], "--ulimit"));
  u.hard = limits.size() == 2 ? BERTH_VALUE(parse_int(limits[1], "--ulimit")) : u.soft;
  if (u.soft > u.hard)
    return bad_flag(spec, "--ulimit",
                    "ulimit soft limit must be less than or equal to hard limit: " +
                        std::to_string(u.soft) + " > " + std::to_string(u.hard));
  return u;
}

Result<core::DeviceMapping> parse_device(const std::string& spec) {
  auto parts = split(spec, ':');
  core::DeviceMapping d;
  d.host_path = parts[0];
  d.container_path = parts.size() > 1 ? parts[1] : parts[0];
  if (parts.size() > 2) d.permissions = parts[2];
  if (parts.size() == 2 && !parts[1].starts_with("/")) {
    d.container_path = parts[0];
    d.permissions = parts[1];
  }
  if (parts.size() > 3 || !d.host_path.starts_with("/") ||
      d.permissions.find_first_not_of("rwm") != std::string::npos)
    return bad_flag(spec, "--device", "bad format for path: " + spec);
  return d;
}

Result<std::string> namespace_mode(const std::string& value, std::string_view flag, bool ipc) {
  if (value.empty() || value == "host" || value.starts_with("container:")) return value;
  if (ipc && (value == "private" || value == "shareable" || value == "none")) return value;
  return make_error("Error response from daemon: invalid " + std::string(flag) + " mode: " + value);
}

}  // namespace

Result<int64_t> parse_memory(std::string_view text, std::string_view flag) {
  auto bad = [&] { return bad_flag(text, flag, "invalid size: '" + std::string(text) + "'"); };
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == 0) return bad();
  double number = std::strtod(std::string(text.substr(0, i)).c_str(), nullptr);
  std::string_view unit = text.substr(i);
  if (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  int64_t mult = 1;
  if (!unit.empty()) {
    switch (std::tolower(static_cast<unsigned char>(unit.front()))) {
      case 'b': mult = 1; break;
      case 'k':
        mult = int64_t(1) << 10;
        unit.remove_prefix(1);
        break;
      case 'm':
        mult = int64_t(1) << 20;
        unit.remove_prefix(1);
        break;
      case 'g':
        mult = int64_t(1) << 30;
        unit.remove_prefix(1);
        break;
      case 't':
        mult = int64_t(1) << 40;
        unit.remove_prefix(1);
        break;
      case 'p':
        mult = int64_t(1) << 50;
        unit.remove_prefix(1);
        break;
      default: return bad();
    }
    if (!unit.empty() && (unit.front() == 'i' || unit.front() == 'I')) unit.remove_prefix(1);
    if (!unit.empty() && (unit.front() == 'b' || unit.front() == 'B')) unit.remove_prefix(1);
    if (!unit.empty()) return bad();
  }
  return int64_t(number * double(mult));
}

Result<core::RestartPolicy> parse_restart(const std::string& spec) {
  auto parts = split(spec, ':');
  if (parts.size() > 2) return make_error("invalid restart policy format");
  core::RestartPolicy p;
  p.name = parts[0].empty() ? "no" : parts[0];
  if (p.name != "no" && p.name != "always" && p.name != "unless-stopped" && p.name != "on-failure")
    return make_error("invalid restart policy format");
  if (parts.size() == 2) {
    if (p.name != "on-failure")
      return make_error("maximum retry count cannot be used with restart policy '" + p.name + "'");
    auto n = parse_int(parts[1], "--restart");
    if (!n || *n < 0) return make_error("maximum retry count must be a positive integer");
    p.max_retries = int(*n);
  }
  return p;
}

Result<int64_t> parse_cpus(std::string_view text) {
  char* end = nullptr;
  std::string s(text);
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v))
    return bad_flag(text, "--cpus", "failed to parse " + s + " as a rational number");
  return int64_t(std::llround(v * 1e9));
}

void add_run_flags(CLI::App* cmd, RunFlags& f, bool is_run) {
  auto str = [&](const char* names, std::string& v, const char* help) {
    cmd->add_option(names, v, help)->type_name("string");
  };
  auto list = [&](const char* names, std::vector<std::string>& v, const char* help) {
    cmd->add_option(names, v, help)
        ->type_name("list")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->allow_extra_args(false);
  };
  if (is_run) {
    cmd->add_flag("-d,--detach", f.detach, "Run container in background and print container ID");
    cmd->add_flag("--sig-proxy", f.sig_proxy,
                  "Proxy received signals to the process (default true)");
    str("--detach-keys", f.detach_keys, "Override the key sequence for detaching a container");
  }
  cmd->add_flag("--rm", f.rm, "Automatically remove the container when it exits");
  cmd->add_flag("-i,--interactive", f.interactive, "Keep STDIN open even if not attached");
  cmd->add_flag("-t,--tty", f.tty, "Allocate a pseudo-TTY");
  cmd->add_flag("--read-only", f.read_only, "Mount the container's root filesystem as read only");
  cmd->add_flag("--privileged", f.privileged, "Give extended privileges to this container");
  cmd->add_flag("--init", f.init,
                "Run an init inside the container that forwards signals and reaps processes");
  str("--name", f.name, "Assign a name to the container");
  str("--restart", f.restart, "Restart policy to apply when a container exits (default \"no\")");
  str("-h,--hostname", f.hostname, "Container host name");
  str("--domainname", f.domainname, "Container NIS domain name");
  str("-w,--workdir", f.workdir, "Working directory inside the container");
  str("-u,--user", f.user, "Username or UID (format: <name|uid>[:<group|gid>])");
  cmd->add_option("--entrypoint", f.entrypoint, "Overwrite the default ENTRYPOINT of the image")
      ->type_name("string")
      ->each([&f](const std::string&) { f.entrypoint_set = true; });
  list("-e,--env", f.env, "Set environment variables");
  list("--env-file", f.env_files, "Read in a file of environment variables");
  list("-v,--volume", f.volumes, "Bind mount a volume");
  list("--mount", f.mounts, "Attach a filesystem mount to the container");
  list("--tmpfs", f.tmpfs, "Mount a tmpfs directory");
  list("-l,--label", f.labels, "Set meta data on a container");
  list("--label-file", f.label_files, "Read in a line delimited file of labels");
  list("--cap-add", f.cap_add, "Add Linux capabilities");
  list("--cap-drop", f.cap_drop, "Drop Linux capabilities");
  list("--security-opt", f.security_opt, "Security Options");
  list("--ulimit", f.ulimits, "Ulimit options");
  list("--device", f.devices, "Add a host device to the container");
  list("--sysctl", f.sysctls, "Sysctl options");
  list("--group-add", f.group_add, "Add additional groups to join");
  list("--log-opt", f.log_opts, "Log driver options");
  str("--log-driver", f.log_driver, "Logging driver for the container");
  str("-m,--memory", f.memory, "Memory limit");
  str("--memory-swap", f.memory_swap,
      "Swap limit equal to memory plus swap: '-1' to enable unlimited swap");
  str("--cpus", f.cpus, "Number of CPUs");
  cmd->add_option("-c,--cpu-shares", f.cpu_shares, "CPU shares (relative weight)")
      ->type_name("int");
  cmd->add_option("--pids-limit", f.pids_limit, "Tune container pids limit (set -1 for unlimited)")
      ->type_name("int");
  str("--shm-size", f.shm_size, "Size of /dev/shm");
  str("--stop-signal", f.stop_signal, "Signal to stop a container (default \"SIGTERM\")");
  cmd->add_option("--stop-timeout", f.stop_timeout, "Timeout (in seconds) to stop a container")
      ->type_name("int")
      ->each([&f](const std::string&) { f.stop_timeout_set = true; });
  str("--network,--net", f.network, "Connect a container to a network (none, host)");
  str("--ipc", f.ipc, "IPC mode to use");
  str("--pid", f.pid, "PID namespace to use");
  str("--uts", f.uts, "UTS namespace to use");
  str("--runtime", f.runtime, "Runtime to use for this container");
  str("--platform", f.platform, "Set platform if server is multi-platform capable");
  str("--pull", f.pull,
      "Pull image before running (\"always\"|\"missing\"|\"never\") (default \"missing\")");
  cmd->add_option("args", f.args);
}

Result<core::ContainerConfig> to_container_config(const RunFlags& f) {
  core::ContainerConfig c;
  c.image = f.args.at(0);
  c.cmd.assign(f.args.begin() + 1, f.args.end());
  if (f.entrypoint_set) {
    c.entrypoint = std::vector<std::string>{};
    if (!f.entrypoint.empty()) c.entrypoint->push_back(f.entrypoint);
  }
  for (const auto& file : f.env_files) {
    auto lines = BERTH_VALUE(read_kv_file(file));
    c.env.insert(c.env.end(), lines.begin(), lines.end());
  }
  for (const auto& e : f.env) {
    if (e.empty() || e.front() == '=') return make_error("invalid environment variable: " + e);
    if (e.find('=') != std::string::npos) {
      c.env.push_back(e);
    } else if (const char* v = std::getenv(e.c_str())) {
      c.env.push_back(e + "=" + v);
    }
  }
  c.working_dir = f.workdir;
  if (!c.working_dir.empty() && !c.working_dir.starts_with("/"))
    return make_error("Error response from daemon: the working directory '" + c.working_dir +
                      "' is invalid, it needs to be an absolute path");
  c.user = f.user;
  c.group_add = f.group_add;
  c.tty = f.tty;
  c.open_stdin = f.interactive;
  c.stop_signal = f.stop_signal;
  if (f.stop_timeout_set) c.stop_timeout = f.stop_timeout;
  c.hostname = f.hostname;
  c.domainname = f.domainname;
  for (const auto& file : f.label_files) {
    for (const auto& kv : BERTH_VALUE(read_kv_file(file))) {
      auto eq = kv.find('=');
      c.labels[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
    }
  }
  for (const auto& l : f.labels) {
    auto eq = l.find('=');
    c.labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
  }
  for (const auto& v : f.volumes) c.mounts.push_back(BERTH_VALUE(parse_volume(v)));
  for (const auto& m : f.mounts) c.mounts.push_back(BERTH_VALUE(parse_mount(m)));
  for (const auto& t : f.tmpfs) {
    auto colon = t.find(':');
    core::MountSpec m{"tmpfs", "", t.substr(0, colon), false, "", {}};
    if (colon != std::string::npos) m.options = split(t.substr(colon + 1), ',');
    if (!m.target.starts_with("/")) return make_error("invalid mount path: '" + m.target + "'");
    c.mounts.push_back(std::move(m));
  }
  std::set<std::string> targets;
  for (const auto& m : c.mounts)
    if (!targets.insert(m.target).second)
      return make_error("Error response from daemon: Duplicate mount point: " + m.target);
  c.read_only = f.read_only;
  c.privileged = f.privileged;
  c.cap_add = f.cap_add;
  c.cap_drop = f.cap_drop;
  for (const auto& opt : f.security_opt) {
    auto eq = opt.find_first_of("=:");
    std::string key = opt.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : opt.substr(eq + 1);
    if (key == "seccomp") {
      if (value == "unconfined") {
        c.seccomp_profile = "unconfined";
      } else {
        auto text = sys::read_file(value, 16 << 20);
        if (!text)
          return make_error("opening seccomp profile (" + value + ") failed: open " + value +
                            ": no such file or directory");
        c.seccomp_profile = *text;
      }
    } else if (key == "no-new-privileges") {
      c.no_new_privileges = value.empty() || value == "true";
    } else if (key == "apparmor" || key == "label") {
      return make_error("Error response from daemon: invalid --security-opt: " + opt +
                        ": this host has no " + (key == "label" ? "SELinux" : "AppArmor"));
    } else {
      return make_error("Error response from daemon: invalid --security-opt 2: \"" + opt + "\"");
    }
  }
  if (!f.memory.empty()) c.resources.memory = BERTH_VALUE(parse_memory(f.memory, "-m, --memory"));
  if (!f.memory_swap.empty())
    c.resources.memory_swap =
        f.memory_swap == "-1" ? -1 : BERTH_VALUE(parse_memory(f.memory_swap, "--memory-swap"));
  if (c.resources.memory_swap > 0 && c.resources.memory == 0)
    return make_error(
        "Error response from daemon: You should always set the Memory limit when using "
        "Memoryswap limit, see usage.");
  if (c.resources.memory_swap > 0 && c.resources.memory_swap < c.resources.memory)
    return make_error(
        "Error response from daemon: Minimum memoryswap limit should be larger than memory "
        "limit, see usage.");
  if (c.resources.memory > 0 && c.resources.memory < (6 << 20))
    return make_error("Error response from daemon: Minimum memory limit allowed is 6MB");
  if (!f.cpus.empty()) {
    c.resources.nano_cpus = BERTH_VALUE(parse_cpus(f.cpus));
    long ncpu = long(std::thread::hardware_concurrency());
    if (c.resources.nano_cpus < 10000000 || c.resources.nano_cpus > ncpu * 1000000000L)
      return make_error("Error response from daemon: Range of CPUs is from 0.01 to " +
                        std::to_string(ncpu) + ".00, as there are only " + std::to_string(ncpu) +
                        " CPUs available");
  }
  c.resources.cpu_shares = f.cpu_shares;
  c.resources.pids_limit = f.pids_limit;
  for (const auto& u : f.ulimits) c.ulimits.push_back(BERTH_VALUE(parse_ulimit(u)));
  for (const auto& d : f.devices) c.devices.push_back(BERTH_VALUE(parse_device(d)));
  c.init = f.init;
  if (!f.shm_size.empty()) {
    c.shm_size = BERTH_VALUE(parse_memory(f.shm_size, "--shm-size"));
    if (c.shm_size <= 0)
      return make_error("Error response from daemon: SHM size can not be less than 0");
  }
  for (const auto& s : f.sysctls) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      return bad_flag(s, "--sysctl", "sysctl '" + s + "' is not whitelisted");
    c.sysctls[s.substr(0, eq)] = s.substr(eq + 1);
  }
  c.ipc_mode = BERTH_VALUE(namespace_mode(f.ipc, "IPC", true));
  c.pid_mode = BERTH_VALUE(namespace_mode(f.pid, "PID", false));
  c.uts_mode = BERTH_VALUE(namespace_mode(f.uts, "UTS", false));
  if (c.uts_mode.starts_with("container:"))
    return make_error("Error response from daemon: invalid UTS mode: " + c.uts_mode);
  c.network_mode = f.network == "default" ? "none" : f.network;
  if (c.network_mode != "none" && c.network_mode != "host")
    return make_error("Error response from daemon: network " + c.network_mode +
                      " not found (networks other than `none` and `host` are not available yet)");
  if (c.network_mode == "host" && !f.hostname.empty())
    return make_error(
        "Error response from daemon: conflicting options: hostname and the network mode");
  c.runtime = f.runtime;
  c.restart = BERTH_VALUE(parse_restart(f.restart));
  c.auto_remove = f.rm;
  if (c.auto_remove && c.restart.name != "no")
    return make_error("Conflicting options: --restart and --rm");
  if (!f.log_driver.empty() && f.log_driver != "json-file")
    return make_error("Error response from daemon: logger: no log driver named '" + f.log_driver +
                      "' is registered (only json-file)");
  for (const auto& o : f.log_opts) {
    auto eq = o.find('=');
    std::string key = o.substr(0, eq);
    if (eq == std::string::npos) return bad_flag(o, "--log-opt", "invalid key value pair format");
    if (key != "max-size" && key != "max-file")
      return make_error("Error response from daemon: unknown log opt '" + key +
                        "' for json-file log driver");
    std::string value = o.substr(eq + 1);
    if (key == "max-size") BERTH_TRY(parse_memory(value, "--log-opt max-size"));
    if (key == "max-file") {
      auto n = parse_int(value, "--log-opt max-file");
      if (!n || *n < 1)
        return make_error("Error response from daemon: max-file cannot be less than 1");
    }
    c.log_options[key] = value;
  }
  return c;
}

}  // namespace berth::ctl
