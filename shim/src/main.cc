// berth-shim: the containerd shim v2 of berth. Installed (or linked) as
// containerd-shim-berth-v2 so that `--runtime io.containerd.berth.v2` finds it.
#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "flags.h"
#include "launch.h"

#ifndef BERTH_VERSION
#define BERTH_VERSION "dev"
#endif

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto flags = berth::shim::parse_flags(args);
  if (!flags) {
    std::fprintf(stderr, "%s\n", flags.error().to_string().c_str());
    return 1;
  }
  if (flags->version) {
    std::printf("%s:\n  Version: %s\n  Protocol: ttrpc, containerd.task.v2\n", argv[0], BERTH_VERSION);
    return 0;
  }
  ::signal(SIGPIPE, SIG_IGN);
  if (flags->action == "start") return berth::shim::run_start(*flags);
  if (flags->action == "delete") return berth::shim::run_delete(*flags);
  if (flags->action == "serve") return berth::shim::run_serve(*flags);
  std::fprintf(stderr, "an action is required: start or delete\n");
  return 1;
}
