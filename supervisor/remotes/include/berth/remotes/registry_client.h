#pragma once
// RegistryClient: core::Registry over libcurl (the call → HTTP table is at
// the top of berth/core/remotes.h; what Debian's docker-registry 2.8.2 really
// answers is in the project's registry-protocol notes).
//
// Authentication, per request:
//   1. send with what the host's last challenge asked for (nothing at first)
//   2. 401 Basic  → resend once with the stored credentials
//      401 Bearer → GET realm?service=S&scope=repository:<path>:pull[,push]
//                   (Basic credentials and account= when known), cache the
//                   token per (host, scope) until expires_in (default 60 s),
//                   resend once; error="insufficient_scope" on a cached
//                   token gets one fresh token, then fails (EPERM, denied);
//                   an identity token (OAuth2 refresh token) is POSTed to
//                   the realm instead, falling back to the GET on a 404
// Retries: 5xx, 429 and dropped connections, `retries` times with doubling
// backoff; blob downloads resume with Range at the first byte not yet given
// to the sink.
// Threads: any number of threads may call one client; every call has its
// own curl easy handle, the token and challenge caches are locked.
// Credentials and tokens never appear in errors or logs.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "berth/core/remotes.h"
#include "berth/remotes/hosts.h"
#include "berth/remotes/http_headers.h"

namespace berth::remotes {

class RegistryClient : public core::Registry {
 public:
  RegistryClient(HostsConfig config, core::CredentialStore& credentials);
  ~RegistryClient() override;

  Result<core::ResolvedManifest> resolve(const core::Reference& ref) override;
  Result<std::string> fetch_manifest(const core::Reference& repo,
                                     const core::Descriptor& d) override;
  Status fetch_blob(const core::Reference& repo, const core::Descriptor& d, int64_t offset,
                    const core::ByteSink& sink) override;
  Result<bool> blob_exists(const core::Reference& repo, const core::Descriptor& d) override;
  Result<bool> mount_blob(const core::Reference& repo, const core::Descriptor& d,
                          const core::Reference& from_repo) override;
  Status push_blob(const core::Reference& repo, const core::Descriptor& d,
                   const core::ByteSource& source,
                   const std::function<void(int64_t)>& progress) override;
  Status push_manifest(const core::Reference& repo, std::string_view tag_or_digest,
                       std::string_view media_type, std::string_view body) override;
  Result<std::vector<std::string>> list_tags(const core::Reference& repo) override;
  Status check_login(std::string_view host, const core::Credentials& credentials) override;

  struct Session;  // one call's endpoint, scopes and credentials (src/session.h)

 private:
  friend struct Session;
  struct CachedToken {
    std::string token;
    std::chrono::steady_clock::time_point expires;
  };

  HostsConfig config_;
  core::CredentialStore& credentials_;
  std::mutex mu_;
  std::map<std::string, Challenge> challenges_;  // by host
  // by (host, scopes + sha256 of the credentials)
  std::map<std::pair<std::string, std::string>, CachedToken> tokens_;
};

}  // namespace berth::remotes
