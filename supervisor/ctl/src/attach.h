#pragma once
// Attaching berthctl's stdio to a container (run, start -a, attach) or an
// exec: output chunks to stdout/stderr as they come, stdin streamed (raw
// mode and window size with -t), docker's detach keys (ctrl-p ctrl-q), and
// the exit code at the end.

#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>

#include "berth/base/error.h"
#include "berth/v1/containers.grpc.pb.h"
#include "client.h"

namespace berth::ctl {

struct AttachOptions {
  bool stdin = false;
  bool tty = false;
  std::string detach_keys;  // docker's syntax: "ctrl-p,ctrl-q" (default)
};

// The end of an attachment.
struct AttachEnd {
  bool detached = false;  // the user typed the detach keys
  int exit_code = 0;      // when the process exited
  std::string error;      // why it could not start (exit_code 125-127)
};

// `first` is the opening message (AttachRequest or ExecRequest); Stream is
// the bidirectional stream of it.
template <class Request>
using AttachStream = grpc::ClientReaderWriter<Request, berth::v1::AttachResponse>;

Result<AttachEnd> run_attach(Client& client, AttachStream<berth::v1::AttachRequest>& stream,
                             grpc::ClientContext& ctx, berth::v1::AttachRequest first,
                             const AttachOptions& options);
Result<AttachEnd> run_exec_attach(Client& client, AttachStream<berth::v1::ExecRequest>& stream,
                                  grpc::ClientContext& ctx, berth::v1::ExecRequest first,
                                  const AttachOptions& options);

// docker's --detach-keys: "ctrl-p,ctrl-q", "a,ctrl-@".
Result<std::string> parse_detach_keys(std::string_view spec);

}  // namespace berth::ctl
