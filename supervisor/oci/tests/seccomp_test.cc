#include <doctest/doctest.h>

#include <algorithm>

#include "rules.h"

using namespace berth;
using namespace berth::oci;

namespace {

using Strings = std::vector<std::string>;

const SeccompRule* rule_for(const Seccomp& s, std::string_view name, size_t nth = 0) {
  for (const auto& r : s.syscalls)
    if (std::find(r.names.begin(), r.names.end(), name) != r.names.end() && nth-- == 0) return &r;
  return nullptr;
}

Seccomp default_for(const Strings& bounding, std::string_view kernel = "6.1.0-13-amd64") {
  auto s = convert_seccomp(default_seccomp_profile(), bounding, kernel, "default");
  REQUIRE(s.ok());
  REQUIRE(s->has_value());
  return **s;
}

}  // namespace

TEST_CASE("seccomp: the default profile denies with EPERM and allows the common calls") {
  auto s = default_for(default_capabilities());
  CHECK(s.default_action == "SCMP_ACT_ERRNO");
  CHECK(*s.default_errno_ret == 1);
#if defined(__x86_64__)
  CHECK(s.architectures == Strings{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"});
  CHECK(rule_for(s, "arch_prctl"));
  CHECK(rule_for(s, "modify_ldt"));
  CHECK(!rule_for(s, "set_tls"));
#endif
  CHECK(!rule_for(s, "s390_runtime_instr"));
  for (auto name : {"read", "openat2", "clone3", "io_uring_setup", "statx", "rseq", "chroot"})
    CHECK_MESSAGE(rule_for(s, name), name);
  for (auto name : {"mount", "unshare", "setns", "bpf", "reboot", "kexec_load", "keyctl", "add_key",
                    "init_module", "open_by_handle_at", "userfaultfd"})
    CHECK_MESSAGE(!rule_for(s, name), name);
}

TEST_CASE("seccomp: rules conditional on the bounding set") {
  // Without CAP_SYS_ADMIN: clone without namespace flags, clone3 ENOSYS.
  auto s = default_for(default_capabilities());
  const SeccompRule* clone = rule_for(s, "clone");
  REQUIRE(clone);
  REQUIRE(clone->args.size() == 1);
  CHECK(clone->args[0].op == "SCMP_CMP_MASKED_EQ");
  CHECK(clone->args[0].value == 0x7E020000);
  const SeccompRule* clone3 = rule_for(s, "clone3");
  REQUIRE(clone3);
  CHECK(clone3->action == "SCMP_ACT_ERRNO");
  CHECK(*clone3->errno_ret == 38);
  // With it: mount, unshare, and an unconditional clone.
  auto caps = default_capabilities();
  caps.push_back("CAP_SYS_ADMIN");
  auto admin = default_for(caps);
  CHECK(rule_for(admin, "mount"));
  CHECK(rule_for(admin, "clone")->args.empty());
  CHECK(rule_for(admin, "clone3")->action == "SCMP_ACT_ALLOW");
  // chroot only with CAP_SYS_CHROOT (a default one)
  auto no_chroot = default_capabilities();
  no_chroot.erase(std::find(no_chroot.begin(), no_chroot.end(), "CAP_SYS_CHROOT"));
  CHECK(!rule_for(default_for(no_chroot), "chroot"));
}

TEST_CASE("seccomp: minKernel rules follow the kernel release") {
  CHECK(rule_for(default_for(default_capabilities(), "4.8.0"), "ptrace"));
  CHECK(!rule_for(default_for(default_capabilities(), "4.4.0-210-generic"), "ptrace"));
  CHECK(!convert_seccomp(default_seccomp_profile(), {}, "garbage", "default").ok());
}

TEST_CASE("seccomp: personality only with docker's five values") {
  auto s = default_for(default_capabilities());
  std::vector<uint64_t> values;
  for (size_t i = 0; const SeccompRule* r = rule_for(s, "personality", i); ++i)
    values.push_back(r->args.at(0).value);
  CHECK(values == std::vector<uint64_t>{0, 8, 131072, 131080, 4294967295});
}

TEST_CASE("seccomp: a user profile in docker's format") {
  auto s =
      convert_seccomp(R"({"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],
      "syscalls":[{"name":"mkdir","action":"SCMP_ACT_ERRNO","errnoRet":13},
                  {"names":["chmod"],"action":"SCMP_ACT_ERRNO","args":[{"index":1,"value":511,"op":"SCMP_CMP_EQ"}]},
                  {"names":["reboot"],"action":"SCMP_ACT_KILL","includes":{"caps":["CAP_SYS_BOOT"]}}]})",
                      default_capabilities(), "6.1", "profile.json");
  REQUIRE(s.ok());
  REQUIRE(s->has_value());
  auto& p = **s;
  CHECK(p.architectures == Strings{"SCMP_ARCH_X86_64"});
  REQUIRE(p.syscalls.size() == 2);
  CHECK(p.syscalls[0].names == Strings{"mkdir"});
  CHECK(*p.syscalls[0].errno_ret == 13);
  CHECK(p.syscalls[1].args[0].index == 1);
  // No default action and no rules: no filter at all, as docker.
  auto off = convert_seccomp("{}", {}, "6.1", "p");
  REQUIRE(off.ok());
  CHECK(!off->has_value());
}

TEST_CASE("seccomp: bad profiles fail naming what is wrong") {
  auto json = convert_seccomp("{nope", {}, "6.1", "p");
  REQUIRE(!json.ok());
  CHECK(json.error().message().rfind("Decoding seccomp profile failed", 0) == 0);
  auto both = convert_seccomp(
      R"({"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]})",
      {}, "6.1", "p");
  REQUIRE(!both.ok());
  CHECK(both.error().message().find("use either 'architectures' or 'archMap'") !=
        std::string::npos);
  auto names = convert_seccomp(
      R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ALLOW"}]})",
      {}, "6.1", "p");
  REQUIRE(!names.ok());
  CHECK(names.error().message().find("syscalls[0]") != std::string::npos);
  CHECK(!convert_seccomp(R"({"defaultAction":"SCMP_ACT_NOPE"})", {}, "6.1", "p").ok());
  CHECK(
      !convert_seccomp(
           R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["a"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_XX"}]}]})",
           {}, "6.1", "p")
           .ok());
}
