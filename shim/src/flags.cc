#include "flags.h"

namespace berth::shim {

namespace {
Result<bool> parse_bool(const std::string& name, const std::string& v) {
  if (v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False")
    return false;
  return make_error("flag -" + name + ": invalid boolean `" + v + "`");
}
}  // namespace

Result<ShimFlags> parse_flags(const std::vector<std::string>& args) {
  ShimFlags f;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    std::string a = args[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.size() < 2 || a[0] != '-') break;
    std::string name = a.substr(a[1] == '-' ? 2 : 1);
    std::string value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    bool* boolean = name == "debug" ? &f.debug : name == "v" ? &f.version : nullptr;
    if (boolean != nullptr) {
      *boolean = has_value ? BERTH_VALUE(parse_bool(name, value)) : true;
      continue;
    }
    std::string* target = name == "namespace"        ? &f.ns
                          : name == "address"        ? &f.address
                          : name == "publish-binary" ? &f.publish_binary
                          : name == "id"             ? &f.id
                          : name == "bundle"         ? &f.bundle
                          : name == "socket"         ? &f.socket
                                                     : nullptr;
    if (target == nullptr) return make_error("flag provided but not defined: -" + name);
    if (!has_value) {
      if (i + 1 >= args.size()) return make_error("flag needs an argument: -" + name);
      value = args[++i];
    }
    *target = value;
  }
  if (i < args.size()) f.action = args[i++];
  if (i < args.size())
    return make_error("unexpected argument `" + args[i] + "` after action `" + f.action + "`");
  if (!f.action.empty() && f.action != "start" && f.action != "delete" && f.action != "serve")
    return make_error("unknown action `" + f.action + "` (expected start or delete)");
  return f;
}

}  // namespace berth::shim
