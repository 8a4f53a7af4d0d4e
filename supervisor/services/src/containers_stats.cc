// Containers.Stats: the shim's cgroup metrics (cgroups v1 or v2 Metrics in
// an Any, shim/src/metrics_encode.cc) turned into docker's `stats` numbers:
// CPU % from two samples (docker's formula reduces to CPU time over wall
// time), memory without the inactive page cache, pids, block I/O.

#include <chrono>
#include <thread>

#include "berth/base/sys.h"
#include "cgroups/v1/metrics.pb.h"
#include "cgroups/v2/metrics.pb.h"
#include "containers_service.h"

namespace berth::services {

namespace v1 = berth::v1;
using grpc::ServerContext;
using grpc::Status;

namespace {

struct Sample {
  uint64_t cpu_ns = 0, memory = 0, limit = 0, pids = 0, read = 0, write = 0;
  bool ok = false;
};

uint64_t host_memory() {
  auto text = sys::read_file("/proc/meminfo", 1 << 16);
  if (!text) return 0;
  auto at = text->find("MemTotal:");
  if (at == std::string::npos) return 0;
  return std::strtoull(text->c_str() + at + 9, nullptr, 10) * 1024;
}

Sample decode(const core::TaskMetrics& m) {
  Sample s;
  if (m.type_url.find("cgroups.v2") != std::string::npos) {
    io::containerd::cgroups::v2::Metrics x;
    if (!x.ParseFromString(m.data)) return s;
    s.cpu_ns = x.cpu().usage_usec() * 1000;
    uint64_t inactive = x.memory().inactive_file();
    s.memory = x.memory().usage() > inactive ? x.memory().usage() - inactive : x.memory().usage();
    s.limit = x.memory().usage_limit();
    s.pids = x.pids().current();
    for (const auto& e : x.io().usage()) {
      s.read += e.rbytes();
      s.write += e.wbytes();
    }
  } else {
    io::containerd::cgroups::v1::Metrics x;
    if (!x.ParseFromString(m.data)) return s;
    s.cpu_ns = x.cpu().usage().total();
    uint64_t inactive = x.memory().total_inactive_file();
    uint64_t usage = x.memory().usage().usage();
    s.memory = usage > inactive ? usage - inactive : usage;
    s.limit = x.memory().usage().limit();
    s.pids = x.pids().current();
    for (const auto& e : x.blkio().io_service_bytes_recursive()) {
      if (e.op() == "Read") s.read += e.value();
      if (e.op() == "Write") s.write += e.value();
    }
  }
  s.ok = true;
  return s;
}

}  // namespace

Status ContainersService::Stats(ServerContext* ctx, const v1::StatsRequest* req,
                                grpc::ServerWriter<v1::StatsResponse>* writer) {
  auto ns = namespace_of(ctx);
  std::vector<core::Container> targets;
  if (req->refs().empty()) {
    auto list = svc_.list(ns, req->all(), {});
    if (!list) return to_status(list.error());
    targets = std::move(*list);
  } else {
    for (const auto& ref : req->refs()) {
      auto c = svc_.find(ns, ref);
      if (!c) return to_status(c.error());
      targets.push_back(std::move(*c));
    }
  }
  const uint64_t memory_total = host_memory();
  auto take = [&](const core::Container& c) {
    auto m = svc_.tasks().stats(ns, c.id);
    return m ? decode(*m) : Sample{};
  };
  std::vector<Sample> before;
  for (const auto& c : targets) before.push_back(take(c));
  auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(req->stream() ? 1000 : 500));
    if (ctx->IsCancelled()) return Status::OK;
    auto t1 = std::chrono::steady_clock::now();
    double wall = double(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    v1::StatsResponse resp;
    for (size_t i = 0; i < targets.size(); ++i) {
      Sample now = take(targets[i]);
      auto* out = resp.add_stats();
      out->set_id(targets[i].id);
      out->set_name(targets[i].name);
      if (now.ok && before[i].ok && now.cpu_ns >= before[i].cpu_ns && wall > 0)
        out->set_cpu_percent(double(now.cpu_ns - before[i].cpu_ns) / wall * 100.0);
      out->set_memory_usage(now.memory);
      // An unlimited cgroup reports a huge limit: docker shows the host's memory.
      out->set_memory_limit(now.limit == 0 || now.limit > memory_total ? memory_total : now.limit);
      out->set_pids(now.pids);
      out->set_block_read(now.read);
      out->set_block_write(now.write);
      before[i] = now;
    }
    t0 = t1;
    if (!writer->Write(resp) || !req->stream()) return Status::OK;
  }
}

}  // namespace berth::services
