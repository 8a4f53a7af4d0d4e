// The process' command, environment and rlimits, as moby's daemon/create.go
// (merge, mergeAndVerifyConfig), container.CreateDaemonEnvironment and
// WithRlimits build them.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "berth/core/errdefs.h"
#include "rules.h"

namespace berth::oci {

namespace {

// system.DefaultPathEnv("linux").
constexpr std::string_view kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string_view env_key(std::string_view kv) { return kv.substr(0, kv.find('=')); }

// go-units' ulimit names; each is RLIMIT_<NAME> in the spec.
constexpr std::array<std::string_view, 15> kUlimitNames = {
    "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue", "nice",
    "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack"};

}  // namespace

Result<std::vector<std::string>> command_of(const core::ContainerConfig& c,
                                            const core::ImageConfig& image) {
  std::vector<std::string> entrypoint, cmd = c.cmd;
  if (c.entrypoint) {
    entrypoint = *c.entrypoint;
  } else {
    entrypoint = image.entrypoint;
    if (cmd.empty()) cmd = image.cmd;
  }
  // `--entrypoint ""` arrives as [""]: docker resets it to nothing.
  if (entrypoint.size() == 1 && entrypoint[0].empty()) entrypoint.clear();
  if (entrypoint.empty() && cmd.empty()) return core::invalid_argument("no command specified");
  entrypoint.insert(entrypoint.end(), cmd.begin(), cmd.end());
  return entrypoint;
}

std::vector<std::string> replace_or_append_env(std::vector<std::string> defaults,
                                               const std::vector<std::string>& overrides) {
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < defaults.size(); ++i) index[std::string(env_key(defaults[i]))] = i;
  std::vector<bool> removed(defaults.size(), false);
  for (const auto& kv : overrides) {
    auto key = std::string(env_key(kv));
    auto it = index.find(key);
    if (kv.find('=') == std::string::npos) {
      if (it != index.end()) removed[it->second] = true;
      continue;
    }
    if (it != index.end()) {
      defaults[it->second] = kv;
      removed[it->second] = false;
    } else {
      index[key] = defaults.size();
      defaults.push_back(kv);
      removed.push_back(false);
    }
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < defaults.size(); ++i)
    if (!removed[i]) out.push_back(std::move(defaults[i]));
  return out;
}

std::vector<std::string> container_env(const core::ContainerConfig& c,
                                       const core::ImageConfig& image, std::string_view hostname,
                                       bool tty) {
  // merge(): the user's entries, then the image's whose key the user did not
  // name (even as a bare "K", which then unsets it below).
  std::vector<std::string> merged = c.env;
  for (const auto& kv : image.env) {
    bool named = std::any_of(c.env.begin(), c.env.end(),
                             [&](const std::string& u) { return env_key(u) == env_key(kv); });
    if (!named) merged.push_back(kv);
  }
  std::vector<std::string> base = {std::string(kDefaultPath), "HOSTNAME=" + std::string(hostname)};
  if (tty) base.emplace_back("TERM=xterm");
  return replace_or_append_env(std::move(base), merged);
}

Result<std::vector<Rlimit>> rlimits_of(const std::vector<core::Ulimit>& ulimits) {
  std::vector<Rlimit> out;
  for (const auto& u : ulimits) {
    if (std::find(kUlimitNames.begin(), kUlimitNames.end(), u.name) == kUlimitNames.end())
      return core::invalid_argument("invalid ulimit type: " + u.name);
    if (u.soft > u.hard)
      return core::invalid_argument("ulimit " + u.name +
                                    ": soft limit must be less than or equal to hard limit: " +
                                    std::to_string(u.soft) + " > " + std::to_string(u.hard));
    std::string type = "RLIMIT_";
    for (char ch : u.name) type += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    // -1 is "unlimited": Go's uint64(-1) is RLIM_INFINITY.
    out.push_back({type, static_cast<uint64_t>(u.soft), static_cast<uint64_t>(u.hard)});
  }
  return out;
}

}  // namespace berth::oci
