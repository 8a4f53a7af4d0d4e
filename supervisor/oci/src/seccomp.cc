// Seccomp profiles in docker's format to linux.seccomp, as moby's
// profiles/seccomp setupSeccomp does: the rules a profile makes
// conditional on capabilities (of the container's bounding set), on the
// architecture and on the kernel version are kept or dropped here, so the
// runtime gets a plain OCI filter.
#include <algorithm>
#include <array>
#include <cstdio>

#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "rules.h"

namespace berth::oci {

namespace {

#if defined(__x86_64__)
constexpr std::string_view kNativeArch = "amd64";  // libseccomp's name, as profiles use it
constexpr std::string_view kSeccompArch = "SCMP_ARCH_X86_64";
#elif defined(__aarch64__)
constexpr std::string_view kNativeArch = "arm64";
constexpr std::string_view kSeccompArch = "SCMP_ARCH_AARCH64";
#else
#error "add this architecture's libseccomp and SCMP_ARCH names"
#endif

constexpr std::array<std::string_view, 9> kActions = {
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY"};
constexpr std::array<std::string_view, 7> kOps = {"SCMP_CMP_NE",       "SCMP_CMP_LT", "SCMP_CMP_LE",
                                                  "SCMP_CMP_EQ",       "SCMP_CMP_GE", "SCMP_CMP_GT",
                                                  "SCMP_CMP_MASKED_EQ"};

struct KernelVersion {
  unsigned kernel = 0, major = 0;
  bool operator>=(const KernelVersion& o) const {
    return kernel > o.kernel || (kernel == o.kernel && major >= o.major);
  }
};

// "<kernel>.<major>", the rest ignored ("6.1.0-13-amd64", "3.12-rc5").
std::optional<KernelVersion> parse_kernel(std::string_view s) {
  KernelVersion v;
  std::string text(s);
  if (std::sscanf(text.c_str(), "%u.%u", &v.kernel, &v.major) != 2) return std::nullopt;
  return v;
}

Error bad(std::string_view source, const std::string& what) {
  return core::invalid_argument(std::string(source) + ": " + what);
}

Result<std::vector<std::string>> strings_of(const json::Value* v, std::string_view source,
                                            const std::string& field) {
  std::vector<std::string> out;
  if (!v || v->is_null()) return out;
  if (!v->is_array()) return bad(source, field + ": not an array");
  for (const auto& item : v->items()) {
    if (!item.is_string()) return bad(source, field + ": not an array of strings");
    out.push_back(item.as_string());
  }
  return out;
}

Result<std::string> string_of(const json::Value* v, std::string_view source,
                              const std::string& field) {
  if (!v || v->is_null()) return std::string();
  if (!v->is_string()) return bad(source, field + ": not a string");
  return v->as_string();
}

Result<std::optional<uint64_t>> uint_of(const json::Value* v, std::string_view source,
                                        const std::string& field) {
  if (!v || v->is_null()) return std::optional<uint64_t>();
  auto n = v->is_number() ? v->as_u64() : std::nullopt;
  if (!n) return bad(source, field + ": not an unsigned integer");
  return std::optional<uint64_t>(*n);
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// includes/excludes: the rule applies when every condition of includes
// holds and none of excludes' does.
struct Filter {
  std::vector<std::string> caps, arches;
  std::optional<KernelVersion> min_kernel;
};

Result<Filter> filter_of(const json::Value* v, std::string_view source, const std::string& field) {
  Filter f;
  if (!v || v->is_null()) return f;
  if (!v->is_object()) return bad(source, field + ": not an object");
  f.caps = BERTH_VALUE(strings_of(v->get("caps"), source, field + ".caps"));
  f.arches = BERTH_VALUE(strings_of(v->get("arches"), source, field + ".arches"));
  auto min = BERTH_VALUE(string_of(v->get("minKernel"), source, field + ".minKernel"));
  if (!min.empty()) {
    f.min_kernel = parse_kernel(min);
    if (!f.min_kernel || min.find_first_not_of("0123456789.") != std::string::npos ||
        std::count(min.begin(), min.end(), '.') != 1 ||
        (f.min_kernel->kernel == 0 && f.min_kernel->major == 0))
      return bad(source, field + ".minKernel: invalid kernel version \"" + min +
                             "\", expected \"<kernel>.<major>\"");
  }
  return f;
}

}  // namespace

Result<std::optional<Seccomp>> convert_seccomp(std::string_view profile,
                                               const std::vector<std::string>& bounding,
                                               std::string_view kernel_release,
                                               std::string_view source) {
  auto doc = json::parse(profile, source);
  if (!doc.ok())
    return core::invalid_argument("Decoding seccomp profile failed: " + doc.error().to_string());
  if (!doc->is_object()) return bad(source, "not a JSON object");
  Seccomp out;
  out.default_action = BERTH_VALUE(string_of(doc->get("defaultAction"), source, "defaultAction"));
  const json::Value* syscalls = doc->get("syscalls");
  if (syscalls && !syscalls->is_null() && !syscalls->is_array())
    return bad(source, "syscalls: not an array");
  bool no_rules = !syscalls || syscalls->is_null() || syscalls->items().empty();
  // docker: no default action and no rules means no filter at all.
  if (out.default_action.empty() && no_rules) return std::optional<Seccomp>();
  if (!contains({kActions.begin(), kActions.end()}, out.default_action))
    return bad(source, "defaultAction: unknown action \"" + out.default_action + "\"");
  if (auto e = BERTH_VALUE(uint_of(doc->get("defaultErrnoRet"), source, "defaultErrnoRet")))
    out.default_errno_ret = static_cast<uint32_t>(*e);
  out.flags = BERTH_VALUE(strings_of(doc->get("flags"), source, "flags"));

  auto arches = BERTH_VALUE(strings_of(doc->get("architectures"), source, "architectures"));
  const json::Value* arch_map = doc->get("archMap");
  bool has_map = arch_map && arch_map->is_array() && !arch_map->items().empty();
  if (!arches.empty() && has_map)
    return bad(source,
               "'architectures' and 'archMap' were specified in the seccomp profile, use either "
               "'architectures' or 'archMap'");
  out.architectures = arches;
  if (has_map) {
    // Only this host's entry: its architecture and the sub-architectures
    // its processes may use (x86 and x32 on x86_64).
    for (const auto& entry : arch_map->items()) {
      if (!entry.is_object()) return bad(source, "archMap: not an array of objects");
      auto arch = BERTH_VALUE(string_of(entry.get("architecture"), source, "archMap.architecture"));
      if (arch != kSeccompArch) continue;
      out.architectures.push_back(arch);
      auto subs = BERTH_VALUE(
          strings_of(entry.get("subArchitectures"), source, "archMap.subArchitectures"));
      out.architectures.insert(out.architectures.end(), subs.begin(), subs.end());
      break;
    }
  }

  std::optional<KernelVersion> kernel;
  size_t n = 0;
  for (const auto& call : no_rules ? std::vector<json::Value>() : syscalls->items()) {
    std::string field = "syscalls[" + std::to_string(n++) + "]";
    if (!call.is_object()) return bad(source, field + ": not an object");
    auto inc = BERTH_VALUE(filter_of(call.get("includes"), source, field + ".includes"));
    auto exc = BERTH_VALUE(filter_of(call.get("excludes"), source, field + ".excludes"));
    if (inc.min_kernel || exc.min_kernel) {
      if (!kernel) kernel = parse_kernel(kernel_release);
      if (!kernel)
        return make_error("seccomp: cannot parse the kernel release \"" +
                          std::string(kernel_release) + "\"");
    }
    auto any_cap = [&](const Filter& f) {
      return std::any_of(f.caps.begin(), f.caps.end(),
                         [&](const std::string& c) { return contains(bounding, c); });
    };
    auto all_caps = [&](const Filter& f) {
      return std::all_of(f.caps.begin(), f.caps.end(),
                         [&](const std::string& c) { return contains(bounding, c); });
    };
    if (contains(exc.arches, kNativeArch) || any_cap(exc) ||
        (exc.min_kernel && *kernel >= *exc.min_kernel))
      continue;
    if ((!inc.arches.empty() && !contains(inc.arches, kNativeArch)) || !all_caps(inc) ||
        (inc.min_kernel && !(*kernel >= *inc.min_kernel)))
      continue;

    SeccompRule rule;
    rule.action = BERTH_VALUE(string_of(call.get("action"), source, field + ".action"));
    if (!contains({kActions.begin(), kActions.end()}, rule.action))
      return bad(source, field + ".action: unknown action \"" + rule.action + "\"");
    if (auto e = BERTH_VALUE(uint_of(call.get("errnoRet"), source, field + ".errnoRet")))
      rule.errno_ret = static_cast<uint32_t>(*e);
    auto name = BERTH_VALUE(string_of(call.get("name"), source, field + ".name"));
    auto names = BERTH_VALUE(strings_of(call.get("names"), source, field + ".names"));
    if (!name.empty() && !names.empty())
      return bad(source, field +
                             ": 'name' and 'names' were specified in the seccomp profile, use "
                             "either 'name' or 'names'");
    rule.names = name.empty() ? names : std::vector<std::string>{name};
    if (rule.names.empty()) return bad(source, field + ": no syscall names");
    const json::Value* args = call.get("args");
    if (args && !args->is_null()) {
      if (!args->is_array()) return bad(source, field + ".args: not an array");
      for (const auto& a : args->items()) {
        if (!a.is_object()) return bad(source, field + ".args: not an array of objects");
        SeccompArg arg;
        arg.index = static_cast<uint32_t>(
            BERTH_VALUE(uint_of(a.get("index"), source, field + ".args.index")).value_or(0));
        arg.value = BERTH_VALUE(uint_of(a.get("value"), source, field + ".args.value")).value_or(0);
        arg.value_two =
            BERTH_VALUE(uint_of(a.get("valueTwo"), source, field + ".args.valueTwo")).value_or(0);
        arg.op = BERTH_VALUE(string_of(a.get("op"), source, field + ".args.op"));
        if (!contains({kOps.begin(), kOps.end()}, arg.op))
          return bad(source, field + ".args.op: unknown operator \"" + arg.op + "\"");
        if (arg.index > 5) return bad(source, field + ".args.index: must be 0 to 5");
        rule.args.push_back(std::move(arg));
      }
    }
    out.syscalls.push_back(std::move(rule));
  }
  return std::optional<Seccomp>(std::move(out));
}

}  // namespace berth::oci
