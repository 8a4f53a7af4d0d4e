#include <doctest/doctest.h>

#include "process_io.h"

using namespace berth::shim;

TEST_CASE("binary:// URIs: path, then the query as sorted key/value arguments") {
  auto u = parse_binary_uri("binary:///usr/bin/logger?zeta=1&alpha=two%20words&flag");
  REQUIRE(u.ok());
  CHECK(u->path == "/usr/bin/logger");
  CHECK(u->args == std::vector<std::string>{"alpha", "two words", "flag", "", "zeta", "1"});
  u = parse_binary_uri("binary:///opt/my%20logger");
  REQUIRE(u.ok());
  CHECK(u->path == "/opt/my logger");
  CHECK(u->args.empty());
  u = parse_binary_uri("binary:///l?a=1&a=2&b=x+y");
  REQUIRE(u.ok());
  CHECK(u->args == std::vector<std::string>{"a", "1", "b", "x y"});  // the first value of a key
  CHECK_FALSE(parse_binary_uri("binary://relative/logger").ok());
  CHECK_FALSE(parse_binary_uri("binary:///l?a=%zz").ok());
  CHECK_FALSE(parse_binary_uri("file:///x").ok());
}
