#pragma once
// OCI platforms (os/architecture[/variant]) as containerd's platforms
// package normalises and matches them: `--platform linux/arm64`, the
// platform of an index's manifests, and the host's default.
//
//   input                normalised
//   amd64, x86_64        linux/amd64
//   linux/aarch64        linux/arm64        (v8, the arm64 default, dropped)
//   linux/arm            linux/arm/v7       (armhf: v7, armel: v6)
//   linux/i386           linux/386
//   Linux/AMD64          linux/amd64

#include <string>
#include <string_view>

#include "berth/base/error.h"

namespace berth::core {

struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;

  std::string str() const;  // "linux/arm/v7"
  bool operator==(const Platform&) const = default;
};

// Errors name the text and what is wrong ("unknown operating system or
// architecture", "too many components").
Result<Platform> parse_platform(std::string_view text);
Platform normalize(Platform p);
// The platform berthd was built for: linux/amd64 here.
Platform host_platform();
// Whether an image for `have` runs where `want` is asked for: same os and
// architecture, and the same variant when `want` names one.
bool platform_matches(const Platform& want, const Platform& have);

}  // namespace berth::core
