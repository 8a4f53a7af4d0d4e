#pragma once
// The shim binary's two actions, run the way containerd 1.6 runs them
// (table at the top of shim/src/launch.h):
//
//   action   command line (cwd = bundle)                          stdin            stdout
//   start    <shim> -namespace NS -address A -publish-binary P    runtime options  unix://<socket>
//            -id ID start                                          Any (bytes)
//   delete   <shim> -namespace NS -address A -publish-binary P    -                DeleteResponse
//            -id ID -bundle B delete                                                (protobuf)
//
// Both get the caller's environment plus TTRPC_ADDRESS (where the shim
// publishes events) and BERTH_SHIM_SOCKET_DIR (where it binds its socket).
// `start` exits once its daemonized server serves; stderr carries the error
// when it fails. Both block the calling thread (never the loop's).

#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/core/tasks.h"

namespace berth::tasks {

struct ShimBinary {
  std::string path;
  std::string daemon_address;  // -address
  std::string publish_binary;  // -publish-binary
  std::string ttrpc_address;   // TTRPC_ADDRESS
  std::string socket_dir;      // BERTH_SHIM_SOCKET_DIR

  // Returns the socket path the server listens on.
  Result<std::string> start(std::string_view ns, std::string_view id, const std::string& bundle,
                            const std::string& options) const;
  // Cleans up after a shim that is gone: the runtime's forced delete, the
  // rootfs unmounted; returns the init's exit as the shim recorded it (137,
  // killed by the forced delete, when it recorded none).
  Result<core::TaskExit> remove(std::string_view ns, std::string_view id,
                                const std::string& bundle) const;
};

}  // namespace berth::tasks
