// Command-line errors in docker's words and exit codes; none of these
// reaches a daemon (the socket given does not exist).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cli.h"

using berth::ctl::Cli;

namespace {

struct Run {
  int code;
  std::string errors;
};

Run run(std::vector<std::string> args) {
  Cli cli;
  berth::ctl::add_all_commands(cli);
  std::string errors;
  cli.capture_errors(&errors);
  if (args[0] != "--address" && args[0] != "-H") {
    args.insert(args.begin(), {"--address", "/nonexistent/berthd-test.sock"});
  }
  args.insert(args.begin(), "berthctl");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  int code = cli.run(static_cast<int>(argv.size()), argv.data());
  return {code, errors};
}

}  // namespace

TEST_CASE("arity errors: docker's message, usage, exit 1") {
  auto r = run({"pull"});
  CHECK(r.code == 1);
  CHECK(
      r.errors ==
      "\"berthctl pull\" requires exactly 1 argument.\nSee 'berthctl pull --help'.\n\n"
      "Usage:  berthctl pull [OPTIONS] NAME[:TAG|@DIGEST]\n\nDownload an image from a registry\n");
  r = run({"image", "pull", "a", "b"});
  CHECK(r.code == 1);
  CHECK(r.errors.starts_with("\"berthctl image pull\" requires exactly 1 argument.\n"));
  r = run({"tag", "a"});
  CHECK(r.errors.starts_with("\"berthctl tag\" requires exactly 2 arguments.\n"));
  r = run({"rmi"});
  CHECK(r.errors.starts_with("\"berthctl rmi\" requires at least 1 argument.\n"));
  r = run({"images", "a", "b"});
  CHECK(r.errors.starts_with("\"berthctl images\" requires at most 1 argument.\n"));
  r = run({"image", "prune", "x"});
  CHECK(r.errors.starts_with("\"berthctl image prune\" accepts no arguments.\n"));
  r = run({"import"});
  CHECK(r.errors.starts_with("\"berthctl import\" requires at least 1 and at most 2 arguments.\n"));
}

TEST_CASE("flag errors: pflag's message, exit 125") {
  auto r = run({"images", "--bogus"});
  CHECK(r.code == 125);
  CHECK(r.errors == "unknown flag: --bogus\nSee 'berthctl images --help'.\n");
  r = run({"image", "ls", "-x"});
  CHECK(r.code == 125);
  CHECK(r.errors == "unknown shorthand flag: 'x' in -x\nSee 'berthctl image ls --help'.\n");
  r = run({"pull", "--platform"});
  CHECK(r.code == 125);
}

TEST_CASE("unknown command") {
  auto r = run({"frobnicate"});
  CHECK(r.code == 1);
  CHECK(r.errors == "berthctl: 'frobnicate' is not a berthctl command.\nSee 'berthctl --help'\n");
}

TEST_CASE("client-side checks come before any connection") {
  auto r = run({"images", "--filter", "dangling"});
  CHECK(r.code == 1);
  CHECK(r.errors == "bad format of filter (expected name=value)\n");
  r = run({"pull", "Busybox"});
  CHECK(r.code == 1);
  CHECK(r.errors.starts_with("berthctl: "));
  r = run({"--address", "/a", "-H", "unix:///b", "images"});
  CHECK(r.code == 1);
  CHECK(r.errors == "berthctl: specify either --address or -H, not both\n");
  r = run({"-H", "tcp://127.0.0.1:2375", "images"});
  CHECK(r.errors.starts_with("berthctl: invalid address"));
}

TEST_CASE("no daemon: docker's cannot-connect line") {
  auto r = run({"images"});
  CHECK(r.code == 1);
  CHECK(r.errors ==
        "Cannot connect to the berth daemon at unix:///nonexistent/berthd-test.sock. "
        "Is the berth daemon running?\n");
}
