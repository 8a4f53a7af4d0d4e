#pragma once
#include <string>

namespace berth {
// Now as RFC 3339 in UTC with nanoseconds ("2026-01-02T03:04:05.123456789Z"),
// the form runc writes in state "created" and in its JSON log lines.
std::string rfc3339_utc_now();
}  // namespace berth
