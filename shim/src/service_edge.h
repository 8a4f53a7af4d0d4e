#pragma once
// What the Task service's files share at their ttrpc edge: replies,
// timestamps, and which ttrpc code an Error from below becomes. The layers
// under the service (runtime driver, process state, io, mounts) report
// berth Errors with an errno; only the service speaks ttrpc.
//
//   source of the Error                     errno        ttrpc code
//   find(), ProcessState::begin()           ENOENT       NotFound (containerd: already gone)
//   ProcessState::begin()                   EPERM        FailedPrecondition
//   opening stdio (unsupported URI scheme)  ENOTSUP      Unimplemented
//   runtime commands, files, anything else  any          Unknown (as containerd-shim-runc-v2)

#include <string>

#include "berth/base/error.h"
#include "berth/base/sys.h"
#include "berth/ttrpc/server.h"

namespace google::protobuf {
class MessageLite;
class Timestamp;
}  // namespace google::protobuf

namespace berth::shim {

void reply(const ttrpc::Responder& r, const google::protobuf::MessageLite& m);
void reply_empty(const ttrpc::Responder& r);
void set_time(google::protobuf::Timestamp* t, const sys::WallTime& w);

// A lookup or a state-machine refusal.
ttrpc::RpcStatus refused(const Error& e);
// Opening a process's stdio: an unsupported URI is Unimplemented.
ttrpc::RpcStatus stdio_failed(const std::string& context, const Error& e);
// A failed runtime command: its error as is (it names the runtime and the
// verb), Unknown.
ttrpc::RpcStatus runtime_failed(const Error& e);
// `context: error`, Unknown.
ttrpc::RpcStatus failed(const std::string& context, const Error& e);

// The runtime's answer means the container or process does not exist (any
// more): runc, crun and berth word it differently.
bool looks_gone(const Error& e);

Status write_private_file(const std::string& path, const std::string& data);

}  // namespace berth::shim
