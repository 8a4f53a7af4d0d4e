#pragma once
// OCI hooks: run one hook binary with the container state JSON on stdin.

#include <string_view>

#include "berth/base/error.h"
#include "berth/spec/spec.h"

namespace berth::os {

// Runs hook.path with hook.args (args[0] as argv[0]; path if args is empty)
// and exactly hook.env, the state on stdin, stdout/stderr to ours. Waits for
// it; on timeout kills it (SIGKILL) and fails. A non-zero exit is an error
// naming the hook kind, index and path, with its exit status:
// "createRuntime hook 0 (`/bin/false`): exited with status 1".
Status run_hook(const spec::Hook& hook, std::string_view kind, size_t index,
                std::string_view state_json);
// Runs each hook of a list in order; stops at the first failure.
Status run_hooks(const std::vector<spec::Hook>& hooks, std::string_view kind,
                 std::string_view state_json);

}  // namespace berth::os
