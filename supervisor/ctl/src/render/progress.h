#pragma once
// The progress of pull, push, load and import as docker's CLI shows it
// (pkg/jsonmessage):
//   terminal   one line per item (layer), redrawn in place with ANSI cursor
//              movement: "<id>: Downloading [=====>    ]  1.2MB/2.2MB"; the
//              bar only when the terminal is wider than 110 columns
//   plain      one line per state change of an item ("<id>: Pull complete");
//              byte counts are dropped, as docker does when not on a terminal
// Lines without an id ("Digest: ...", "Status: ...") end the current block:
// later items start a fresh block below them (pull -a, one block per tag).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace berth::ctl {

struct ProgressLine {
  std::string id;
  std::string status;
  int64_t current = 0;
  int64_t total = 0;
};

// JSONProgress.String(): the bar and the byte counts, "" when there is
// neither a current nor a total.
std::string progress_bar(int64_t current, int64_t total, int terminal_width);

class ProgressPrinter {
 public:
  ProgressPrinter(bool terminal, int width) : terminal_(terminal), width_(width) {}
  // The text to write for one message.
  std::string render(const ProgressLine& line);

 private:
  bool terminal_;
  int width_;
  std::map<std::string, size_t> rows_;              // id -> row in the current block
  std::map<std::string, std::string> last_status_;  // plain mode: id -> last printed
};

}  // namespace berth::ctl
