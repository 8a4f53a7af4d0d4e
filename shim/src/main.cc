// berth-shim: the containerd shim v2 of berth. Installed (or linked) as
// containerd-shim-berth-v2 so that `--runtime io.containerd.berth.v2` finds it.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "berth/base/sys.h"
#include "flags.h"
#include "launch.h"

#ifndef BERTH_VERSION
#define BERTH_VERSION "dev"
#endif

// The shim throws no exceptions, so std::terminate means a bug. libstdc++'s
// default handler names the exception type through the C++ demangler: 44 KiB
// of text that every shim would map (its text is its resident memory, see
// CMakeLists.txt). This one says less and aborts all the same.
namespace __gnu_cxx {
void __verbose_terminate_handler() {
  static const char msg[] = "berth-shim: terminate called (an uncaught exception)\n";
  (void)!berth::sys::write(STDERR_FILENO, msg, sizeof msg - 1);
  std::abort();
}
}  // namespace __gnu_cxx

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto flags = berth::shim::parse_flags(args);
  if (!flags) {
    std::fprintf(stderr, "%s\n", flags.error().to_string().c_str());
    return 1;
  }
  if (flags->version) {
    std::printf("%s:\n  Version: %s\n  Protocol: ttrpc, containerd.task.v2\n", argv[0],
                BERTH_VERSION);
    return 0;
  }
  berth::sys::signal(SIGPIPE, SIG_IGN);
  if (flags->action == "start") return berth::shim::run_start(*flags);
  if (flags->action == "delete") return berth::shim::run_delete(*flags);
  if (flags->action == "serve") return berth::shim::run_serve(*flags);
  std::fprintf(stderr, "an action is required: start or delete\n");
  return 1;
}
