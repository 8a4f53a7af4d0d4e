// cgroup v1 writers, and the ones whose files v1 and v2 share (pids.max,
// cpuset.*, rdma.max).

#include <string>

#include "apply.h"
#include "berth/cgroups/devices.h"
#include "cgroupfs.h"

namespace berth::cgroups::detail {

namespace {

std::string device_key(int64_t major, int64_t minor) {
  return std::to_string(major) + ":" + std::to_string(minor);
}

constexpr const char* kLimit = "memory.limit_in_bytes";
constexpr const char* kMemsw = "memory.memsw.limit_in_bytes";

}  // namespace

Status set_pids(const std::string& dir, const Resources& r) {
  if (!r.pids_limit) return {};
  // 0 is written as 0 (no new task at all), as the runtime-spec asks; runc
  // writes 1 to match systemd's TasksMax.
  return fs::write(dir, "pids.max", *r.pids_limit < 0 ? "max" : std::to_string(*r.pids_limit));
}

Status set_cpuset(const std::string& dir, const Resources& r) {
  if (!r.cpu.cpus.empty()) BERTH_TRY(fs::write(dir, "cpuset.cpus", r.cpu.cpus));
  if (!r.cpu.mems.empty()) BERTH_TRY(fs::write(dir, "cpuset.mems", r.cpu.mems));
  return {};
}

Status set_rdma(const std::string& dir, const Resources& r) {
  for (const auto& [device, limit] : r.rdma) {
    std::string line = device;
    if (limit.hca_handles) line += " hca_handle=" + std::to_string(*limit.hca_handles);
    if (limit.hca_objects) line += " hca_object=" + std::to_string(*limit.hca_objects);
    BERTH_TRY(fs::write(dir, "rdma.max", line));
  }
  return {};
}

// v1 requires memory.limit_in_bytes <= memory.memsw.limit_in_bytes after
// every single write, so the order depends on the direction of the change:
// when the new memsw is above the current limit (or unlimited) memsw goes
// first, then the limit; otherwise (shrinking) the limit goes first. Either
// way both intermediate states satisfy the rule. runc orders them the same.
Status set_memory_v1(const std::string& dir, const Resources& r) {
  const MemoryResources& m = r.memory;
  // 0 is "unset" for these (runc's reading of the spec).
  int64_t limit = m.limit.value_or(0);
  int64_t swap = m.swap.value_or(0);
  bool have_memsw = fs::exists(dir, kMemsw);
  // "limit: -1" alone lifts both limits: a memsw limit left in place would
  // still cap the memory.
  if (limit == -1 && swap == 0 && have_memsw) swap = -1;
  if (swap != 0 && !have_memsw) {
    // Without swap accounting (swapaccount=0, or no CONFIG_MEMCG_SWAP) an
    // unlimited swap is already the case; a limit cannot be enforced.
    if (swap != -1)
      return make_error(r.field + ".memory.swap: this kernel does not account swap (no `" +
                            fs::path_of(dir, kMemsw) + "`)",
                        ENOTSUP);
    swap = 0;
  }
  auto write_limit = [&] {
    return limit == 0 ? Status() : fs::write(dir, kLimit, std::to_string(limit));
  };
  auto write_swap = [&] {
    return swap == 0 ? Status() : fs::write(dir, kMemsw, std::to_string(swap));
  };
  bool swap_first = false;
  if (limit != 0 && swap != 0) {
    auto current = BERTH_VALUE(fs::read_u64_optional(dir, kLimit));
    swap_first = swap == -1 || !current || *current < static_cast<uint64_t>(swap);
  }
  if (swap_first) {
    BERTH_TRY(write_swap());
    BERTH_TRY(write_limit());
  } else {
    BERTH_TRY(write_limit());
    BERTH_TRY(write_swap());
  }
  if (m.reservation && *m.reservation != 0)
    BERTH_TRY(fs::write(dir, "memory.soft_limit_in_bytes", std::to_string(*m.reservation)));
  // memory.kernel is not applied (runc neither): the kernel deprecated
  // memory.kmem.limit_in_bytes and current kernels refuse writes to it;
  // kernel memory is charged to the memory limit anyway.
  if (m.kernel_tcp && *m.kernel_tcp != 0)
    BERTH_TRY(fs::write(dir, "memory.kmem.tcp.limit_in_bytes", std::to_string(*m.kernel_tcp)));
  if (m.swappiness) BERTH_TRY(fs::write(dir, "memory.swappiness", std::to_string(*m.swappiness)));
  if (m.disable_oom_killer)
    BERTH_TRY(fs::write(dir, "memory.oom_control", *m.disable_oom_killer ? "1" : "0"));
  if (m.use_hierarchy)
    BERTH_TRY(fs::write(dir, "memory.use_hierarchy", *m.use_hierarchy ? "1" : "0"));
  return {};
}

// cfs_period_us and cfs_quota_us are checked together against the parent's
// bandwidth, so a new period can be refused (EINVAL) until the new quota is
// in: then the period is retried after the quota. The same holds for the
// burst and for rt_period_us/rt_runtime_us.
Status set_cpu_v1(const std::string& dir, const Resources& r) {
  const CpuResources& c = r.cpu;
  if (c.shares && *c.shares != 0)
    BERTH_TRY(fs::write(dir, "cpu.shares", std::to_string(*c.shares)));
  bool quota = c.quota && *c.quota != 0;
  bool period_pending = false;
  if (c.period && *c.period != 0) {
    auto st = fs::write(dir, "cpu.cfs_period_us", std::to_string(*c.period));
    if (!st.ok()) {
      if (st.error().code() != EINVAL || !quota) return st;
      period_pending = true;
    }
  }
  bool burst_pending = false;
  if (c.burst) {
    auto st = fs::write(dir, "cpu.cfs_burst_us", std::to_string(*c.burst));
    if (!st.ok()) {
      if (st.error().code() != EINVAL || !quota) return st;
      burst_pending = true;
    }
  }
  if (quota) {
    BERTH_TRY(fs::write(dir, "cpu.cfs_quota_us", std::to_string(*c.quota)));
    if (period_pending) BERTH_TRY(fs::write(dir, "cpu.cfs_period_us", std::to_string(*c.period)));
    if (burst_pending) BERTH_TRY(fs::write(dir, "cpu.cfs_burst_us", std::to_string(*c.burst)));
  }
  if (c.idle) BERTH_TRY(fs::write(dir, "cpu.idle", std::to_string(*c.idle)));

  bool runtime = c.realtime_runtime && *c.realtime_runtime != 0;
  bool rt_period_pending = false;
  if (c.realtime_period && *c.realtime_period != 0) {
    auto st = fs::write(dir, "cpu.rt_period_us", std::to_string(*c.realtime_period));
    if (!st.ok()) {
      if (st.error().code() != EINVAL || !runtime) return st;
      rt_period_pending = true;
    }
  }
  if (runtime) {
    BERTH_TRY(fs::write(dir, "cpu.rt_runtime_us", std::to_string(*c.realtime_runtime)));
    if (rt_period_pending)
      BERTH_TRY(fs::write(dir, "cpu.rt_period_us", std::to_string(*c.realtime_period)));
  }
  return {};
}

// CFQ's blkio.weight went with CFQ (Linux 5.0); BFQ offers blkio.bfq.weight
// when it drives some disk; hosts with neither (this kind) have no weights
// at all, which is an error only for a config that asks for one.
Status set_blkio_v1(const std::string& dir, const Resources& r) {
  const BlockIoResources& b = r.block_io;
  std::string weight_file, weight_device_file;
  if (fs::exists(dir, "blkio.weight")) {
    weight_file = "blkio.weight";
    weight_device_file = "blkio.weight_device";
  } else if (fs::exists(dir, "blkio.bfq.weight")) {
    weight_file = "blkio.bfq.weight";
    weight_device_file = "blkio.bfq.weight_device";
  }
  bool wants_weight = (b.weight && *b.weight != 0);
  for (const auto& wd : b.weight_device) wants_weight |= wd.weight.has_value();
  if (wants_weight && weight_file.empty())
    return make_error(r.field +
                          ".blockIO.weight: the blkio controller here has no weight "
                          "files (blkio.weight, blkio.bfq.weight) in `" +
                          dir + "`",
                      ENOTSUP);
  if (b.weight && *b.weight != 0) BERTH_TRY(fs::write(dir, weight_file, std::to_string(*b.weight)));
  if (b.leaf_weight && *b.leaf_weight != 0)
    BERTH_TRY(fs::write(dir, "blkio.leaf_weight", std::to_string(*b.leaf_weight)));
  for (const auto& wd : b.weight_device) {
    std::string key = device_key(wd.major, wd.minor);
    if (wd.weight)
      BERTH_TRY(fs::write(dir, weight_device_file, key + " " + std::to_string(*wd.weight)));
    if (wd.leaf_weight)
      BERTH_TRY(
          fs::write(dir, "blkio.leaf_weight_device", key + " " + std::to_string(*wd.leaf_weight)));
  }
  for (auto [file, list] : {std::pair{"blkio.throttle.read_bps_device", &b.read_bps},
                            {"blkio.throttle.write_bps_device", &b.write_bps},
                            {"blkio.throttle.read_iops_device", &b.read_iops},
                            {"blkio.throttle.write_iops_device", &b.write_iops}})
    for (const auto& t : *list)
      BERTH_TRY(fs::write(dir, file, device_key(t.major, t.minor) + " " + std::to_string(t.rate)));
  return {};
}

// The reservation limit (rsvd, Linux 5.7) is what the runtime-spec asks for
// when the kernel has it; the fault-time limit is set too, so that pages
// faulted without a reservation are capped as well.
Status set_hugetlb_v1(const std::string& dir, const Resources& r) {
  for (const auto& h : r.hugepage_limits) {
    std::string prefix = "hugetlb." + h.page_size;
    BERTH_TRY(fs::write(dir, prefix + ".limit_in_bytes", std::to_string(h.limit)));
    if (fs::exists(dir, prefix + ".rsvd.limit_in_bytes"))
      BERTH_TRY(fs::write(dir, prefix + ".rsvd.limit_in_bytes", std::to_string(h.limit)));
  }
  return {};
}

Status set_net_cls_v1(const std::string& dir, const Resources& r) {
  if (!r.network.class_id) return {};
  return fs::write(dir, "net_cls.classid", std::to_string(*r.network.class_id));
}

Status set_net_prio_v1(const std::string& dir, const Resources& r) {
  for (const auto& p : r.network.priorities)
    BERTH_TRY(fs::write(dir, "net_prio.ifpriomap", p.name + " " + std::to_string(p.priority)));
  return {};
}

// "a" to devices.deny first, then every rule in the spec's order, one write
// each (as runc did before its transition emulator). The emulation runs
// first only to refuse rule lists v1 would silently get wrong.
Status set_devices_v1(const std::string& dir, const Resources& r) {
  if (r.devices.empty()) return {};
  BERTH_TRY_CTX(emulate_device_rules(r.devices), r.field + ".devices");
  BERTH_TRY(fs::write(dir, "devices.deny", "a"));
  for (const auto& d : r.devices) {
    std::string line(1, d.type);
    if (d.type != 'a') {
      line += " " + (d.major < 0 ? std::string("*") : std::to_string(d.major));
      line += ":" + (d.minor < 0 ? std::string("*") : std::to_string(d.minor));
      line += " " + d.access;
    }
    BERTH_TRY(fs::write(dir, d.allow ? "devices.allow" : "devices.deny", line));
  }
  return {};
}

}  // namespace berth::cgroups::detail
