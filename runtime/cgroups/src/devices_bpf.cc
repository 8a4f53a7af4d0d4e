// Loading and attaching the cgroup-v2 device filter with bpf(2).
//
// bpf(2) is the one raw syscall of this library that base/sys.h does not
// wrap yet; it stays in this file so that moving it there is one step.
//
// Every call passes a whole, zeroed union bpf_attr: kernels from 6.17 on
// write BPF_PROG_QUERY's `revision` field whatever size the caller gives
// (runc hit this), so a short attribute buffer would be overrun.

#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "berth/base/sys.h"
#include "berth/base/unique_fd.h"
#include "berth/cgroups/devices.h"

namespace berth::cgroups {

namespace {

long bpf(int cmd, union bpf_attr& attr) {
  long r;
  do {
    r = sys::bpf(cmd, &attr, sizeof attr);
    // Since ~4.20 the verifier gives up with EAGAIN when a signal arrives.
  } while (r < 0 && (errno == EINTR || (errno == EAGAIN && cmd == BPF_PROG_LOAD)));
  return r;
}

Error bpf_error(std::string_view what, const std::string& dir) { return sys_error(what, dir); }

// bpf(2) reads fd 0 in some attributes as "no fd": keep our fds above it
// (fd 0 is free when the runtime was started with stdin closed).
Result<UniqueFd> owned_fd(long fd) {
  UniqueFd owned(static_cast<int>(fd));
  if (fd != 0) return owned;
  int moved = sys::fcntl(0, F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return sys_error("fcntl F_DUPFD_CLOEXEC", "bpf fd");
  return UniqueFd(moved);
}

std::vector<struct bpf_insn> encode(const std::vector<BpfInsn>& program) {
  std::vector<struct bpf_insn> out(program.size());
  for (size_t i = 0; i < program.size(); ++i) {
    std::memset(&out[i], 0, sizeof out[i]);
    out[i].code = program[i].code;
    out[i].dst_reg = program[i].dst & 0xf;
    out[i].src_reg = program[i].src & 0xf;
    out[i].off = program[i].off;
    out[i].imm = program[i].imm;
  }
  return out;
}

Result<UniqueFd> load(const std::vector<BpfInsn>& program, const std::string& dir) {
  auto insns = encode(program);
  static const char kLicense[] = "Apache-2.0";  // no GPL-only helpers are called
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = reinterpret_cast<uintptr_t>(insns.data());
  attr.insn_cnt = static_cast<uint32_t>(insns.size());
  attr.license = reinterpret_cast<uintptr_t>(kLicense);
  long fd = bpf(BPF_PROG_LOAD, attr);
  if (fd >= 0) return owned_fd(fd);
  int err = errno;
  // Once more with the verifier's log, which says which instruction it
  // rejected: the only useful report of a bad program.
  std::string log(64 << 10, '\0');
  attr.log_level = 1;
  attr.log_buf = reinterpret_cast<uintptr_t>(log.data());
  attr.log_size = static_cast<uint32_t>(log.size());
  fd = bpf(BPF_PROG_LOAD, attr);
  if (fd >= 0) return owned_fd(fd);
  log.resize(std::strlen(log.c_str()));
  while (!log.empty() && log.back() == '\n') log.pop_back();
  std::string what = "load the device filter (BPF_PROG_LOAD) for";
  if (err == EPERM)
    what += " (needs CAP_BPF or CAP_SYS_ADMIN; before Linux 5.11 also RLIMIT_MEMLOCK)";
  Error e = sys_error(err, what, dir);
  if (!log.empty()) e = Error(err, e.message() + ": verifier: " + log, true);
  return e;
}

Result<UniqueFd> open_dir(const std::string& dir) {
  int fd = sys::openat(sys::kAtFdcwd, dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sys_error("open", dir);
  return UniqueFd(fd);
}

Result<std::vector<uint32_t>> query(BorrowedFd cgroup, const std::string& dir) {
  // At most 64 programs of one type can be attached to a cgroup; ask for
  // more anyway and let ENOSPC say how many.
  std::vector<uint32_t> ids(64);
  for (int attempt = 0; attempt < 4; ++attempt) {
    union bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.query.target_fd = static_cast<uint32_t>(cgroup.get());
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = reinterpret_cast<uintptr_t>(ids.data());
    attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
    if (bpf(BPF_PROG_QUERY, attr) == 0) {
      ids.resize(attr.query.prog_cnt);
      return ids;
    }
    if (errno != ENOSPC) return bpf_error("query device filters (BPF_PROG_QUERY) of", dir);
    ids.resize(attr.query.prog_cnt + 16);
  }
  return make_error("query device filters of `" + dir + "`: the list keeps growing", EAGAIN);
}

}  // namespace

Result<std::vector<uint32_t>> attached_device_filters(const std::string& cgroup_dir) {
  auto dir = BERTH_VALUE(open_dir(cgroup_dir));
  return query(dir, cgroup_dir);
}

Status attach_device_filter(const std::string& cgroup_dir, const std::vector<BpfInsn>& program) {
  auto dir = BERTH_VALUE(open_dir(cgroup_dir));
  auto old_ids = BERTH_VALUE(query(dir, cgroup_dir));
  // Take the old programs by fd before attaching: ids can be reused once a
  // program is freed, fds cannot.
  std::vector<UniqueFd> old;
  for (uint32_t id : old_ids) {
    union bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.prog_id = id;
    long fd = bpf(BPF_PROG_GET_FD_BY_ID, attr);
    if (fd >= 0) {
      old.push_back(BERTH_VALUE(owned_fd(fd)));
      continue;
    }
    // A program an LSM hides from us (systemd's, under SELinux) can stay:
    // device programs only ever deny more, so leaving one is safe.
    if (errno == EPERM || errno == EACCES || errno == ENOENT) continue;
    return bpf_error("get device filter " + std::to_string(id) + " of", cgroup_dir);
  }

  auto prog = BERTH_VALUE(load(program, cgroup_dir));
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.target_fd = static_cast<uint32_t>(dir.get());
  attr.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  attr.attach_type = BPF_CGROUP_DEVICE;
  // ALLOW_MULTI: programs of parent cgroups keep running too, so a
  // container can never widen what its parent allows.
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, attr) != 0)
    return bpf_error("attach the device filter (BPF_PROG_ATTACH) to", cgroup_dir);

  for (const auto& fd : old) {
    std::memset(&attr, 0, sizeof attr);
    attr.target_fd = static_cast<uint32_t>(dir.get());
    attr.attach_bpf_fd = static_cast<uint32_t>(fd.get());
    attr.attach_type = BPF_CGROUP_DEVICE;
    if (bpf(BPF_PROG_DETACH, attr) != 0 && errno != ENOENT)
      return bpf_error("detach the previous device filter (BPF_PROG_DETACH) from", cgroup_dir);
  }
  // The attachment holds the program now; our fd closes here.
  return {};
}

}  // namespace berth::cgroups
