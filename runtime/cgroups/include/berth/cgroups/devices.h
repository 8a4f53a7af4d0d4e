#pragma once
// Device access control. cgroup v1 has a devices controller that takes the
// rules as text; cgroup v2 has none: a BPF_PROG_TYPE_CGROUP_DEVICE program
// attached to the cgroup decides every open and mknod of a device node.
//
// Both get the same semantics: the rules are first run through an emulation
// of the v1 controller (emulate_device_rules), which leaves a default
// (allow or deny everything) and exceptions to it, and the v2 program checks
// exactly those. Like v1, an exception "allow" rule must cover all the
// access asked for; a "deny" exception denies when it covers any of it.

#include <cstdint>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/cgroups/resources.h"

namespace berth::cgroups {

// runc's defaults for every container: mknod of any node, /dev/null, zero,
// full, random, urandom, tty, ptmx, pts/* and net/tun. Deliberately not
// /dev/console (5:1): a container gets its console as a pts.
std::vector<DeviceRule> default_device_rules();

struct DeviceRuleset {
  bool default_allow = false;
  // Every exception has allow == !default_allow and a type of 'c' or 'b';
  // sorted by major, minor, type so that the program is deterministic.
  std::vector<DeviceRule> exceptions;
};

// The state the v1 controller would be in after "a" is written to
// devices.deny and then each rule, in order, to devices.allow or
// devices.deny (what apply_resources does on v1). So a list that never allows
// anything denies everything, as with runc on v2. A rule that would need
// a hole punched into a wildcard exception (allow c *:* rwm, then deny
// c 1:3 rwm) is an error: v1 would silently keep allowing 1:3.
Result<DeviceRuleset> emulate_device_rules(const std::vector<DeviceRule>& rules);

// One eBPF instruction, the fields of struct bpf_insn.
struct BpfInsn {
  uint8_t code = 0;
  uint8_t dst = 0, src = 0;  // registers, 4 bits each in the kernel's struct
  int16_t off = 0;
  int32_t imm = 0;
};

// The program for a ruleset: returns 1 to allow, 0 to deny.
std::vector<BpfInsn> device_filter_program(const DeviceRuleset& ruleset);

// Assembler-like text of a program, one instruction per line
// ("r2 = *(u32 *)(r1 + 0)"), for tests and error reports.
std::string disassemble(const std::vector<BpfInsn>& program);

// Loads the program and attaches it to the cgroup2 directory with
// BPF_F_ALLOW_MULTI, then detaches the device programs that were attached
// before (an update replaces the filter; until then both apply, which can
// only deny more). No RLIMIT_MEMLOCK raise: since Linux 5.11 BPF memory is
// charged to the memory cgroup, and a raise is not possible without
// CAP_SYS_RESOURCE anyway.
Status attach_device_filter(const std::string& cgroup_dir, const std::vector<BpfInsn>& program);

// The BPF device programs attached to a cgroup2 directory, by id.
Result<std::vector<uint32_t>> attached_device_filters(const std::string& cgroup_dir);

}  // namespace berth::cgroups
