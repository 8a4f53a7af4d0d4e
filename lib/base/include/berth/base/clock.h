#pragma once
#include <cstdint>
#include <string>

namespace berth {
// Now as RFC 3339 in UTC with nanoseconds ("2026-01-02T03:04:05.123456789Z"),
// the form runc writes in state "created" and in its JSON log lines.
std::string rfc3339_utc_now();
// The same for a time in nanoseconds since the epoch; 0 is Go's zero time
// ("0001-01-01T00:00:00Z"), which docker prints for "never".
std::string rfc3339_utc(int64_t unix_ns);
}  // namespace berth
