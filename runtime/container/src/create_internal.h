#pragma once
// Shared by create, start and run: a created container with its state dir
// still locked, so `run` can start it without a window for another command.

#include "berth/container/container.h"
#include "berth/spec/spec.h"
#include "state_store.h"

namespace berth::container {

struct CreatedContainer {
  StateDir dir;
  StoredState state;
  spec::Spec spec;
  UniqueFd console_master;  // with relay_console: the pty master `run` relays
};

Result<CreatedContainer> create_container(const Globals& globals, const CreateOptions& options);
// Starts a created container whose state dir the caller holds locked.
Status start_locked(const StateDir& dir, const StoredState& state, const spec::Spec& spec);

}  // namespace berth::container
