// berthd.toml (see config.h), read with toml++.

#include "config.h"

#include "berth/base/sys.h"

#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

namespace berth::daemon {
namespace {

Error key_error(const std::string& path, const toml::node& node, std::string_view key,
                std::string_view what) {
  return make_error("config `" + path + "` line " + std::to_string(node.source().begin.line) +
                    ": " + std::string(key) + ": " + std::string(what));
}

}  // namespace

Status load_config(const std::string& path, bool required, Config& c) {
  auto st = sys::stat(path);
  if (!st) {
    if (!required && st.error().code() == ENOENT) return ok_status();
    return std::move(st).error().wrap("config");
  }
  auto parsed = toml::parse_file(path);
  if (!parsed) {
    const auto& err = parsed.error();
    return make_error("config `" + path + "` line " + std::to_string(err.source().begin.line) +
                      ": " + std::string(err.description()));
  }
  const toml::table& t = parsed.table();
  for (const auto& [k, node] : t) {
    std::string key(k.str());
    auto str = [&](std::string& out) -> Status {
      auto v = node.value<std::string>();
      if (!v) return key_error(path, node, key, "expected a string");
      out = *v;
      return ok_status();
    };
    auto list = [&](std::vector<std::string>& out) -> Status {
      const auto* arr = node.as_array();
      if (!arr) return key_error(path, node, key, "expected an array of strings");
      out.clear();
      for (const auto& item : *arr) {
        auto v = item.value<std::string>();
        if (!v) return key_error(path, item, key, "expected an array of strings");
        out.push_back(*v);
      }
      return ok_status();
    };
    if (key == "root")
      BERTH_TRY(str(c.root));
    else if (key == "state")
      BERTH_TRY(str(c.state));
    else if (key == "address")
      BERTH_TRY(str(c.address));
    else if (key == "group")
      BERTH_TRY(str(c.group));
    else if (key == "log-level")
      BERTH_TRY(str(c.log_level));
    else if (key == "log-file")
      BERTH_TRY(str(c.log_file));
    else if (key == "snapshotter")
      BERTH_TRY(str(c.snapshotter));
    else if (key == "shim-binary")
      BERTH_TRY(str(c.shim_binary));
    else if (key == "logger-binary")
      BERTH_TRY(str(c.logger_binary));
    else if (key == "default-runtime")
      BERTH_TRY(str(c.default_runtime));
    else if (key == "auth-config")
      BERTH_TRY(str(c.auth_config));
    else if (key == "insecure-registries")
      BERTH_TRY(list(c.insecure_registries));
    else if (key == "registry-mirrors")
      BERTH_TRY(list(c.registry_mirrors));
    else if (key == "certs-dirs")
      BERTH_TRY(list(c.certs_dirs));
    else if (key == "max-concurrent-downloads") {
      auto v = node.value<int64_t>();
      if (!v || *v < 1 || *v > 64)
        return key_error(path, node, key, "expected an integer from 1 to 64");
      c.max_concurrent_downloads = static_cast<int>(*v);
    } else {
      return key_error(path, node, key, "unknown key");
    }
  }
  return ok_status();
}

}  // namespace berth::daemon
