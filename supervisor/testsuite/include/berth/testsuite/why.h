#pragma once
// The error of a Result for a doctest *_MESSAGE, or "" when it is ok:
// doctest evaluates messages of passing checks too when run with -s.

#include <string>

#include "berth/base/error.h"

namespace berth::testsuite {

template <class T>
std::string why(const Result<T>& r) {
  return r.ok() ? std::string() : r.error().to_string();
}

}  // namespace berth::testsuite
