#include "progress_stream.h"

#include <unistd.h>

#include "cli.h"
#include "terminal.h"

namespace berth::ctl {

ProgressSink::ProgressSink(StreamOutput how)
    : how_(std::move(how)), printer_(is_terminal(STDOUT_FILENO), terminal_width(STDOUT_FILENO)) {}

void ProgressSink::add(const v1::Progress& p) {
  if (!how_.quiet && (!p.status().empty() || !p.id().empty())) {
    out(printer_.render({p.id(), p.status(), p.current(), p.total()}));
    out_flush();
  }
  if (!p.result().empty()) {
    results_.push_back(p.result());
    if (how_.quiet || how_.result_unless_quiet) {
      out(how_.result_prefix + p.result() + "\n");
      out_flush();
    }
  }
}

}  // namespace berth::ctl
