#include "args.h"

namespace berth::cli {

Result<Args> Args::parse(const std::vector<std::string>& argv, size_t start,
                         const std::vector<FlagSpec>& specs, std::string_view command) {
  Args out;
  size_t i = start;
  for (; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.size() < 2 || a[0] != '-') break;
    std::string body = a.substr(a[1] == '-' ? 2 : 1);
    std::string value;
    bool has_value = false;
    if (auto eq = body.find('='); eq != std::string::npos) {
      value = body.substr(eq + 1);
      body = body.substr(0, eq);
      has_value = true;
    }
    const FlagSpec* spec = nullptr;
    for (const auto& s : specs)
      if (body == s.name || (!s.alias.empty() && body == s.alias)) spec = &s;
    if (spec == nullptr) return make_error(std::string(command) + ": unknown flag `" + a + "`");
    if (spec->takes_value && !has_value) {
      if (i + 1 >= argv.size())
        return make_error(std::string(command) + ": flag `--" + spec->name + "` needs a value");
      value = argv[++i];
    } else if (!spec->takes_value) {
      if (has_value && value != "true" && value != "false")
        return make_error(std::string(command) + ": flag `--" + spec->name + "` takes no value");
      if (!has_value) value = "true";
      if (value == "false") continue;
    }
    out.values_[spec->name].push_back(value);
  }
  out.next_ = i;
  for (; i < argv.size(); ++i) out.positional_.push_back(argv[i]);
  return out;
}

std::string Args::get(std::string_view name, std::string fallback) const {
  auto it = values_.find(std::string(name));
  return it == values_.end() ? fallback : it->second.back();
}

std::vector<std::string> Args::get_all(std::string_view name) const {
  auto it = values_.find(std::string(name));
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

}  // namespace berth::cli
