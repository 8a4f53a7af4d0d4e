#pragma once
// Reading a stream of berth.v1.Progress (pull, push, load, import) and
// printing it as docker does; a message's `result` is what the operation
// produced (an image name), printed last.

#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/v1/types.pb.h"
#include "client.h"
#include "render/progress.h"

namespace berth::ctl {

struct StreamOutput {
  // Print only the results; with `quiet_keeps_status` also the lines without
  // an id, for load, whose daemon already drops its progress when asked to be
  // quiet and reports "Loaded image: x" as such a line (docker's contract).
  bool quiet = false;
  bool quiet_keeps_status = false;
  std::string result_prefix;  // "Loaded image: " for load; "" prints the result alone
  // docker pull, load and import end with what they made; push names its
  // reference only with -q (its last status line already has the digest).
  bool result_unless_quiet = true;
};

class ProgressSink {
 public:
  // Redraws in place when stdout is a terminal.
  explicit ProgressSink(StreamOutput how);
  void add(const v1::Progress& p);
  std::vector<std::string> take_results() { return std::move(results_); }

 private:
  StreamOutput how_;
  ProgressPrinter printer_;
  std::vector<std::string> results_;
  std::vector<std::string> status_lines_;  // printed without an id
};

// Prints each message until the stream ends; returns the results, or the
// stream's error in docker's words. `Reader` is a grpc::ClientReader or
// ClientReaderWriter of Progress.
template <class Reader>
Result<std::vector<std::string>> print_progress(Client& client, Reader& reader, StreamOutput how) {
  ProgressSink sink(std::move(how));
  v1::Progress p;
  while (reader.Read(&p)) sink.add(p);
  grpc::Status st = reader.Finish();
  if (!st.ok()) return client.error(st);
  return sink.take_results();
}

}  // namespace berth::ctl
