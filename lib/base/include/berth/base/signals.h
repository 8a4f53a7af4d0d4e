#pragma once
#include <string_view>

#include "berth/base/error.h"

namespace berth {
// Signal names as runc and docker take them: "KILL", "SIGKILL", "sigkill", "9", "RTMIN+3" → signal
// number.
Result<int> parse_signal(std::string_view text);
}  // namespace berth
