#pragma once
// docker's `create`/`run` flags (docker/cli's container/opts.go) and their
// parsing into berth's container config (core/container.h), with docker's
// error messages for bad values: memory units, cpus, env files, volume and
// mount specs, ulimits, devices, restart policies, security options.

#include <CLI/CLI.hpp>

#include <map>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/core/container.h"

namespace berth::ctl {

struct RunFlags {
  bool interactive = false, tty = false, detach = false, rm = false;
  bool read_only = false, privileged = false, init = false;
  std::string name, restart = "no", hostname, domainname, workdir, user, entrypoint;
  bool entrypoint_set = false;
  std::vector<std::string> env, env_files, volumes, mounts, tmpfs, labels, label_files;
  std::vector<std::string> cap_add, cap_drop, security_opt, ulimits, devices, sysctls, group_add;
  std::vector<std::string> log_opts;
  std::string memory, memory_swap, cpus, shm_size, stop_signal, network = "none";
  std::string ipc, pid, uts, runtime, log_driver, platform, pull = "missing";
  int64_t cpu_shares = 0, pids_limit = 0;
  int stop_timeout = 0;
  bool stop_timeout_set = false;
  std::string detach_keys;
  bool sig_proxy = true;
  std::vector<std::string> args;  // IMAGE [COMMAND] [ARG...]
};

// Registers the flags on `cmd` (run adds -d, --rm and attach options).
void add_run_flags(CLI::App* cmd, RunFlags& f, bool is_run);

// go-units RAMInBytes: "64m", "1g", "512k", "100" (bytes), binary units.
Result<int64_t> parse_memory(std::string_view text, std::string_view flag);
// --restart: no | always | unless-stopped | on-failure[:N].
Result<core::RestartPolicy> parse_restart(const std::string& spec);
// "1.5" → 1500000000 nano CPUs.
Result<int64_t> parse_cpus(std::string_view text);

// The flags (after CLI11) and the environment (for `-e NAME` without a
// value) → the config berthd takes.
Result<core::ContainerConfig> to_container_config(const RunFlags& f);

}  // namespace berth::ctl
