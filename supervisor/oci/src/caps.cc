// Capabilities as moby's oci/caps computes them (TweakCapabilities,
// NormalizeLegacyCapabilities) and oci.SetCapabilities assigns them. "All
// capabilities" are those the daemon itself holds, as moby does since
// v23: on this kind of host root lacks CAP_SYS_RESOURCE, and a spec asking
// for it fails at capset in the runtime.
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <string>

#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "rules.h"

namespace berth::oci {

namespace {

// By number (linux/capability.h), up to CAP_CHECKPOINT_RESTORE (5.9).
constexpr std::array<std::string_view, 41> kCapNames = {"CAP_CHOWN",
                                                        "CAP_DAC_OVERRIDE",
                                                        "CAP_DAC_READ_SEARCH",
                                                        "CAP_FOWNER",
                                                        "CAP_FSETID",
                                                        "CAP_KILL",
                                                        "CAP_SETGID",
                                                        "CAP_SETUID",
                                                        "CAP_SETPCAP",
                                                        "CAP_LINUX_IMMUTABLE",
                                                        "CAP_NET_BIND_SERVICE",
                                                        "CAP_NET_BROADCAST",
                                                        "CAP_NET_ADMIN",
                                                        "CAP_NET_RAW",
                                                        "CAP_IPC_LOCK",
                                                        "CAP_IPC_OWNER",
                                                        "CAP_SYS_MODULE",
                                                        "CAP_SYS_RAWIO",
                                                        "CAP_SYS_CHROOT",
                                                        "CAP_SYS_PTRACE",
                                                        "CAP_SYS_PACCT",
                                                        "CAP_SYS_ADMIN",
                                                        "CAP_SYS_BOOT",
                                                        "CAP_SYS_NICE",
                                                        "CAP_SYS_RESOURCE",
                                                        "CAP_SYS_TIME",
                                                        "CAP_SYS_TTY_CONFIG",
                                                        "CAP_MKNOD",
                                                        "CAP_LEASE",
                                                        "CAP_AUDIT_WRITE",
                                                        "CAP_AUDIT_CONTROL",
                                                        "CAP_SETFCAP",
                                                        "CAP_MAC_OVERRIDE",
                                                        "CAP_MAC_ADMIN",
                                                        "CAP_SYSLOG",
                                                        "CAP_WAKE_ALARM",
                                                        "CAP_BLOCK_SUSPEND",
                                                        "CAP_AUDIT_READ",
                                                        "CAP_PERFMON",
                                                        "CAP_BPF",
                                                        "CAP_CHECKPOINT_RESTORE"};

std::optional<size_t> cap_number(std::string_view name) {
  auto it = std::find(kCapNames.begin(), kCapNames.end(), name);
  if (it == kCapNames.end()) return std::nullopt;
  return static_cast<size_t>(it - kCapNames.begin());
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Upper case, "CAP_" prefixed; "ALL" kept. Unknown names and names this
// daemon does not hold are refused in moby's words.
Result<std::vector<std::string>> normalize(const std::vector<std::string>& caps, uint64_t host) {
  std::vector<std::string> out;
  for (const auto& given : caps) {
    std::string c;
    for (char ch : given) c += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (c == "ALL") {
      out.push_back(c);
      continue;
    }
    if (c.rfind("CAP_", 0) != 0) c = "CAP_" + c;
    auto n = cap_number(c);
    if (!n) return core::invalid_argument("unknown capability: \"" + c + "\"");
    if (!(host & (uint64_t{1} << *n)))
      return core::invalid_argument(
          "capability not supported by your kernel or not available in the current "
          "environment: \"" +
          c + "\"");
    out.push_back(c);
  }
  return out;
}

}  // namespace

const std::vector<std::string>& default_capabilities() {
  // oci/caps/defaults.go, in its order.
  static const std::vector<std::string> caps = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
      "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",    "CAP_AUDIT_WRITE"};
  return caps;
}

std::vector<std::string> capabilities_in(uint64_t mask) {
  std::vector<std::string> out;
  for (size_t i = 0; i < kCapNames.size(); ++i)
    if (mask & (uint64_t{1} << i)) out.emplace_back(kCapNames[i]);
  return out;
}

Result<uint64_t> current_capabilities() {
  auto status = BERTH_VALUE(sys::read_file("/proc/self/status"));
  auto pos = status.find("\nCapEff:");
  if (pos == std::string::npos) return make_error("read `/proc/self/status`: no CapEff line");
  auto hex = status.substr(pos + 8);
  while (!hex.empty() && std::isspace(static_cast<unsigned char>(hex.front()))) hex.erase(0, 1);
  uint64_t mask = 0;
  auto [p, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), mask, 16);
  if (ec != std::errc()) return make_error("read `/proc/self/status`: bad CapEff value");
  return mask;
}

Result<std::vector<std::string>> tweak_capabilities(const std::vector<std::string>& adds,
                                                    const std::vector<std::string>& drops,
                                                    bool privileged, uint64_t host) {
  if (privileged) return capabilities_in(host);
  if (adds.empty() && drops.empty()) return default_capabilities();
  auto cap_drop = BERTH_VALUE(normalize(drops, host));
  auto cap_add = BERTH_VALUE(normalize(adds, host));
  std::vector<std::string> caps;
  if (contains(cap_add, "ALL")) {
    for (auto& c : capabilities_in(host))
      if (!contains(cap_drop, c)) caps.push_back(std::move(c));
  } else if (contains(cap_drop, "ALL")) {
    caps = cap_add;
  } else {
    for (const auto& c : default_capabilities())
      if (!contains(cap_drop, c)) caps.push_back(c);
    caps.insert(caps.end(), cap_add.begin(), cap_add.end());
  }
  return caps;
}

Capabilities capabilities_for(const std::vector<std::string>& caps, uint32_t uid) {
  if (uid == 0) return {caps, caps, caps};
  return {caps, {}, {}};
}

}  // namespace berth::oci
