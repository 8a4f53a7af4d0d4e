#pragma once
// Test bundles for the task runtime: Debian's busybox-static copied into
// rootfs/, a config.json whose cgroups nest under this process's own memory
// cgroup (<own>/berth-tasks-<pid>/<id>, an absolute path every runtime uses
// in every hierarchy), and the probes the tests make of what a shim leaves.

#include <sys/types.h>

#include <string>
#include <vector>

namespace berth::tasks::testing {

struct BundleOptions {
  std::vector<std::string> args = {"sleep", "100"};
  bool pid_namespace = true;
  std::string config_override;  // written as config.json verbatim when set
};

// A temp dir short enough for shim socket paths; removed with its content.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// <root>/<id>/{config.json,rootfs/}; returns the bundle path.
std::string make_bundle(const std::string& root, const std::string& id,
                        const BundleOptions& options = {});

// Processes of the shim serving `id` (its argv names the shim binary and
// the id), zombies excluded.
std::vector<pid_t> shim_pids(const std::string& shim_binary, const std::string& id);
bool process_alive(pid_t pid);
size_t open_fds();
std::string read_text(const std::string& path);

// After a test, whatever it left (a failed one may leave much): kills the
// shims started with `-address` inside `dir` and every process in the test
// cgroups, then removes those cgroups.
void clean_up_after(const std::string& shim_binary, const std::string& dir);

}  // namespace berth::tasks::testing
