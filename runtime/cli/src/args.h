#pragma once
// Command-line parsing with runc's (urfave/cli) conventions: flags before
// positional arguments, "-flag" and "--flag" alike, "--flag=value" or
// "--flag value", short aliases ("-b" for "--bundle"). Flags stop at the
// first positional argument or at "--".

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"

namespace berth::cli {

struct FlagSpec {
  std::string name;   // "bundle"
  std::string alias;  // "b" or ""
  bool takes_value = false;
};

class Args {
 public:
  // Parses argv[start...] against specs; stops at the first positional.
  static Result<Args> parse(const std::vector<std::string>& argv, size_t start,
                            const std::vector<FlagSpec>& specs, std::string_view command);

  bool has(std::string_view name) const { return values_.count(std::string(name)) != 0; }
  std::string get(std::string_view name, std::string fallback = {}) const;
  // Every value of a repeatable flag (--env A --env B), in order.
  std::vector<std::string> get_all(std::string_view name) const;
  const std::vector<std::string>& positional() const { return positional_; }
  size_t next() const { return next_; }  // index in argv after the flags

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
  size_t next_ = 0;
};

}  // namespace berth::cli
