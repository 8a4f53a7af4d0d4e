#pragma once
// docker's human-readable numbers, byte for byte as docker's CLI prints them
// (github.com/docker/go-units), so scripts that parse `docker images` output
// keep working on berthctl's.

#include <cstdint>
#include <string>
#include <string_view>

namespace berth::ctl {

// go-units HumanSizeWithPrecision: base 1000, units B kB MB GB TB PB EB ZB YB,
// Go's %.*g (so 999999 with precision 3 is "1e+03kB", as in docker). `docker
// images` and `history` use precision 3, progress bars and `system df` 4.
std::string human_size(double bytes, int precision = 4);

// go-units HumanDuration: "Less than a second", "About a minute",
// "About an hour", "3 days", "2 weeks", ...
std::string human_duration(int64_t nanoseconds);

// docker's CreatedSince: "<HumanDuration> ago" from unix seconds; "N/A" when
// the image has no creation time.
std::string created_since(int64_t unix_seconds, int64_t now_unix_seconds);
// Go's time.Time.String() in the local zone: "2024-05-01 10:00:00 +0000 UTC".
std::string created_at(int64_t unix_seconds);
// RFC 3339 in the local zone ("2024-05-01T10:00:00Z"): `history -H=false`.
std::string rfc3339(int64_t unix_seconds);

// docker's stringid.TruncateID: drops an "algorithm:" prefix, keeps 12 hex.
std::string truncate_id(std::string_view id);
// A string cut to `max` characters with "…" as the last one (docker's
// formatter.Ellipsis, in runes: the text is UTF-8).
std::string ellipsis(std::string_view text, size_t max);

}  // namespace berth::ctl
