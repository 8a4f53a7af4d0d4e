// berth-logger: see berth/logs/logger.h for its protocol.
#include <cstdio>
#include <string>
#include <vector>

#include "berth/logs/logger.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto options = berth::logs::parse_logger_args(args);
  berth::Status st = options ? berth::logs::run_logger(*options) : berth::Status(options.error());
  if (!st) {
    fprintf(stderr, "berth-logger: %s\n", st.error().to_string().c_str());
    return 1;
  }
  return 0;
}
