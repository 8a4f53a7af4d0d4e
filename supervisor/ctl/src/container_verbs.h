#pragma once
// Container verbs that neither start nor attach (container_verbs.cc), and
// what containers.cc shares with them.

#include <string>
#include <utility>

#include "berth/base/error.h"
#include "cli.h"

namespace berth::ctl {

// ps, stop, restart, kill, pause, unpause, rm, wait, inspect, logs, rename,
// top; `container prune` and `container ls` only in the group.
void add_container_verbs(Cli& cli, CLI::App* parent, bool in_group);
// The container's state ("running") and whether it has a tty.
Result<std::pair<std::string, bool>> inspect_summary(Cli& cli, const std::string& ref);
// docker run's implicit pull of a missing image.
Status pull_image(Cli& cli, const std::string& image, const std::string& platform,
                  bool quiet_status);

}  // namespace berth::ctl
