// Device rules: the v1 controller's semantics emulated (so that v1 and v2
// behave alike), and the cgroup-BPF program that enforces them on v2. Pure
// data; loading the program is devices_bpf.cc.

#include "berth/cgroups/devices.h"

#include <linux/bpf.h>

#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace berth::cgroups {

namespace {

// Access bits as the kernel passes them to the program (BPF_DEVCG_ACC_*).
constexpr int kAccessAll = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;

int access_bits(const std::string& access) {
  int bits = 0;
  for (char c : access) {
    if (c == 'r') bits |= BPF_DEVCG_ACC_READ;
    if (c == 'w') bits |= BPF_DEVCG_ACC_WRITE;
    if (c == 'm') bits |= BPF_DEVCG_ACC_MKNOD;
  }
  return bits;
}

std::string access_text(int bits) {
  std::string out;
  if (bits & BPF_DEVCG_ACC_READ) out += 'r';
  if (bits & BPF_DEVCG_ACC_WRITE) out += 'w';
  if (bits & BPF_DEVCG_ACC_MKNOD) out += 'm';
  return out;
}

std::string rule_text(char type, int64_t major, int64_t minor, const std::string& access) {
  auto number = [](int64_t n) { return n < 0 ? std::string("*") : std::to_string(n); };
  return std::string(1, type) + " " + number(major) + ":" + number(minor) + " " + access;
}

// Keyed by (major, minor, type): the order runc sorts exceptions in, so a
// program for the same rules is the same program.
using Key = std::tuple<int64_t, int64_t, char>;

struct Emulator {
  bool default_allow = false;
  std::map<Key, int> exceptions;  // access bits

  void add(const Key& key, int bits) { exceptions[key] |= bits; }

  // Like v1's dev_exception_rm: only the exception with exactly this
  // type/major/minor loses the bits. A wildcard exception that covers the
  // device keeps granting them, so refuse instead of pretending.
  Status remove(const Key& key, int bits) {
    auto [major, minor, type] = key;
    for (const Key& wider : {Key{-1, minor, type}, Key{major, -1, type}, Key{-1, -1, type}}) {
      if (wider == key) continue;
      auto it = exceptions.find(wider);
      if (it != exceptions.end() && (it->second & bits) != 0)
        return make_error(
            "device rule \"" + rule_text(type, major, minor, access_text(bits)) +
            "\" would punch a hole into the wildcard rule \"" +
            rule_text(type, std::get<0>(wider), std::get<1>(wider), access_text(it->second)) +
            "\", which the devices cgroup cannot do");
    }
    auto it = exceptions.find(key);
    if (it == exceptions.end()) return {};
    it->second &= ~bits;
    if (it->second == 0) exceptions.erase(it);
    return {};
  }

  Status apply(const DeviceRule& rule) {
    // A type "a" rule resets the cgroup to allow or deny everything.
    if (rule.type == 'a') {
      default_allow = rule.allow;
      exceptions.clear();
      return {};
    }
    Key key{rule.major, rule.minor, rule.type};
    int bits = access_bits(rule.access);
    // A rule with the default's action removes exceptions; the other adds one.
    if (rule.allow == default_allow) return remove(key, bits);
    add(key, bits);
    return {};
  }
};

BpfInsn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  BpfInsn i;
  i.code = code;
  i.dst = dst;
  i.src = src;
  i.off = off;
  i.imm = imm;
  return i;
}

// Registers the program keeps its inputs in.
enum : uint8_t { kR0 = 0, kR1 = 1, kType = 2, kAccess = 3, kMajor = 4, kMinor = 5 };

}  // namespace

std::vector<DeviceRule> default_device_rules() {
  auto rule = [](char type, int64_t major, int64_t minor, const char* access) {
    DeviceRule r;
    r.allow = true;
    r.type = type;
    r.major = major;
    r.minor = minor;
    r.access = access;
    return r;
  };
  return {
      rule('c', -1, -1, "m"),    rule('b', -1, -1, "m"),  // mknod; opening needs a rule below
      rule('c', 1, 3, "rwm"),                             // /dev/null
      rule('c', 1, 8, "rwm"),                             // /dev/random
      rule('c', 1, 7, "rwm"),                             // /dev/full
      rule('c', 5, 0, "rwm"),                             // /dev/tty
      rule('c', 1, 5, "rwm"),                             // /dev/zero
      rule('c', 1, 9, "rwm"),                             // /dev/urandom
      rule('c', 136, -1, "rwm"),                          // /dev/pts/*
      rule('c', 5, 2, "rwm"),                             // /dev/ptmx
      rule('c', 10, 200, "rwm"),                          // /dev/net/tun
  };
}

Result<DeviceRuleset> emulate_device_rules(const std::vector<DeviceRule>& rules) {
  Emulator e;  // after "a" written to devices.deny: nothing allowed
  for (const auto& rule : rules) BERTH_TRY(e.apply(rule));
  DeviceRuleset out;
  out.default_allow = e.default_allow;
  for (const auto& [key, bits] : e.exceptions) {
    DeviceRule r;
    r.allow = !e.default_allow;
    r.major = std::get<0>(key);
    r.minor = std::get<1>(key);
    r.type = std::get<2>(key);
    r.access = access_text(bits);
    out.exceptions.push_back(std::move(r));
  }
  return out;
}

// The program (struct bpf_cgroup_dev_ctx { u32 access_type; u32 major;
// u32 minor; }, access_type = access << 16 | type):
//
//   r2 = type, r3 = access, r4 = major, r5 = minor
//   per exception: a block that jumps to the next block on any mismatch and
//                  otherwise returns the exception's verdict
//   return the default
//
// The comparisons are JMP32 (Linux 5.1): the numbers are u32, and a 64-bit
// compare against a sign-extended immediate would miss values >= 2^31.
std::vector<BpfInsn> device_filter_program(const DeviceRuleset& ruleset) {
  std::vector<BpfInsn> p;
  p.push_back(insn(BPF_LDX | BPF_MEM | BPF_W, kType, kR1, 0, 0));
  p.push_back(insn(BPF_ALU | BPF_AND | BPF_K, kType, 0, 0, 0xffff));
  p.push_back(insn(BPF_LDX | BPF_MEM | BPF_W, kAccess, kR1, 0, 0));
  p.push_back(insn(BPF_ALU | BPF_RSH | BPF_K, kAccess, 0, 0, 16));
  p.push_back(insn(BPF_LDX | BPF_MEM | BPF_W, kMajor, kR1, 4, 0));
  p.push_back(insn(BPF_LDX | BPF_MEM | BPF_W, kMinor, kR1, 8, 0));

  for (const auto& rule : ruleset.exceptions) {
    std::vector<size_t> to_next;  // jumps to patch with the next block's index
    auto jump = [&](BpfInsn i) {
      to_next.push_back(p.size());
      p.push_back(i);
    };
    int type = rule.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
    jump(insn(BPF_JMP32 | BPF_JNE | BPF_K, kType, 0, 0, type));
    int bits = access_bits(rule.access);
    if (bits != kAccessAll) {
      // r1 = access & bits. An allow exception must grant every bit asked
      // for (r1 == access); a deny exception applies when it names any of
      // them (r1 != 0) -- v1's match_exception and match_exception_partial.
      p.push_back(insn(BPF_ALU | BPF_MOV | BPF_X, kR1, kAccess, 0, 0));
      p.push_back(insn(BPF_ALU | BPF_AND | BPF_K, kR1, 0, 0, bits));
      if (rule.allow)
        jump(insn(BPF_JMP32 | BPF_JNE | BPF_X, kR1, kAccess, 0, 0));
      else
        jump(insn(BPF_JMP32 | BPF_JEQ | BPF_K, kR1, 0, 0, 0));
    }
    if (rule.major >= 0)
      jump(insn(BPF_JMP32 | BPF_JNE | BPF_K, kMajor, 0, 0, static_cast<int32_t>(rule.major)));
    if (rule.minor >= 0)
      jump(insn(BPF_JMP32 | BPF_JNE | BPF_K, kMinor, 0, 0, static_cast<int32_t>(rule.minor)));
    p.push_back(insn(BPF_ALU | BPF_MOV | BPF_K, kR0, 0, 0, rule.allow ? 1 : 0));
    p.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    // Offsets count from the instruction after the jump.
    for (size_t at : to_next) p[at].off = static_cast<int16_t>(p.size() - at - 1);
  }
  p.push_back(insn(BPF_ALU | BPF_MOV | BPF_K, kR0, 0, 0, ruleset.default_allow ? 1 : 0));
  p.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  return p;
}

std::string disassemble(const std::vector<BpfInsn>& program) {
  std::string out;
  auto reg = [](int r) { return "r" + std::to_string(r); };
  auto wreg = [](int r) { return "w" + std::to_string(r); };
  for (size_t i = 0; i < program.size(); ++i) {
    const BpfInsn& x = program[i];
    std::string line;
    switch (x.code) {
      case BPF_LDX | BPF_MEM | BPF_W:
        line = reg(x.dst) + " = *(u32 *)(" + reg(x.src) + " + " + std::to_string(x.off) + ")";
        break;
      case BPF_ALU | BPF_AND | BPF_K: line = wreg(x.dst) + " &= " + std::to_string(x.imm); break;
      case BPF_ALU | BPF_RSH | BPF_K: line = wreg(x.dst) + " >>= " + std::to_string(x.imm); break;
      case BPF_ALU | BPF_MOV | BPF_X: line = wreg(x.dst) + " = " + wreg(x.src); break;
      case BPF_ALU | BPF_MOV | BPF_K: line = wreg(x.dst) + " = " + std::to_string(x.imm); break;
      case BPF_JMP32 | BPF_JNE | BPF_K:
        line = "if " + wreg(x.dst) + " != " + std::to_string(x.imm) + " goto +" +
               std::to_string(x.off);
        break;
      case BPF_JMP32 | BPF_JNE | BPF_X:
        line = "if " + wreg(x.dst) + " != " + wreg(x.src) + " goto +" + std::to_string(x.off);
        break;
      case BPF_JMP32 | BPF_JEQ | BPF_K:
        line = "if " + wreg(x.dst) + " == " + std::to_string(x.imm) + " goto +" +
               std::to_string(x.off);
        break;
      case BPF_JMP | BPF_EXIT: line = "exit"; break;
      default: line = "unknown opcode " + std::to_string(x.code);
    }
    out += std::to_string(i) + ": " + line + "\n";
  }
  return out;
}

}  // namespace berth::cgroups
