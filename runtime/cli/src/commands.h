#pragma once
#include <string>
#include <vector>

#include "berth/container/container.h"

namespace berth::cli {
// Runs the command at argv[index]; returns the process exit code.
int dispatch(const container::Globals& globals, const std::vector<std::string>& argv, size_t index);
}  // namespace berth::cli
