#include "berth/linux/hooks.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <string>

#include "berth/base/sys.h"

using berth::spec::Hook;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/berth-hooks-test.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { (void)berth::sys::remove_all(path); }
};

Hook sh(std::string script, std::vector<std::string> env = {}) {
  Hook h;
  h.path = "/bin/sh";
  h.args = {"sh", "-c", std::move(script)};
  h.env = std::move(env);
  return h;
}

std::string read(const std::string& path) {
  auto text = berth::sys::read_file(path);
  REQUIRE_MESSAGE(text.ok(), path);
  return *text;
}

double seconds_since(const struct timespec& start) {
  struct timespec now {};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return double(now.tv_sec - start.tv_sec) + double(now.tv_nsec - start.tv_nsec) / 1e9;
}

}  // namespace

TEST_CASE("run_hook: the state arrives on stdin") {
  TempDir tmp;
  const std::string state = R"({"ociVersion":"1.2.0","id":"c1","status":"creating","pid":0})";
  auto st = berth::os::run_hook(sh("cat > " + tmp.path + "/state"), "prestart", 0, state);
  REQUIRE_MESSAGE(st.ok(), st.error().to_string());
  CHECK(read(tmp.path + "/state") == state);
}

TEST_CASE("run_hook: a large state reaches a slow reader whole") {
  TempDir tmp;
  std::string state(1 << 20, 'x');  // far more than a pipe holds
  auto st =
      berth::os::run_hook(sh("sleep 0.2; cat > " + tmp.path + "/state"), "prestart", 0, state);
  REQUIRE_MESSAGE(st.ok(), st.error().to_string());
  CHECK(read(tmp.path + "/state").size() == state.size());
}

TEST_CASE("run_hook: args and env are passed exactly") {
  TempDir tmp;
  Hook h;
  h.path = "/bin/sh";
  h.args = {"my-argv0", "-c",
            "tr '\\0' '|' < /proc/$$/cmdline > " + tmp.path + "/args; env > " + tmp.path + "/env",
            "one", "two words"};
  h.env = {"FOO=bar", "EMPTY="};
  auto st = berth::os::run_hook(h, "poststart", 0, "{}");
  REQUIRE_MESSAGE(st.ok(), st.error().to_string());
  CHECK(read(tmp.path + "/args") == "my-argv0|-c|" + h.args[2] + "|one|two words|");
  // sh adds PWD (and may add SHLVL/_) itself; nothing of ours is there.
  std::string env = read(tmp.path + "/env");
  CHECK(env.find("FOO=bar\n") != std::string::npos);
  CHECK(env.find("EMPTY=\n") != std::string::npos);
  CHECK(env.find("PATH=") == std::string::npos);
  CHECK(env.find("HOME=") == std::string::npos);
}

TEST_CASE("run_hook: argv[0] is the path when args is empty") {
  TempDir tmp;
  std::string script = tmp.path + "/hook.sh";
  REQUIRE(berth::sys::write_file_atomic(
              script, "#!/bin/sh\necho \"$0\" > \"$(dirname \"$0\")/argv0\"\n", 0755)
              .ok());
  Hook h;
  h.path = script;
  h.env = {"PATH=/usr/bin:/bin"};
  auto st = berth::os::run_hook(h, "poststop", 0, "{}");
  REQUIRE_MESSAGE(st.ok(), st.error().to_string());
  CHECK(read(tmp.path + "/argv0") == script + "\n");
}

TEST_CASE("run_hook: a hook that does not read its stdin is fine") {
  auto st = berth::os::run_hook(sh("exit 0"), "createRuntime", 0, std::string(1 << 20, 'x'));
  CHECK_MESSAGE(st.ok(), st.error().to_string());
}

TEST_CASE("run_hook: non-zero exit and death by signal are errors naming the hook") {
  Hook h;
  h.path = "/bin/false";
  auto st = berth::os::run_hook(h, "createRuntime", 0, "{}");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().to_string() == "createRuntime hook 0 (`/bin/false`): exited with status 1");

  auto killed = berth::os::run_hook(sh("kill -TERM $$"), "poststop", 3, "{}");
  REQUIRE_FALSE(killed.ok());
  CHECK(killed.error().to_string() == "poststop hook 3 (`/bin/sh`): killed by signal 15 (SIGTERM)");
}

TEST_CASE("run_hook: timeout kills the hook") {
  Hook h;
  h.path = "/bin/sleep";
  h.args = {"sleep", "10"};
  h.timeout = 1;
  struct timespec start {};
  ::clock_gettime(CLOCK_MONOTONIC, &start);
  auto st = berth::os::run_hook(h, "createContainer", 1, "{}");
  double took = seconds_since(start);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().to_string() ==
        "createContainer hook 1 (`/bin/sleep`): timed out after 1 second");
  CHECK(took >= 0.9);
  CHECK(took < 3);
}

TEST_CASE("run_hook: a missing binary is an exec failure") {
  Hook h;
  h.path = "/nonexistent/hook";
  auto st = berth::os::run_hook(h, "startContainer", 0, "{}");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == ENOENT);
  CHECK(st.error().to_string() ==
        "startContainer hook 0 (`/nonexistent/hook`): exec failed: No such file or directory");
}

TEST_CASE("run_hook: descriptors of the runtime do not reach the hook") {
  TempDir tmp;
  // An inheritable descriptor (no CLOEXEC), as a careless library might
  // leave; high, so that no descriptor of ls itself takes its number.
  int leaked = ::fcntl(2, F_DUPFD, 100);
  REQUIRE(leaked >= 100);
  auto st = berth::os::run_hook(sh("ls /proc/self/fd > " + tmp.path + "/fds"), "prestart", 0, "{}");
  ::close(leaked);
  REQUIRE_MESSAGE(st.ok(), st.error().to_string());
  std::string fds = read(tmp.path + "/fds");
  CHECK(fds.find("\n" + std::to_string(leaked) + "\n") == std::string::npos);
  CHECK(fds.find("0\n1\n2\n") == 0);
}

TEST_CASE("run_hooks stops at the first failure") {
  TempDir tmp;
  std::vector<Hook> hooks = {sh("touch " + tmp.path + "/a"), sh("exit 7"),
                             sh("touch " + tmp.path + "/c")};
  auto st = berth::os::run_hooks(hooks, "prestart", "{}");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().to_string() == "prestart hook 1 (`/bin/sh`): exited with status 7");
  CHECK(berth::sys::exists(tmp.path + "/a"));
  CHECK_FALSE(berth::sys::exists(tmp.path + "/c"));
}
