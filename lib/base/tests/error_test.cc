#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "berth/base/error.h"
#include "berth/base/scope_guard.h"
#include "berth/base/unique_fd.h"

using berth::Error;
using berth::Result;
using berth::Status;

namespace {
Result<int> half(int x) {
  if (x % 2) return berth::make_error("half: " + std::to_string(x) + " is odd");
  return x / 2;
}
Result<int> quarter(int x) {
  int h = BERTH_VALUE(half(x));
  return BERTH_VALUE(half(h));
}
Status check_even(int x) {
  BERTH_TRY_CTX(half(x), "check");
  return {};
}
}  // namespace

TEST_CASE("error message carries op, path and errno text") {
  Error e = berth::sys_error(ENOENT, "open", "/no/such");
  CHECK(e.message() == "open `/no/such`");
  CHECK(e.to_string() == "open `/no/such`: No such file or directory");
  Error wrapped = e.wrap("mount /proc");
  CHECK(wrapped.to_string() == "mount /proc: open `/no/such`: No such file or directory");
  CHECK(wrapped.code() == ENOENT);
}

TEST_CASE("result propagation through BERTH_VALUE and BERTH_TRY_CTX") {
  CHECK(quarter(8).value() == 2);
  auto r = quarter(6);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() == "half: 3 is odd");
  auto s = check_even(3);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message() == "check: half: 3 is odd");
  CHECK(check_even(4).ok());
}

TEST_CASE("scope guard runs unless dismissed") {
  int undone = 0;
  {
    berth::ScopeGuard g([&] { ++undone; });
  }
  {
    berth::ScopeGuard g([&] { ++undone; });
    g.dismiss();
  }
  CHECK(undone == 1);
}

TEST_CASE("unique fd closes on destruction and moves ownership") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  ::close(fds[1]);
  {
    berth::UniqueFd a(fds[0]);
    berth::UniqueFd b(std::move(a));
    CHECK_FALSE(a.valid());
    CHECK(b.get() == fds[0]);
  }
  errno = 0;
  CHECK(::fcntl(fds[0], F_GETFD) == -1);
  CHECK(errno == EBADF);
}
