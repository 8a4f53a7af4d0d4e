#include "berth/remotes/docker_config.h"

#include <openssl/evp.h>

#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "berth/json/json.h"

namespace berth::remotes {
namespace {

constexpr std::string_view kDockerHubKey = "https://index.docker.io/v1/";

std::string_view strip_scheme(std::string_view key) {
  for (std::string_view p : {"https://", "http://"}) {
    if (key.substr(0, p.size()) == p) key.remove_prefix(p.size());
  }
  while (!key.empty() && key.back() == '/') key.remove_suffix(1);
  return key;
}

bool same_host(std::string_view file_key, const std::string& want) {
  if (file_key == want) return true;
  if (want == kDockerHubKey) return false;
  return strip_scheme(file_key) == want;
}

// The whole file, or an empty object when it does not exist yet.
Result<json::Value> load(const std::string& path) {
  if (!sys::exists(path)) return json::Value::object({});
  std::string text = BERTH_VALUE(sys::read_file(path, 4 << 20));
  json::Value v = BERTH_VALUE(json::parse(text, path));
  if (!v.is_object()) return core::invalid_argument("read `" + path + "`: not a json object");
  return v;
}

Status save(const std::string& path, const json::Value& v) {
  size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) BERTH_TRY(sys::mkdir_p(path.substr(0, slash), 0700));
  json::Writer w(true);
  w.value(v);
  if (!w.ok()) return make_error("write `" + path + "`: cannot encode json");
  // The temp file is created 0600, so the credentials are never readable by
  // others, not even for the moment before a chmod.
  return sys::write_file_atomic(path, w.str() + "\n", 0600, /*durable=*/true);
}

}  // namespace

std::string auth_key(std::string_view host) {
  std::string_view h = strip_scheme(host);
  if (h == "docker.io" || h == "index.docker.io" || h == "registry-1.docker.io" ||
      h == "index.docker.io/v1") {
    return std::string(kDockerHubKey);
  }
  return std::string(h);
}

std::string base64_encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(3 * (text.size() / 4) + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  size_t pad = 0;
  for (size_t i = text.size(); i > 0 && text[i - 1] == '=' && pad < 2; --i) ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

Result<std::optional<core::Credentials>> DockerConfigStore::get(std::string_view host) {
  std::lock_guard lock(mu_);
  json::Value v = BERTH_VALUE(load(path_));
  const json::Value* auths = v.get("auths");
  if (auths == nullptr || !auths->is_object()) return std::optional<core::Credentials>();
  std::string want = auth_key(host);
  for (const auto& [key, entry] : auths->members()) {
    if (!same_host(key, want) || !entry.is_object()) continue;
    core::Credentials c;
    if (const json::Value* a = entry.get("auth");
        a != nullptr && a->is_string() && !a->as_string().empty()) {
      auto decoded = base64_decode(a->as_string());
      size_t colon = decoded ? decoded->find(':') : std::string::npos;
      if (colon == std::string::npos) {
        // The value itself is a secret: name the entry, never print it.
        return core::invalid_argument("read `" + path_ + "`: auths entry `" + key +
                                      "`: invalid auth value");
      }
      c.username = decoded->substr(0, colon);
      c.password = decoded->substr(colon + 1);
    }
    if (const json::Value* t = entry.get("identitytoken"); t != nullptr && t->is_string()) {
      c.identity_token = t->as_string();
    }
    if (c.username.empty() && c.identity_token.empty()) continue;
    return std::optional<core::Credentials>(std::move(c));
  }
  return std::optional<core::Credentials>();
}

Status DockerConfigStore::store(std::string_view host, const core::Credentials& credentials) {
  std::lock_guard lock(mu_);
  json::Value v = BERTH_VALUE(load(path_));
  std::string key = auth_key(host);
  std::vector<std::pair<std::string, json::Value>> entry;
  entry.emplace_back("auth", json::Value::string(
                                 base64_encode(credentials.username + ":" + credentials.password)));
  if (!credentials.identity_token.empty()) {
    entry.emplace_back("identitytoken", json::Value::string(credentials.identity_token));
  }
  std::vector<std::pair<std::string, json::Value>> auths;
  if (const json::Value* a = v.get("auths"); a != nullptr && a->is_object()) {
    for (const auto& [k, e] : a->members()) {
      if (!same_host(k, key)) auths.emplace_back(k, e);
    }
  }
  auths.emplace_back(key, json::Value::object(std::move(entry)));
  std::vector<std::pair<std::string, json::Value>> top;
  bool placed = false;
  for (const auto& [k, e] : v.members()) {
    if (k == "auths") {
      top.emplace_back(k, json::Value::object(auths));
      placed = true;
    } else {
      top.emplace_back(k, e);
    }
  }
  if (!placed) top.emplace_back("auths", json::Value::object(std::move(auths)));
  return save(path_, json::Value::object(std::move(top)));
}

Status DockerConfigStore::erase(std::string_view host) {
  std::lock_guard lock(mu_);
  json::Value v = BERTH_VALUE(load(path_));
  std::string key = auth_key(host);
  bool found = false;
  std::vector<std::pair<std::string, json::Value>> top;
  for (const auto& [k, e] : v.members()) {
    if (k != "auths" || !e.is_object()) {
      top.emplace_back(k, e);
      continue;
    }
    std::vector<std::pair<std::string, json::Value>> auths;
    for (const auto& [h, entry] : e.members()) {
      if (same_host(h, key)) {
        found = true;
      } else {
        auths.emplace_back(h, entry);
      }
    }
    top.emplace_back(k, json::Value::object(std::move(auths)));
  }
  if (!found) return core::not_found("not logged in to " + std::string(host));
  return save(path_, json::Value::object(std::move(top)));
}

}  // namespace berth::remotes
