#pragma once
// Values during execution and the function table (Go's builtins and docker's
// additions).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/json/json.h"

namespace berth::tmpl {

// A value during execution: a view into the caller's data or a value made
// by a function, or "missing" (a map key that is not there: Go prints it
// as <no value>, and it is false in a condition).
class Val {
 public:
  Val() = default;  // missing
  static Val ref(const json::Value& v) { return Val(&v, nullptr); }
  static Val own(json::Value v) {
    auto p = std::make_shared<const json::Value>(std::move(v));
    const json::Value* raw = p.get();
    return Val(raw, std::move(p));
  }
  // A value inside this one, kept alive by the same owner.
  Val child(const json::Value& inner) const { return Val(&inner, owner_); }
  bool missing() const { return v_ == nullptr; }
  const json::Value& get() const;  // null for missing
  std::string_view type_name() const;

 private:
  Val(const json::Value* v, std::shared_ptr<const json::Value> owner)
      : v_(v), owner_(std::move(owner)) {}
  const json::Value* v_ = nullptr;
  std::shared_ptr<const json::Value> owner_;
};

bool is_function(std::string_view name);
bool truthy(const Val& v);
std::string format_val(const Val& v);  // Go's %v

// Calls function `name`. In header mode (a table's header row), docker's own
// functions (json, split, join, ...) return their first argument unchanged,
// so `{{json .Labels}}` heads its column with LABELS.
Result<Val> call_function(std::string_view name, std::vector<Val>& args, bool header_mode);

// fmt's %v of a float64: the shortest digits that read back, in %e form
// when the exponent is < -4 or >= 6 (strconv's 'g' with precision -1).
std::string go_float(double d);

// Go's fmt.Sprintf for the verbs templates use.
std::string go_sprintf(std::string_view format, const std::vector<Val>& args);

}  // namespace berth::tmpl
