#pragma once
#include <cerrno>

namespace berth::sys {

// Calls fn until it does not fail with EINTR. Not for close(2): on Linux the
// descriptor is gone even when close reports EINTR.
template <class F>
inline auto retry_eintr(F fn) {
  decltype(fn()) rc;
  do { rc = fn(); } while (rc == -1 && errno == EINTR);
  return rc;
}

}  // namespace berth::sys
