#include "render/progress.h"

#include "render/human.h"

namespace berth::ctl {

std::string progress_bar(int64_t current, int64_t total, int width) {
  if (current <= 0 && total <= 0) return "";
  if (total <= 0) {
    std::string size = human_size(static_cast<double>(current));
    return std::string(size.size() < 8 ? 8 - size.size() : 0, ' ') + size;  // %8v
  }
  int percentage =
      static_cast<int>(static_cast<double>(current) / static_cast<double>(total) * 100) / 2;
  if (percentage > 50) percentage = 50;
  if (percentage < 0) percentage = 0;
  std::string out;
  if (width > 110) {
    out = "[" + std::string(percentage, '=') + ">" + std::string(50 - percentage, ' ') + "] ";
  }
  std::string cur = human_size(static_cast<double>(current));
  std::string padded = std::string(cur.size() < 8 ? 8 - cur.size() : 0, ' ') + cur;
  out += padded;
  // A current beyond the total is a daemon's estimate gone wrong: docker
  // then shows the count alone rather than "5MB/2MB".
  if (current <= total) out += "/" + human_size(static_cast<double>(total));
  return out;
}

std::string ProgressPrinter::render(const ProgressLine& m) {
  if (m.id.empty()) {
    rows_.clear();
    last_status_.clear();
    return m.status + "\n";
  }
  std::string bar = progress_bar(m.current, m.total, width_);
  if (!terminal_) {
    // Byte counts change many times a second: a log gets the states only.
    if (!bar.empty()) return "";
    auto& last = last_status_[m.id];
    if (last == m.status) return "";
    last = m.status;
    return m.id + ": " + m.status + "\n";
  }
  std::string out;
  auto [it, added] = rows_.try_emplace(m.id, rows_.size());
  if (added) out += "\n";
  const size_t up = rows_.size() - it->second;
  // ESC[<n>A up, ESC[2K clear the line, \r to column 0; then back down, so
  // the cursor always rests below the block.
  out += "\x1b[" + std::to_string(up) + "A\x1b[2K\r" + m.id + ": " + m.status;
  if (!bar.empty()) out += " " + bar;
  out += "\r\x1b[" + std::to_string(up) + "B";
  return out;
}

}  // namespace berth::ctl
