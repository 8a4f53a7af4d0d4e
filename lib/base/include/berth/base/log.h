#pragma once
// Shim logging: one logrus-style text line per message, the format
// containerd's own logs use, written to the bundle's `log` FIFO (containerd
// copies it to its stderr) or to stderr. Never blocks the loop: the target
// is non-blocking and a line that does not fit is dropped.

#include <string>
#include <string_view>

namespace berth::shim_log {

enum class Level { kDebug, kInfo, kWarn, kError };

// Takes ownership of fd (-1: stderr). Fields such as `namespace=default
// id=c1` are appended to every line.
void init(int fd, bool debug, std::string fields);
void write(Level level, std::string_view message);

inline void debug(std::string_view m) { write(Level::kDebug, m); }
inline void info(std::string_view m) { write(Level::kInfo, m); }
inline void warn(std::string_view m) { write(Level::kWarn, m); }
inline void error(std::string_view m) { write(Level::kError, m); }

}  // namespace berth::shim_log
