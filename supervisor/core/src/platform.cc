#include "berth/core/platform.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

namespace berth::core {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

constexpr std::array kOperatingSystems = {"linux",   "windows", "darwin",  "freebsd", "netbsd",
                                          "openbsd", "solaris", "illumos", "aix",     "dragonfly",
                                          "android", "plan9",   "js",      "ios",     "wasip1"};
constexpr std::array kArchitectures = {"amd64",  "386",      "arm",     "arm64", "ppc64le",
                                       "ppc64",  "s390x",    "riscv64", "mips",  "mipsle",
                                       "mips64", "mips64le", "loong64", "wasm"};

bool known_os(std::string_view os) {
  return std::find(kOperatingSystems.begin(), kOperatingSystems.end(), os) !=
         kOperatingSystems.end();
}
bool known_arch(const std::string& arch) {
  return std::find(kArchitectures.begin(), kArchitectures.end(), arch) != kArchitectures.end() ||
         arch == "x86_64" || arch == "x86-64" || arch == "aarch64" || arch == "armhf" ||
         arch == "armel" || arch == "i386";
}

}  // namespace

std::string Platform::str() const {
  std::string out = os + "/" + architecture;
  if (!variant.empty()) out += "/" + variant;
  return out;
}

Platform normalize(Platform p) {
  p.os = lower(p.os);
  if (p.os == "macos") p.os = "darwin";
  p.architecture = lower(p.architecture);
  p.variant = lower(p.variant);
  const std::string& a = p.architecture;
  if (a == "x86_64" || a == "x86-64" || a == "amd64") {
    p.architecture = "amd64";
    if (p.variant == "v1") p.variant.clear();
  } else if (a == "aarch64" || a == "arm64") {
    p.architecture = "arm64";
    if (p.variant == "8" || p.variant == "v8" || p.variant == "v8.0") p.variant.clear();
  } else if (a == "armhf") {
    p.architecture = "arm";
    p.variant = "v7";
  } else if (a == "armel") {
    p.architecture = "arm";
    p.variant = "v6";
  } else if (a == "arm") {
    if (p.variant.empty() || p.variant == "7")
      p.variant = "v7";
    else if (p.variant == "5" || p.variant == "6" || p.variant == "8")
      p.variant = "v" + p.variant;
  } else if (a == "i386") {
    p.architecture = "386";
    p.variant.clear();
  }
  return p;
}

Result<Platform> parse_platform(std::string_view text) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t slash = text.find('/', start);
    parts.emplace_back(
        text.substr(start, slash == std::string_view::npos ? text.npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  auto bad = [&](std::string_view why) {
    return make_error("invalid platform `" + std::string(text) + "`: " + std::string(why));
  };
  for (const auto& p : parts)
    if (p.empty()) return bad("empty component");
  if (parts.size() > 3) return bad("too many components (os/architecture/variant)");
  Platform p;
  if (parts.size() == 1) {
    // One word: an os (with the host's architecture) or an architecture
    // (on linux), as containerd reads it.
    std::string w = lower(parts[0]);
    if (known_os(w) || w == "macos") {
      p = host_platform();
      p.os = w;
    } else if (known_arch(w)) {
      p.os = "linux";
      p.architecture = w;
    } else {
      return bad("unknown operating system or architecture");
    }
    return normalize(p);
  }
  p.os = lower(parts[0]);
  p.architecture = lower(parts[1]);
  if (parts.size() == 3) p.variant = parts[2];
  if (!known_os(p.os) && p.os != "macos") return bad("unknown operating system `" + p.os + "`");
  if (!known_arch(p.architecture)) return bad("unknown architecture `" + p.architecture + "`");
  return normalize(p);
}

Platform host_platform() {
  // The architecture this binary was built for, as Go's runtime.GOARCH is
  // what containerd uses: an amd64 berthd pulls amd64 images.
#if defined(__x86_64__)
  return {"linux", "amd64", ""};
#elif defined(__aarch64__)
  return {"linux", "arm64", ""};
#elif defined(__arm__)
  return {"linux", "arm", "v7"};
#elif defined(__i386__)
  return {"linux", "386", ""};
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return {"linux", "ppc64le", ""};
#elif defined(__s390x__)
  return {"linux", "s390x", ""};
#elif defined(__riscv) && __riscv_xlen == 64
  return {"linux", "riscv64", ""};
#else
#error "unknown architecture: add it to host_platform()"
#endif
}

bool platform_matches(const Platform& want, const Platform& have) {
  Platform w = normalize(want), h = normalize(have);
  if (w.os != h.os || w.architecture != h.architecture) return false;
  return w.variant.empty() || w.variant == h.variant;
}

}  // namespace berth::core
