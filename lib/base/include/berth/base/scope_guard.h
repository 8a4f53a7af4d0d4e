#pragma once
// ScopeGuard: runs a rollback action on scope exit unless dismissed. Used to
// undo mounts, cgroups and state directories of a failed create, so that a
// failure never leaves state behind.

#include <utility>

namespace berth {

template <class F>
class [[nodiscard]] ScopeGuard {
 public:
  explicit ScopeGuard(F fn) : fn_(std::move(fn)) {}
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;
  ScopeGuard(ScopeGuard&& other) noexcept : fn_(std::move(other.fn_)), active_(other.active_) {
    other.active_ = false;
  }
  ~ScopeGuard() {
    if (active_) fn_();
  }
  void dismiss() { active_ = false; }

 private:
  F fn_;
  bool active_ = true;
};

}  // namespace berth
