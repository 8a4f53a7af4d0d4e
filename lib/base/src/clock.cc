#include "berth/base/clock.h"
#include "berth/base/sys/event.h"

#include <time.h>

#include <cstdio>

namespace berth {

std::string rfc3339_utc_now() {
  struct timespec ts {};
  sys::clock_gettime(CLOCK_REALTIME, &ts);
  return rfc3339_utc(int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec);
}

std::string rfc3339_utc(int64_t unix_ns) {
  if (unix_ns == 0) return "0001-01-01T00:00:00Z";
  struct timespec ts {};
  ts.tv_sec = unix_ns / 1000000000;
  ts.tv_nsec = unix_ns % 1000000000;
  struct tm tm {};
  ::gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
  return buf;
}

}  // namespace berth
