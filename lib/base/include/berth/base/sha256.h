#pragma once
// SHA-256 (FIPS 180-4), for naming shim sockets the way containerd 1.6
// does: /run/containerd/s/<hex sha256 of "<address>/<namespace>/<id>">.

#include <string>
#include <string_view>

namespace berth {
std::string sha256_hex(std::string_view data);
}  // namespace berth
