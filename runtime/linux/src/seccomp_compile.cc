// compile_seccomp: linux.seccomp → classic BPF, in the parent.
//
// libseccomp builds the filter; we export it (2.5.4, Debian 12, has only
// seccomp_export_bpf to a descriptor) and load it ourselves in the init, so
// that libseccomp's allocations stay out of the code between clone and exec.
// Because we load the program ourselves, libseccomp's load-time attributes
// (SCMP_FLTATR_CTL_TSYNC, CTL_LOG, CTL_SSB, CTL_NNP) would change nothing:
// linux.seccomp.flags become seccomp(2) flags directly.
//
// ENOSYS for syscalls newer than the profile. A profile lists the syscalls
// known when it was written; one added later falls to the default action,
// usually ERRNO(EPERM), and libc, which tries the new call first and falls
// back on ENOSYS only (clone3 → clone, openat2, fchmodat2, ...), then fails
// instead of falling back. As runc does (libcontainer/seccomp/patchbpf), we
// prepend a stub to the exported program: per architecture in the filter,
// a syscall numbered above the highest one the profile names returns ENOSYS.
// We do not add libseccomp rules for those numbers instead: libseccomp 2.5.4
// knows syscalls only up to 456 on x86_64 and cannot add a rule for a number
// it does not know in a multi-arch filter, while the syscalls that most need
// ENOSYS are exactly the newest ones (cachestat, mseal, listmount, ...). The
// known weakness, shared with runc: a syscall added out of order below the
// highest named one still gets the default action.

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "berth/base/sys.h"
#include "berth/linux/seccomp.h"

namespace berth::os {

namespace {

constexpr uint32_t kX32SyscallBit = 0x40000000;  // __X32_SYSCALL_BIT
constexpr size_t kBpfMaxInsns = 4096;            // BPF_MAXINSNS: the kernel refuses more

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string field(std::string_view name, size_t i) {
  return std::string(name) + "[" + std::to_string(i) + "]";
}

// Owns a libseccomp context.
class FilterCtx {
 public:
  explicit FilterCtx(scmp_filter_ctx ctx) : ctx_(ctx) {}
  FilterCtx(const FilterCtx&) = delete;
  FilterCtx& operator=(const FilterCtx&) = delete;
  ~FilterCtx() {
    if (ctx_ != nullptr) ::seccomp_release(ctx_);
  }
  scmp_filter_ctx get() const { return ctx_; }

 private:
  scmp_filter_ctx ctx_;
};

bool takes_errno(std::string_view action) {
  return action == "SCMP_ACT_ERRNO" || action == "SCMP_ACT_TRACE";
}

// An action name (+ errnoRet) as a libseccomp action value. `where` names
// the action field, `errno_where` the errnoRet field.
Result<uint32_t> resolve_action(std::string_view action, std::optional<uint32_t> errno_ret,
                                const std::string& where, const std::string& errno_where) {
  static constexpr std::pair<std::string_view, uint32_t> kActions[] = {
      {"SCMP_ACT_KILL", SCMP_ACT_KILL},
      {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
      {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
      {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
      {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
      {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
      {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
      {"SCMP_ACT_LOG", SCMP_ACT_LOG},
      {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY},
  };
  const uint32_t* base = nullptr;
  for (const auto& [name, value] : kActions)
    if (name == action) base = &value;
  if (base == nullptr) return make_error(where + ": unknown action " + quote(action));
  if (!takes_errno(action)) {
    if (errno_ret) return make_error(errno_where + ": not allowed with action " + quote(action));
    return *base;
  }
  // SECCOMP_RET_DATA has 16 bits: a larger value would silently become
  // another one. (The kernel caps an errno at 4095 itself.)
  uint32_t data = errno_ret.value_or(EPERM);
  if (data > 0xffff)
    return make_error(errno_where + ": " + std::to_string(data) + " does not fit in 16 bits");
  return *base | data;
}

Result<scmp_compare> resolve_op(std::string_view op, const std::string& where) {
  static constexpr std::pair<std::string_view, scmp_compare> kOps[] = {
      {"SCMP_CMP_NE", SCMP_CMP_NE},
      {"SCMP_CMP_LT", SCMP_CMP_LT},
      {"SCMP_CMP_LE", SCMP_CMP_LE},
      {"SCMP_CMP_EQ", SCMP_CMP_EQ},
      {"SCMP_CMP_GE", SCMP_CMP_GE},
      {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
  };
  for (const auto& [name, value] : kOps)
    if (name == op) return value;
  return make_error(where + ": unknown operator " + quote(op));
}

// "SCMP_ARCH_X86_64" → libseccomp's token, through its own name table
// ("x86_64"), so every architecture this libseccomp knows is accepted.
Result<uint32_t> resolve_arch(std::string_view name, const std::string& where) {
  constexpr std::string_view kPrefix = "SCMP_ARCH_";
  if (name.substr(0, kPrefix.size()) == kPrefix && name.size() > kPrefix.size()) {
    std::string lower(name.substr(kPrefix.size()));
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (uint32_t token = ::seccomp_arch_resolve_name(lower.c_str()); token != 0) return token;
  }
  return make_error(where + ": unknown architecture " + quote(name));
}

struct FlagName {
  std::string_view name;
  unsigned int value;
};
constexpr FlagName kFlags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

// Whether the running kernel accepts `flags`: with a null program, seccomp(2)
// checks the flags first (EINVAL) and then faults reading the program
// (EFAULT), so nothing is installed. Any other answer (ENOSYS, or EPERM from
// a filter we run under) says nothing about the flag: assume it is known and
// let the load report the real problem.
bool kernel_accepts(unsigned int flags) {
  long rc = sys::seccomp_set_mode_filter(flags, nullptr);
  return !(rc < 0 && errno == EINVAL);
}

Status resolve_flags(const spec::Seccomp& s, SeccompProgram& p) {
  for (size_t i = 0; i < s.flags.size(); ++i) {
    const std::string where = field("linux.seccomp.flags", i);
    const FlagName* known = nullptr;
    for (const FlagName& f : kFlags)
      if (f.name == s.flags[i]) known = &f;
    if (known == nullptr) return make_error(where + ": unknown flag " + quote(s.flags[i]));
    unsigned int probe = known->value;
    if (known->value == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) {
      // The kernel refuses it without a listener; it only changes how a
      // notified syscall waits, so without NOTIFY rules it is moot.
      if (!p.notify) {
        p.warnings.push_back(where + ": " + s.flags[i] + " ignored: no SCMP_ACT_NOTIFY rule");
        continue;
      }
      probe |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    }
    if (!kernel_accepts(probe)) {
      p.warnings.push_back(where + ": " + s.flags[i] + " ignored: not supported by this kernel");
      continue;
    }
    p.flags |= known->value;
  }
  // TSYNC with NEW_LISTENER is refused unless TSYNC_ESRCH says how a failed
  // sync is reported (the return value is the listener fd otherwise). The
  // init is single-threaded, so there is nothing to sync anyway.
  if (p.notify && (p.flags & SECCOMP_FILTER_FLAG_TSYNC)) {
    if (kernel_accepts(SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_NEW_LISTENER |
                       SECCOMP_FILTER_FLAG_TSYNC_ESRCH)) {
      p.flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
    } else {
      p.flags &= ~static_cast<unsigned int>(SECCOMP_FILTER_FLAG_TSYNC);
      p.warnings.push_back(
          "linux.seccomp.flags: SECCOMP_FILTER_FLAG_TSYNC ignored: this kernel cannot combine "
          "it with SCMP_ACT_NOTIFY");
    }
  }
  return {};
}

Status add_rules(scmp_filter_ctx ctx, const spec::SeccompSyscall& sc, uint32_t action,
                 const std::string& where, SeccompProgram& p) {
  std::vector<scmp_arg_cmp> conds;
  std::array<int, 6> per_index{};
  for (size_t j = 0; j < sc.args.size(); ++j) {
    const spec::SeccompArg& a = sc.args[j];
    const std::string arg_where = field(where + ".args", j);
    if (a.index >= per_index.size())
      return make_error(arg_where + ".index: must be between 0 and 5, got " +
                        std::to_string(a.index));
    scmp_compare op = BERTH_VALUE(resolve_op(a.op, arg_where + ".op"));
    // For MASKED_EQ libseccomp takes the mask first: value is the mask and
    // valueTwo the datum, as in runc and crun.
    conds.push_back(scmp_arg_cmp{a.index, op, a.value, a.value_two});
    ++per_index[a.index];
  }
  bool same_index = std::any_of(per_index.begin(), per_index.end(), [](int n) { return n > 1; });

  for (size_t k = 0; k < sc.names.size(); ++k) {
    const std::string& name = sc.names[k];
    int nr = ::seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) {
      p.warnings.push_back(field(where + ".names", k) + ": unknown syscall " + quote(name) +
                           " ignored");
      continue;
    }
    auto add = [&](unsigned int count, const scmp_arg_cmp* arr) -> Status {
      int rc = ::seccomp_rule_add_array(ctx, action, nr, count, arr);
      if (rc < 0) return sys_error(-rc, where + ": add rule for " + quote(name));
      return {};
    };
    if (conds.empty() || !same_index) {
      BERTH_TRY(add(static_cast<unsigned int>(conds.size()), conds.data()));
    } else {
      for (const scmp_arg_cmp& c : conds) BERTH_TRY(add(1, &c));
    }
  }
  return {};
}

// The program libseccomp generated, read back through a memfd (a pipe could
// fill up before we read it).
Result<std::vector<struct sock_filter>> export_bpf(scmp_filter_ctx ctx) {
  int raw = sys::memfd_create("berth-seccomp", MFD_CLOEXEC);
  if (raw < 0) return sys_error("memfd_create", "berth-seccomp");
  UniqueFd fd(raw);
  if (int rc = ::seccomp_export_bpf(ctx, fd.get()); rc < 0)
    return sys_error(-rc, "linux.seccomp: export BPF");
  if (sys::lseek(fd.get(), 0, SEEK_SET) < 0) return sys_error("lseek", "berth-seccomp");
  std::string bytes = BERTH_VALUE(sys::read_all(fd, 1 << 20, "seccomp BPF"));
  if (bytes.empty() || bytes.size() % sizeof(struct sock_filter) != 0)
    return make_error("linux.seccomp: libseccomp exported " + std::to_string(bytes.size()) +
                      " bytes, not a BPF program");
  std::vector<struct sock_filter> prog(bytes.size() / sizeof(struct sock_filter));
  std::memcpy(prog.data(), bytes.data(), bytes.size());
  return prog;
}

// --- the ENOSYS stub -----------------------------------------------------

enum class Abi { kAny, kX86_64, kX32 };  // x86_64 and x32 share AUDIT_ARCH_X86_64

struct StubArch {
  uint32_t audit_arch;
  Abi abi;
  uint32_t max_nr;  // highest syscall number the profile names on this ABI
};

bool stub_wanted(const spec::Seccomp& s, uint32_t default_action) {
  // Permissive defaults: a new syscall is allowed anyway, or a tracer
  // decides (runc counts TRACE as permissive too).
  if (default_action == SCMP_ACT_ALLOW || default_action == SCMP_ACT_LOG) return false;
  if (s.default_action == "SCMP_ACT_TRACE") return false;
  return default_action != SCMP_ACT_ERRNO(ENOSYS);
}

std::vector<StubArch> stub_arches(const spec::Seccomp& s, const std::vector<uint32_t>& tokens) {
  std::vector<StubArch> out;
  for (uint32_t token : tokens) {
    int max_nr = -1;
    for (const spec::SeccompSyscall& sc : s.syscalls)
      for (const std::string& name : sc.names)
        // Negative: a pseudo-syscall (not on this ABI) or unknown.
        max_nr = std::max(max_nr, ::seccomp_syscall_resolve_name_arch(token, name.c_str()));
    if (max_nr < 0) continue;  // the profile names nothing here: leave it alone
    StubArch a{token, Abi::kAny, static_cast<uint32_t>(max_nr)};
    if (token == SCMP_ARCH_X86_64) a.abi = Abi::kX86_64;
    if (token == SCMP_ARCH_X32) {
      // libseccomp's x32 token is not an audit value; its numbers carry
      // the x32 bit already.
      a.audit_arch = AUDIT_ARCH_X86_64;
      a.abi = Abi::kX32;
    }
    out.push_back(a);
  }
  return out;
}

// One self-contained block per ABI; every jump stays inside its block, so
// no jump is ever longer than 8 bits allow, and a block that does not match
// falls through to the next one and finally into libseccomp's program:
//
//   ld  arch
//   jeq <audit arch>, 0, <next block>
//   ld  nr
//   jset X32_BIT, <next>, 0        (x86_64 only: x32 calls are not ours)
//   jset X32_BIT, 0, <next>        (x32 only)
//   jgt <max nr>, 0, <next>
//   ret ERRNO(ENOSYS)
std::vector<struct sock_filter> enosys_stub(const std::vector<StubArch>& arches) {
  std::vector<struct sock_filter> out;
  for (const StubArch& a : arches) {
    const uint8_t skip = a.abi == Abi::kAny ? 3 : 4;  // from the jeq to the next block
    out.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
    out.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, a.audit_arch, 0, skip));
    out.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
    if (a.abi == Abi::kX86_64)
      out.push_back(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, kX32SyscallBit, 2, 0));
    if (a.abi == Abi::kX32)
      out.push_back(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, kX32SyscallBit, 0, 2));
    out.push_back(BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, a.max_nr, 0, 1));
    out.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS));
  }
  return out;
}

}  // namespace

Result<SeccompProgram> compile_seccomp(const spec::Seccomp& s) {
  SeccompProgram p;
  uint32_t default_action =
      BERTH_VALUE(resolve_action(s.default_action, s.default_errno_ret,
                                 "linux.seccomp.defaultAction", "linux.seccomp.defaultErrnoRet"));
  if (default_action == SCMP_ACT_NOTIFY)
    return make_error(
        "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action: the init "
        "would block on its own syscalls before the agent has the listener");

  FilterCtx ctx(::seccomp_init(default_action));
  if (ctx.get() == nullptr)
    return make_error("linux.seccomp: libseccomp cannot create a filter with defaultAction " +
                      quote(s.default_action));

  std::vector<uint32_t> tokens{::seccomp_arch_native()};
  for (size_t i = 0; i < s.architectures.size(); ++i) {
    const std::string where = field("linux.seccomp.architectures", i);
    uint32_t token = BERTH_VALUE(resolve_arch(s.architectures[i], where));
    int rc = ::seccomp_arch_add(ctx.get(), token);
    if (rc == -EEXIST) continue;  // the native one, or listed twice
    if (rc < 0) return sys_error(-rc, where + ": add architecture " + quote(s.architectures[i]));
    tokens.push_back(token);
  }

  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    const spec::SeccompSyscall& sc = s.syscalls[i];
    const std::string where = field("linux.seccomp.syscalls", i);
    if (sc.names.empty()) return make_error(where + ".names: must contain at least one name");
    uint32_t action = BERTH_VALUE(
        resolve_action(sc.action, sc.errno_ret, where + ".action", where + ".errnoRet"));
    // libseccomp refuses a rule whose action is the default (EACCES); such a
    // rule changes nothing, so it is dropped, as runc does.
    if (action == default_action) continue;
    if (action == SCMP_ACT_NOTIFY) p.notify = true;
    BERTH_TRY(add_rules(ctx.get(), sc, action, where, p));
  }

  BERTH_TRY(resolve_flags(s, p));

  std::vector<struct sock_filter> filter = BERTH_VALUE(export_bpf(ctx.get()));
  if (stub_wanted(s, default_action)) p.bpf = enosys_stub(stub_arches(s, tokens));
  p.bpf.insert(p.bpf.end(), filter.begin(), filter.end());
  if (p.bpf.size() > kBpfMaxInsns)
    return make_error("linux.seccomp: the filter has " + std::to_string(p.bpf.size()) +
                          " BPF instructions, more than the kernel's limit of " +
                          std::to_string(kBpfMaxInsns),
                      E2BIG);
  return p;
}

}  // namespace berth::os
