#pragma once
// Logging at the CLI edge, in runc's formats: containerd-shim-runc-v2 reads
// the last "error" line of --log (with --log-format json) to tell its
// caller why a runtime command failed.

#include <string>
#include <string_view>

namespace berth::cli {

enum class LogFormat { kText, kJson };

void log_setup(const std::string& path, LogFormat format, bool debug);
void log_error(std::string_view message);
void log_warning(std::string_view message);
void log_debug(std::string_view message);

}  // namespace berth::cli
