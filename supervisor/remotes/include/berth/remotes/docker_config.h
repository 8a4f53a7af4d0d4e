#pragma once
// docker's config.json as a core::CredentialStore:
//
//   {"auths": {"127.0.0.1:5000": {"auth": "<base64 user:pass>"},
//              "https://index.docker.io/v1/": {"auth": "…", "identitytoken": "…"}},
//    …every other key kept as it was}
//
// docker.io (and index.docker.io, registry-1.docker.io) is stored under
// "https://index.docker.io/v1/" as docker writes it; lookups also accept
// keys written with an http:// or https:// prefix. The file stays 0600 and
// is replaced atomically (temp file in the same dir, fsync, rename), so a
// crash leaves the old or the new file, never half of one.
// credHelpers and credsStore (external credential helpers) are left out:
// entries there are not consulted.

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "berth/core/remotes.h"

namespace berth::remotes {

class DockerConfigStore : public core::CredentialStore {
 public:
  explicit DockerConfigStore(std::string path) : path_(std::move(path)) {}
  Result<std::optional<core::Credentials>> get(std::string_view host) override;
  Status store(std::string_view host, const core::Credentials& credentials) override;
  Status erase(std::string_view host) override;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::mutex mu_;  // one read-modify-write at a time within the process
};

// The key docker uses for a registry host in `auths`.
std::string auth_key(std::string_view host);
std::string base64_encode(std::string_view data);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace berth::remotes
