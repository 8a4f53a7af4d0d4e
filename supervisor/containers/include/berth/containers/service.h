#pragma once
// The container service: docker's container verbs over the core interfaces
// (container records, snapshots, tasks, events), handed the rest as hooks
// that berthd's wiring list fills (image lookup, spec generation, rootfs
// mounts). The gRPC edge (supervisor/services) is thin over it.
//
// A container on disk:
//   <root>/containers/<id>/      hostname, hosts, resolv.conf, <id>-json.log
//                                (kept while the record exists)
//   <state>/containers/<ns>/<id>/  the bundle while a task exists: config.json,
//                                rootfs/ (the snapshot's mounts), init-stdin
//                                (FIFO), address (the shim's)
//
// Life cycle and who writes the record:
//   create   snapshot prepared, files written, record written last (so a
//            failed create leaves nothing; a killed daemon at worst an
//            unreferenced snapshot, removed at the next start of berthd)
//   start    bundle + rootfs mount + config.json, task create + start; on
//            failure everything is undone and State.Error/ExitCode recorded
//   exit     (tasks' exit handler, on the service's worker thread) task
//            removed, rootfs unmounted, bundle removed, state exited; then
//            the restart policy (docker's: 100 ms doubling, reset after 10 s
//            up) or --rm
//   stop     stop signal, SIGKILL after the timeout; marks stopped_by_user so
//            no policy restarts it
//   remove   refused while running unless force; snapshot, files, record
//
// Locking: one mutex and condition variable per container serialise its
// transitions; waiters (stop, wait, attach) sleep on the condition without
// holding the mutex.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "berth/base/error.h"
#include "berth/core/container.h"
#include "berth/core/events.h"
#include "berth/core/image.h"
#include "berth/core/snapshots.h"
#include "berth/core/tasks.h"

namespace berth::containers {

struct ResolvedImage {
  std::string name;  // the record's name ("docker.io/library/busybox:latest")
  std::string id;    // config digest
  core::ImageConfig config;
};

// Everything the spec generator needs (supervisor/oci's SpecInput, filled
// by the wiring list).
struct SpecRequest {
  std::string id;
  const core::ContainerConfig* config = nullptr;
  const core::ImageConfig* image = nullptr;
  std::string rootfs;
  std::string hostname_file, hosts_file, resolv_file;
  std::vector<core::MountSpec> mounts;
  std::map<std::string, std::string> namespace_paths;
};

// docker exec's options.
struct ExecSpec {
  std::vector<std::string> args, env;
  std::string user, working_dir;
  bool tty = false, privileged = false;
};

struct Hooks {
  // A local image by docker's rules (name, then id); ENOENT when missing.
  std::function<Result<ResolvedImage>(std::string_view ns, std::string_view ref)> resolve_image;
  std::function<Result<std::string>(const SpecRequest&)> generate_spec;
  // An OCI Process object for an exec into the container.
  std::function<Result<std::string>(const SpecRequest&, const ExecSpec&)> generate_exec;
  std::function<Status(const std::vector<core::Mount>&, std::string_view target)> mount_rootfs;
  std::function<Status(std::string_view target)> unmount_rootfs;
  // A faithful copy of a tree (a volume's first use copies the image's
  // content at its path); `dst` must not exist.
  std::function<Status(const std::string& src, const std::string& dst)> copy_tree;
};

struct Paths {
  std::string root;    // berthd --root
  std::string state;   // berthd --state
  std::string logger;  // berth-logger binary
};

// `ps` filters: status=, name=, label=, ancestor=, exited=, id=.
struct ListFilter {
  std::string key, value;
};

class ContainerService {
 public:
  ContainerService(Paths paths, core::ContainerStore& store, core::VolumeStore& volumes,
                   core::Snapshotter& snapshotter, core::TaskRuntime& tasks, core::EventBus& events,
                   Hooks hooks);
  ~ContainerService();
  ContainerService(const ContainerService&) = delete;
  ContainerService& operator=(const ContainerService&) = delete;

  // After a daemon restart: reconnects to live tasks, records exits that
  // happened meanwhile, restarts `always`/`unless-stopped` containers,
  // removes leftovers of containers that are gone.
  Status recover();

  // ref: full id, unique id prefix or name. ENOENT "No such container: ref".
  Result<core::Container> find(std::string_view ns, std::string_view ref);
  Result<std::vector<core::Container>> list(std::string_view ns, bool all,
                                            const std::vector<ListFilter>& filters);

  // Returns the new container's id.
  Result<std::string> create(std::string_view ns, std::string name, core::ContainerConfig config);
  Status start(std::string_view ns, std::string_view ref);
  // timeout: seconds (empty: the container's own or 10).
  Status stop(std::string_view ns, std::string_view ref, std::optional<int> timeout);
  Status restart(std::string_view ns, std::string_view ref, std::optional<int> timeout);
  Status kill(std::string_view ns, std::string_view ref, std::string_view signal);
  Status pause(std::string_view ns, std::string_view ref);
  Status unpause(std::string_view ns, std::string_view ref);
  Status remove(std::string_view ns, std::string_view ref, bool force, bool volumes);
  Status rename(std::string_view ns, std::string_view ref, std::string new_name);
  // docker update: new limits apply to a running task at once (the shim's
  // Update), and are kept for its next starts; a new restart policy too.
  struct Update {
    std::optional<int64_t> memory, nano_cpus, pids_limit;
    std::optional<core::RestartPolicy> restart;
  };
  Status update(std::string_view ns, std::string_view ref, const Update& update);
  // Blocks until the condition holds: "not-running", "next-exit", "removed".
  // `cancelled` is polled (the client went away).
  Result<int> wait(std::string_view ns, std::string_view ref, std::string_view condition,
                   const std::function<bool()>& cancelled);
  // The OCI Process of an exec into a running container.
  Result<std::string> exec_process(std::string_view ns, const core::Container& c,
                                   const ExecSpec& exec);
  // The pids of the container's processes (for `top`).
  Result<std::vector<uint32_t>> pids(std::string_view ns, std::string_view ref);

  // Volumes (volumes.cc). create: an empty name makes an anonymous one;
  // an existing name is returned as it is (docker's `volume create`).
  Result<core::Volume> volume_create(std::string_view ns, std::string name,
                                     std::map<std::string, std::string> labels);
  Result<core::Volume> volume_get(std::string_view ns, std::string_view name);
  Result<std::vector<core::Volume>> volume_list(std::string_view ns);
  // Refused (EBUSY) while a container, running or not, uses it.
  Status volume_remove(std::string_view ns, std::string_view name, bool force);
  // Removes the volumes no container uses; returns their names.
  Result<std::vector<std::string>> volume_prune(std::string_view ns);

  // Where things are, for logs and attach.
  std::string container_dir(std::string_view id) const;
  std::string log_path(std::string_view id) const;
  std::string bundle_dir(std::string_view ns, std::string_view id) const;
  // docker's `container inspect` object.
  Result<std::string> inspect_json(std::string_view ns, const core::Container& c);
  core::TaskRuntime& tasks() { return tasks_; }

  // Exit generation of a container: bumps on every exit; for attach to
  // notice the exit it is waiting for.
  struct ExitWatch {
    uint64_t generation = 0;
    bool running = false;
  };
  ExitWatch exit_watch(std::string_view ns, std::string_view id);
  // Waits (up to `limit`) for an exit after `generation`; the exit code or
  // nothing on timeout.
  std::optional<int> wait_exit_after(std::string_view ns, std::string_view id, uint64_t generation,
                                     std::chrono::milliseconds limit);

 private:
  struct Entry;
  struct Work;
  std::shared_ptr<Entry> entry(std::string_view ns, std::string_view id);
  Status start_locked(std::string_view ns, core::Container& c, Entry& e);
  // The spec generator's input; `image` receives the image config it points at.
  Result<SpecRequest> spec_request(std::string_view ns, const core::Container& c,
                                   core::ImageConfig& image);
  void on_exit(std::string ns, core::TaskExit exit);
  void handle_exit(const std::string& ns, const core::TaskExit& exit);
  void cleanup_task(std::string_view ns, const core::Container& c);
  Status remove_locked(std::string_view ns, const core::Container& c, Entry& e,
                       bool anonymous_volumes);
  // create: volume mounts and the image's VOLUMEs resolved to volume names
  // (anonymous ones made); returns those made, for the rollback.
  Result<std::vector<std::string>> prepare_volumes(std::string_view ns, core::ContainerConfig& c,
                                                   const core::ImageConfig& image);
  // start: volume mounts → binds of their data dirs, filled from the image
  // at first use.
  Result<std::vector<core::MountSpec>> resolve_mounts(std::string_view ns, const core::Container& c,
                                                      const std::string& rootfs);
  std::string volume_dir(std::string_view name) const;
  void schedule(std::chrono::milliseconds delay, std::function<void()> fn);
  void worker_loop();
  void publish(std::string_view ns, std::string_view topic, const core::Container& c,
               std::string_view extra = {});
  Result<std::string> write_files(const core::Container& c);

  Paths paths_;
  core::ContainerStore& store_;
  core::VolumeStore& volumes_;
  core::Snapshotter& snapshotter_;
  core::TaskRuntime& tasks_;
  core::EventBus& events_;
  Hooks hooks_;

  std::mutex entries_mu_;
  std::map<std::string, std::shared_ptr<Entry>> entries_;  // "<ns>/<id>"

  // One worker thread runs exits and delayed restarts, in time order.
  std::mutex work_mu_;
  std::condition_variable work_cv_;
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> work_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace berth::containers
