// Expected strings are go-units' own test cases (size_test.go,
// duration_test.go) and what `docker images` prints for Debian's busybox.
#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>

#include "render/human.h"

using namespace berth::ctl;

namespace {
constexpr double kMB = 1000.0 * 1000;
constexpr double kGB = kMB * 1000;
constexpr double kTB = kGB * 1000;
constexpr double kPB = kTB * 1000;
constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kWeek = 7 * kDay;
constexpr int64_t kMonth = 30 * kDay;
constexpr int64_t kYear = 365 * kDay;
}  // namespace

TEST_CASE("human_size matches go-units HumanSize") {
  CHECK(human_size(1000) == "1kB");
  CHECK(human_size(1024) == "1.024kB");
  CHECK(human_size(1000000) == "1MB");
  CHECK(human_size(1048576) == "1.049MB");
  CHECK(human_size(2 * kMB) == "2MB");
  CHECK(human_size(3.42 * kGB) == "3.42GB");
  CHECK(human_size(5.372 * kTB) == "5.372TB");
  CHECK(human_size(2.22 * kPB) == "2.22PB");
  CHECK(human_size(10000000000000 * kPB) == "1e+04YB");
  CHECK(human_size(0) == "0B");
  CHECK(human_size(999) == "999B");
}

TEST_CASE("human_size with docker images' precision 3") {
  CHECK(human_size(4261550, 3) == "4.26MB");
  CHECK(human_size(1048576, 3) == "1.05MB");
  CHECK(human_size(77800000, 3) == "77.8MB");
  // Go's %g switches to exponent form at the precision, and so does docker.
  CHECK(human_size(999999, 3) == "1e+03kB");
}

TEST_CASE("human_duration matches go-units HumanDuration") {
  CHECK(human_duration(450 * kSecond / 1000) == "Less than a second");
  CHECK(human_duration(1 * kSecond) == "1 second");
  CHECK(human_duration(45 * kSecond) == "45 seconds");
  CHECK(human_duration(59 * kSecond) == "59 seconds");
  CHECK(human_duration(60 * kSecond) == "About a minute");
  CHECK(human_duration(3 * kMinute) == "3 minutes");
  CHECK(human_duration(35 * kMinute + 40 * kSecond) == "35 minutes");
  CHECK(human_duration(1 * kHour) == "About an hour");
  CHECK(human_duration(1 * kHour + 29 * kMinute) == "About an hour");
  CHECK(human_duration(1 * kHour + 31 * kMinute) == "2 hours");
  CHECK(human_duration(3 * kHour + 31 * kMinute) == "4 hours");
  CHECK(human_duration(24 * kHour) == "24 hours");
  CHECK(human_duration(1 * kDay + 12 * kHour) == "36 hours");
  CHECK(human_duration(2 * kDay) == "2 days");
  CHECK(human_duration(13 * kDay + 5 * kHour) == "13 days");
  CHECK(human_duration(2 * kWeek) == "2 weeks");
  CHECK(human_duration(2 * kWeek + 4 * kDay) == "2 weeks");
  CHECK(human_duration(1 * kMonth) == "4 weeks");
  CHECK(human_duration(1 * kMonth + 2 * kWeek) == "6 weeks");
  CHECK(human_duration(2 * kMonth) == "2 months");
  CHECK(human_duration(13 * kMonth) == "13 months");
  CHECK(human_duration(24 * kMonth) == "24 months");
  CHECK(human_duration(24 * kMonth + 2 * kWeek) == "2 years");
  CHECK(human_duration(3 * kYear + 2 * kMonth) == "3 years");
}

TEST_CASE("created_since and times") {
  CHECK(created_since(1000, 1000 + 3600) == "About an hour ago");
  CHECK(created_since(1000, 1000 + 15 * 86400) == "2 weeks ago");
  CHECK(created_since(0, 1000) == "N/A");
  setenv("TZ", "UTC", 1);
  tzset();
  CHECK(created_at(1714557600) == "2024-05-01 10:00:00 +0000 UTC");
  CHECK(rfc3339(1714557600) == "2024-05-01T10:00:00Z");
}

TEST_CASE("truncate_id and ellipsis") {
  CHECK(truncate_id("sha256:4e5021d210f65ebe915670c7089120120bc0a303b90208592851708c1b8c04bd") ==
        "4e5021d210f6");
  CHECK(truncate_id("4e5021d210f65ebe") == "4e5021d210f6");
  CHECK(ellipsis("short", 45) == "short");
  std::string longer = "/bin/sh -c #(nop) ADD file:1234567890abcdef1234567890abcdef in / ";
  std::string cut = ellipsis(longer, 45);
  CHECK(cut == longer.substr(0, 44) + "…");
  CHECK(ellipsis("ééééé", 3) == "éé…");
}
