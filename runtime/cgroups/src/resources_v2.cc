// cgroup v2 writers: the v1-shaped spec values converted to the unified
// hierarchy's files, as runc's fs2 driver converts them.

#include <string>

#include "apply.h"
#include "berth/cgroups/devices.h"
#include "cgroupfs.h"

namespace berth::cgroups::detail {

namespace {

// -1 is "max" on v2 (v1 took -1 to remove a limit).
std::string limit_text(int64_t v) { return v < 0 ? "max" : std::to_string(v); }

std::string device_key(int64_t major, int64_t minor) {
  return std::to_string(major) + ":" + std::to_string(minor);
}

Error unsupported(const Resources& r, std::string_view key, std::string_view why) {
  return make_error(
      r.field + "." + std::string(key) + ": not supported on cgroup v2 (" + std::string(why) + ")",
      ENOTSUP);
}

}  // namespace

uint64_t cpu_weight_from_shares(uint64_t shares) {
  if (shares == 0) return 0;
  // Linear map of v1's 2..262144 onto v2's 1..10000 (runc before 1.3; newer
  // runc fits a quadratic that sends the default 1024 to 100 instead of 39).
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t io_weight_from_blkio(uint16_t weight) {
  if (weight == 0) return 0;
  return 1 + (static_cast<uint64_t>(weight) - 10) * 9999 / 990;
}

// v2 has no memory+swap limit: memory.swap.max is swap alone, so the spec's
// swap (memory+swap, v1's memsw) becomes swap - limit. No order between the
// files matters here: v2 has no rule tying them together.
Status set_memory_v2(const std::string& dir, const Resources& r) {
  const MemoryResources& m = r.memory;
  int64_t limit = m.limit.value_or(0);
  int64_t swap = m.swap.value_or(0);
  if (m.swappiness) return unsupported(r, "memory.swappiness", "no per-cgroup swappiness");
  if (m.disable_oom_killer && *m.disable_oom_killer)
    return unsupported(r, "memory.disableOOMKiller", "the OOM killer cannot be turned off");
  if (m.kernel_tcp && *m.kernel_tcp > 0)
    return unsupported(r, "memory.kernelTCP", "TCP memory is part of memory.max");
  if (m.use_hierarchy && !*m.use_hierarchy)
    return unsupported(r, "memory.useHierarchy", "accounting is always hierarchical");

  // checkBeforeUpdate: v1 refuses a limit below the current usage (EBUSY);
  // v2 would take it and OOM-kill, so check first when asked to.
  if (m.check_before_update && limit > 0) {
    auto usage = BERTH_VALUE(fs::read_u64_optional(dir, "memory.current"));
    if (usage && *usage >= static_cast<uint64_t>(limit))
      return make_error(r.field + ".memory.limit: " + std::to_string(limit) +
                            " is not above the current usage " + std::to_string(*usage) + " of `" +
                            dir + "` (checkBeforeUpdate)",
                        EBUSY);
  }

  std::string swap_max;  // "" leaves memory.swap.max alone
  if (limit == -1 && swap == 0) {
    swap_max = "max";  // "limit: -1" alone lifts both, as on v1
  } else if (swap == -1) {
    swap_max = "max";
  } else if (swap > 0) {
    if (limit <= 0)
      return make_error(r.field + ".memory.swap: a swap limit needs memory.limit on cgroup v2");
    swap_max = std::to_string(swap - limit);  // parse_resources made swap >= limit
  }
  if (!swap_max.empty()) {
    auto st = fs::write(dir, "memory.swap.max", swap_max);
    // Without swap accounting there is no file; "max" and "0" are then what
    // the kernel does anyway.
    if (!st.ok() && !(st.error().code() == ENOENT && (swap_max == "max" || swap_max == "0")))
      return st;
  }
  if (limit != 0) BERTH_TRY(fs::write(dir, "memory.max", limit_text(limit)));
  if (m.reservation && *m.reservation != 0)
    BERTH_TRY(fs::write(dir, "memory.low", limit_text(*m.reservation)));
  return {};
}

Status set_cpu_v2(const std::string& dir, const Resources& r) {
  const CpuResources& c = r.cpu;
  if (c.realtime_runtime || c.realtime_period)
    return unsupported(r, "cpu.realtimeRuntime", "no realtime group scheduling");
  if (c.shares && *c.shares != 0)
    BERTH_TRY(fs::write(dir, "cpu.weight", std::to_string(cpu_weight_from_shares(*c.shares))));

  bool quota = c.quota && *c.quota != 0;
  bool period = c.period && *c.period != 0;
  // Like v1's period: a larger burst can be refused until the new quota is in.
  bool burst_pending = false;
  if (c.burst) {
    auto st = fs::write(dir, "cpu.max.burst", std::to_string(*c.burst));
    if (!st.ok()) {
      if (st.error().code() != EINVAL || !quota) return st;
      burst_pending = true;
    }
  }
  if (quota || period) {
    // cpu.max is "quota period" in one file. A period given alone keeps the
    // quota already there (runc would write "max" and drop it).
    std::string quota_text = "max";
    if (quota) {
      if (*c.quota > 0) quota_text = std::to_string(*c.quota);
    } else {
      auto current = BERTH_VALUE(fs::read_optional(dir, "cpu.max"));
      if (current) {
        auto fields = fs::split_fields(*current);
        if (!fields.empty()) quota_text = std::string(fields[0]);
      }
    }
    std::string value = quota_text;
    if (period) value += " " + std::to_string(*c.period);
    BERTH_TRY(fs::write(dir, "cpu.max", value));
    if (burst_pending) BERTH_TRY(fs::write(dir, "cpu.max.burst", std::to_string(*c.burst)));
  }
  if (c.idle) BERTH_TRY(fs::write(dir, "cpu.idle", std::to_string(*c.idle)));
  return {};
}

// BFQ's io.bfq.weight takes the v1 scale (and per-device weights) as is;
// without BFQ, io.weight (1..10000, the iocost controller) gets the
// converted value.
Status set_io_v2(const std::string& dir, const Resources& r) {
  const BlockIoResources& b = r.block_io;
  if (b.leaf_weight) return unsupported(r, "blockIO.leafWeight", "CFQ only");
  for (const auto& wd : b.weight_device)
    if (wd.leaf_weight) return unsupported(r, "blockIO.weightDevice[].leafWeight", "CFQ only");
  bool bfq = fs::exists(dir, "io.bfq.weight");
  if (b.weight && *b.weight != 0) {
    if (bfq)
      BERTH_TRY(fs::write(dir, "io.bfq.weight", std::to_string(*b.weight)));
    else
      BERTH_TRY(fs::write(dir, "io.weight", std::to_string(io_weight_from_blkio(*b.weight))));
  }
  for (const auto& wd : b.weight_device) {
    if (!wd.weight) continue;
    std::string key = device_key(wd.major, wd.minor);
    if (bfq)
      BERTH_TRY(fs::write(dir, "io.bfq.weight", key + " " + std::to_string(*wd.weight)));
    else
      BERTH_TRY(fs::write(dir, "io.weight",
                          key + " " + std::to_string(io_weight_from_blkio(*wd.weight))));
  }
  // A rate of 0 removes the limit on v1; "max" says the same on v2.
  for (auto [op, list] : {std::pair{"rbps", &b.read_bps},
                          {"wbps", &b.write_bps},
                          {"riops", &b.read_iops},
                          {"wiops", &b.write_iops}})
    for (const auto& t : *list)
      BERTH_TRY(fs::write(dir, "io.max",
                          device_key(t.major, t.minor) + " " + op + "=" +
                              (t.rate == 0 ? std::string("max") : std::to_string(t.rate))));
  return {};
}

Status set_hugetlb_v2(const std::string& dir, const Resources& r) {
  for (const auto& h : r.hugepage_limits) {
    std::string prefix = "hugetlb." + h.page_size;
    BERTH_TRY(fs::write(dir, prefix + ".max", std::to_string(h.limit)));
    if (fs::exists(dir, prefix + ".rsvd.max"))
      BERTH_TRY(fs::write(dir, prefix + ".rsvd.max", std::to_string(h.limit)));
  }
  return {};
}

Status set_devices_v2(const std::string& dir, const Resources& r) {
  if (r.devices.empty()) return {};
  auto ruleset = emulate_device_rules(r.devices);
  if (!ruleset) return std::move(ruleset).error().wrap(r.field + ".devices");
  return attach_device_filter(dir, device_filter_program(*ruleset));
}

// Last, so that a unified key overrides what the typed fields wrote, as
// the runtime-spec intends it for settings the typed fields lack.
Status set_unified(const std::string& dir, const Resources& r) {
  for (const auto& [key, value] : r.unified) {
    auto st = fs::write(dir, key, value);
    if (!st.ok() && st.error().code() == ENOENT)
      return make_error(r.field + ".unified[\"" + key + "\"]: no such file in `" + dir +
                            "` (is the " + key.substr(0, key.find('.')) +
                            " controller available in this cgroup2 tree?)",
                        ENOENT);
    BERTH_TRY(std::move(st));
  }
  return {};
}

}  // namespace berth::cgroups::detail
