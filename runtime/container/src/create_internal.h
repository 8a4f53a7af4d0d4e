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
// Kills whatever runs in the container, removes its cgroups and its state
// dir: `delete --force` from the state the caller holds (locked) in memory,
// so nothing depends on re-reading a directory that may be half gone.
Status destroy_locked(StateDir& dir, const StoredState& state);

}  // namespace berth::container
