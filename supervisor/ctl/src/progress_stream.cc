#include "progress_stream.h"

#include <unistd.h>

#include <algorithm>

#include "cli.h"
#include "terminal.h"

namespace berth::ctl {

ProgressSink::ProgressSink(StreamOutput how)
    : how_(std::move(how)), printer_(is_terminal(STDOUT_FILENO), terminal_width(STDOUT_FILENO)) {}

void ProgressSink::add(const v1::Progress& p) {
  const bool shown = !how_.quiet || (how_.quiet_keeps_status && p.id().empty());
  if (shown && (!p.status().empty() || !p.id().empty())) {
    out(printer_.render({p.id(), p.status(), p.current(), p.total()}));
    out_flush();
    if (p.id().empty()) status_lines_.push_back(p.status());
  }
  if (!p.result().empty()) {
    results_.push_back(p.result());
    // A daemon may say "Loaded image: x" and also set x as the result.
    std::string line = how_.result_prefix + p.result();
    bool said = std::find(status_lines_.begin(), status_lines_.end(), line) != status_lines_.end();
    if (!said && (how_.quiet || how_.result_unless_quiet)) {
      out(how_.result_prefix + p.result() + "\n");
      out_flush();
    }
  }
}

}  // namespace berth::ctl
