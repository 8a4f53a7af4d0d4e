#pragma once
// Command line of a containerd shim v2 (Go `flag` syntax, as containerd 1.6
// invokes it):
//
//   containerd-shim-berth-v2 -namespace NS -address GRPC_SOCK
//       -publish-binary /usr/bin/containerd [-debug] -id ID [-bundle DIR]
//       start | delete
//
// Flags take "-name value", "-name=value" or "--name ..."; booleans
// "-debug" or "-debug=true". Parsing stops at the first non-flag word, the
// action. `-v` prints the version. `-socket PATH` (berth's own) serves in
// the foreground on PATH with the action `serve`, for berthd and tests.

#include <string>
#include <vector>

#include "berth/base/error.h"

namespace berth::shim {

struct ShimFlags {
  std::string ns;
  std::string address;
  std::string publish_binary;
  std::string id;
  std::string bundle;
  std::string socket;
  bool debug = false;
  bool version = false;
  std::string action;  // "start", "delete", "serve" or empty
};

Result<ShimFlags> parse_flags(const std::vector<std::string>& args);

}  // namespace berth::shim
