// Device rules as data: the v1 emulation, the generated BPF program (as
// text), and the program's verdicts, computed by a small interpreter of the
// instructions the generator uses.

#include "berth/cgroups/devices.h"

#include <doctest/doctest.h>
#include <linux/bpf.h>

#include <string>
#include <vector>

using berth::cgroups::BpfInsn;
using berth::cgroups::device_filter_program;
using berth::cgroups::DeviceRule;
using berth::cgroups::DeviceRuleset;
using berth::cgroups::disassemble;
using berth::cgroups::emulate_device_rules;

namespace {

DeviceRule rule(bool allow, char type, int64_t major, int64_t minor, const char* access) {
  DeviceRule r;
  r.allow = allow;
  r.type = type;
  r.major = major;
  r.minor = minor;
  r.access = access;
  return r;
}

DeviceRuleset emulate(const std::vector<DeviceRule>& rules) {
  auto r = emulate_device_rules(rules);
  if (!r) FAIL_CHECK(r.error().to_string());
  REQUIRE(r.ok());
  return *r;
}

// Runs the program on one access, as the kernel would: 1 allow, 0 deny.
// Only the instructions the generator emits are understood.
int run(const std::vector<BpfInsn>& p, char type, const char* access, uint32_t major,
        uint32_t minor) {
  uint32_t bits = 0;
  for (const char* c = access; *c; ++c)
    bits |= *c == 'r' ? BPF_DEVCG_ACC_READ : *c == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
  uint32_t ctx[3] = {bits << 16 | (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR), major,
                     minor};
  uint64_t reg[11] = {};
  for (size_t pc = 0; pc < p.size(); ++pc) {
    const BpfInsn& i = p[pc];
    uint32_t dst = static_cast<uint32_t>(reg[i.dst]);
    uint32_t src = static_cast<uint32_t>(reg[i.src]);
    uint32_t imm = static_cast<uint32_t>(i.imm);
    switch (i.code) {
      case BPF_LDX | BPF_MEM | BPF_W:
        REQUIRE(i.src == 1);
        reg[i.dst] = ctx[i.off / 4];
        break;
      case BPF_ALU | BPF_AND | BPF_K: reg[i.dst] = dst & imm; break;
      case BPF_ALU | BPF_RSH | BPF_K: reg[i.dst] = dst >> imm; break;
      case BPF_ALU | BPF_MOV | BPF_X: reg[i.dst] = src; break;
      case BPF_ALU | BPF_MOV | BPF_K: reg[i.dst] = imm; break;
      case BPF_JMP32 | BPF_JNE | BPF_K:
        if (dst != imm) pc += i.off;
        break;
      case BPF_JMP32 | BPF_JNE | BPF_X:
        if (dst != src) pc += i.off;
        break;
      case BPF_JMP32 | BPF_JEQ | BPF_K:
        if (dst == imm) pc += i.off;
        break;
      case BPF_JMP | BPF_EXIT: return static_cast<int>(reg[0]);
      default: FAIL("unexpected opcode " << int(i.code)); return -1;
    }
    REQUIRE(pc + 1 <= p.size());
  }
  FAIL("ran off the end");
  return -1;
}

}  // namespace

TEST_CASE("devices: the emulation starts from deny-all") {
  DeviceRuleset none = emulate({});
  CHECK_FALSE(none.default_allow);
  CHECK(none.exceptions.empty());
  CHECK(disassemble(device_filter_program(none)) ==
        "0: r2 = *(u32 *)(r1 + 0)\n"
        "1: w2 &= 65535\n"
        "2: r3 = *(u32 *)(r1 + 0)\n"
        "3: w3 >>= 16\n"
        "4: r4 = *(u32 *)(r1 + 4)\n"
        "5: r5 = *(u32 *)(r1 + 8)\n"
        "6: w0 = 0\n"
        "7: exit\n");
}

TEST_CASE("devices: an allow list becomes sorted exceptions to deny") {
  DeviceRuleset rs = emulate({rule(false, 'a', -1, -1, "rwm"), rule(true, 'c', 1, 5, "rwm"),
                              rule(true, 'c', 1, 3, "r"), rule(true, 'c', 1, 3, "w"),
                              rule(true, 'b', 8, -1, "m")});
  CHECK_FALSE(rs.default_allow);
  REQUIRE(rs.exceptions.size() == 3);
  // Same device, two rules: one exception with both accesses.
  CHECK(rs.exceptions[0].type == 'c');
  CHECK(rs.exceptions[0].minor == 3);
  CHECK(rs.exceptions[0].access == "rw");
  CHECK(rs.exceptions[1].minor == 5);
  CHECK(rs.exceptions[2].type == 'b');
  CHECK(rs.exceptions[2].minor == -1);

  auto p = device_filter_program(rs);
  CHECK(disassemble(p) ==
        "0: r2 = *(u32 *)(r1 + 0)\n"
        "1: w2 &= 65535\n"
        "2: r3 = *(u32 *)(r1 + 0)\n"
        "3: w3 >>= 16\n"
        "4: r4 = *(u32 *)(r1 + 4)\n"
        "5: r5 = *(u32 *)(r1 + 8)\n"
        // c 1:3 rw: the access asked must be within rw
        "6: if w2 != 2 goto +7\n"
        "7: w1 = w3\n"
        "8: w1 &= 6\n"
        "9: if w1 != w3 goto +4\n"
        "10: if w4 != 1 goto +3\n"
        "11: if w5 != 3 goto +2\n"
        "12: w0 = 1\n"
        "13: exit\n"
        // c 1:5 rwm: no access check
        "14: if w2 != 2 goto +4\n"
        "15: if w4 != 1 goto +3\n"
        "16: if w5 != 5 goto +2\n"
        "17: w0 = 1\n"
        "18: exit\n"
        // b 8:* m: no minor check
        "19: if w2 != 1 goto +6\n"
        "20: w1 = w3\n"
        "21: w1 &= 1\n"
        "22: if w1 != w3 goto +3\n"
        "23: if w4 != 8 goto +2\n"
        "24: w0 = 1\n"
        "25: exit\n"
        "26: w0 = 0\n"
        "27: exit\n");

  CHECK(run(p, 'c', "rw", 1, 3) == 1);
  CHECK(run(p, 'c', "r", 1, 3) == 1);
  CHECK(run(p, 'c', "m", 1, 3) == 0);  // mknod was not allowed for 1:3
  CHECK(run(p, 'c', "rwm", 1, 5) == 1);
  CHECK(run(p, 'c', "r", 1, 7) == 0);
  CHECK(run(p, 'b', "m", 8, 17) == 1);
  CHECK(run(p, 'b', "r", 8, 0) == 0);
  CHECK(run(p, 'c', "m", 8, 0) == 0);  // type matters
}

TEST_CASE("devices: a deny list over allow-all") {
  DeviceRuleset rs = emulate(
      {rule(true, 'a', -1, -1, "rwm"), rule(false, 'c', 1, 3, "w"), rule(false, 'b', -1, -1, "m")});
  CHECK(rs.default_allow);
  REQUIRE(rs.exceptions.size() == 2);
  auto p = device_filter_program(rs);
  // A deny exception applies when it covers any of the access asked for,
  // as v1's match_exception_partial: "rw" on 1:3 is denied.
  CHECK(run(p, 'c', "w", 1, 3) == 0);
  CHECK(run(p, 'c', "rw", 1, 3) == 0);
  CHECK(run(p, 'c', "r", 1, 3) == 1);
  CHECK(run(p, 'c', "m", 1, 3) == 1);
  CHECK(run(p, 'b', "m", 8, 0) == 0);
  CHECK(run(p, 'b', "rw", 8, 0) == 1);
  CHECK(run(p, 'c', "rwm", 4, 1) == 1);
}

TEST_CASE("devices: later rules take exceptions away; 'a' resets") {
  // Allow 1:3 rwm, then deny its w: 1:3 keeps rm.
  DeviceRuleset rs = emulate({rule(true, 'c', 1, 3, "rwm"), rule(false, 'c', 1, 3, "w")});
  REQUIRE(rs.exceptions.size() == 1);
  CHECK(rs.exceptions[0].access == "rm");
  // Denying all of it removes the exception.
  CHECK(emulate({rule(true, 'c', 1, 3, "rw"), rule(false, 'c', 1, 3, "rwm")}).exceptions.empty());
  // A type "a" rule anywhere drops what came before.
  DeviceRuleset reset = emulate(
      {rule(true, 'c', 1, 3, "rwm"), rule(true, 'a', 5, 5, "r"), rule(false, 'a', -1, -1, "rwm")});
  CHECK_FALSE(reset.default_allow);
  CHECK(reset.exceptions.empty());
}

TEST_CASE("devices: no holes in wildcard rules") {
  auto r = emulate_device_rules({rule(true, 'c', 1, -1, "rw"), rule(false, 'c', 1, 3, "r")});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().to_string() ==
        "device rule \"c 1:3 r\" would punch a hole into the wildcard rule \"c 1:* rw\", which "
        "the devices cgroup cannot do");
  // Disjoint access is fine: nothing of the wildcard is taken away.
  CHECK(emulate_device_rules({rule(true, 'c', 1, -1, "rw"), rule(false, 'c', 1, 3, "m")}).ok());
  // And removing the wildcard itself is fine.
  CHECK(emulate({rule(true, 'c', 1, -1, "rw"), rule(false, 'c', 1, -1, "rw")}).exceptions.empty());
}

TEST_CASE("devices: runc's defaults allow what a container needs, nothing else") {
  std::vector<DeviceRule> rules{rule(false, 'a', -1, -1, "rwm")};
  for (auto& r : berth::cgroups::default_device_rules()) rules.push_back(r);
  auto p = device_filter_program(emulate(rules));
  CHECK(run(p, 'c', "rw", 1, 3) == 1);     // /dev/null
  CHECK(run(p, 'c', "rw", 136, 7) == 1);   // /dev/pts/7
  CHECK(run(p, 'c', "m", 8, 0) == 1);      // mknod of anything...
  CHECK(run(p, 'b', "r", 8, 0) == 0);      // ...but not opening it
  CHECK(run(p, 'c', "rw", 5, 1) == 0);     // /dev/console
  CHECK(run(p, 'c', "rw", 10, 229) == 0);  // /dev/fuse
}

TEST_CASE("devices: numbers above 2^31 compare as unsigned 32-bit") {
  auto p = device_filter_program(emulate({rule(true, 'c', 4294967295LL, 0, "rwm")}));
  CHECK(run(p, 'c', "r", 4294967295u, 0) == 1);
  CHECK(run(p, 'c', "r", 2147483647u, 0) == 0);
}
