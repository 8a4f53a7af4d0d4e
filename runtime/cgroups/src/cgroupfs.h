#pragma once
// Reading and writing cgroup interface files, shared by resources, freezer
// and stats. Private to the cgroups library.
//
// Errors name the file and, for writes, the value:
//   cgroup `/sys/fs/cgroup/pids/x/pids.max`: write "10": Invalid argument

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"

namespace berth::cgroups::fs {

std::string path_of(std::string_view dir, std::string_view file);

// One write(2) of `value`: cgroupfs parses each write on its own, so a value
// must never be split. On a real cgroupfs a missing file is an error (the
// controller is not enabled there); in a plain directory (the unit tests'
// fake cgroupfs) the file is created, so tests can read back what was written.
Status write(std::string_view dir, std::string_view file, std::string_view value);

bool exists(std::string_view dir, std::string_view file);

// The whole file; ENOENT is an error like any other.
Result<std::string> read(std::string_view dir, std::string_view file);
// nullopt when the file does not exist.
Result<std::optional<std::string>> read_optional(std::string_view dir, std::string_view file);

std::string_view trim(std::string_view s);
std::vector<std::string_view> split_lines(std::string_view text);
std::vector<std::string_view> split_fields(std::string_view text);  // on blanks

// A decimal unsigned number, or "max" (UINT64_MAX). `what` names the source.
Result<uint64_t> parse_u64(std::string_view text, std::string_view what);
// A single-number file; nullopt when it does not exist.
Result<std::optional<uint64_t>> read_u64_optional(std::string_view dir, std::string_view file);

// The value of `key` in a "key value" per line file (memory.events,
// cgroup.events, memory.oom_control); nullopt when the key is absent.
Result<std::optional<uint64_t>> keyed_value(std::string_view text, std::string_view key,
                                            std::string_view what);

// Parent directory ("/a/b" -> "/a").
std::string parent_dir(std::string_view dir);

void sleep_ms(long ms);
// CLOCK_MONOTONIC in milliseconds.
int64_t now_ms();

}  // namespace berth::cgroups::fs
