#pragma once
// Registries: the OCI distribution API as berthd uses it, behind one
// interface (supervisor/remotes implements it on libcurl). Authentication
// (anonymous, Basic, Bearer challenge and token cache), plain HTTP for
// loopback hosts, mirrors, CAs and retries happen inside; callers see
// references, descriptors and bytes.
//
//   call            HTTP (distribution spec)
//   resolve         HEAD, else GET /v2/<repo>/manifests/<tag|digest> with every
//                   manifest and index media type in Accept (schema1 refused)
//   fetch           GET /v2/<repo>/blobs/<digest> (or manifests/<digest>),
//                   `Range: bytes=<offset>-` to resume
//   blob_exists     HEAD /v2/<repo>/blobs/<digest>
//   mount_blob      POST /v2/<repo>/blobs/uploads/?mount=<digest>&from=<repo>
//   push_blob       POST uploads/ → PATCH chunks → PUT ?digest=
//   push_manifest   PUT /v2/<repo>/manifests/<tag|digest>
//   list_tags       GET /v2/<repo>/tags/list (following Link pages)
//   check_login     GET /v2/ with the given credentials

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/core/image.h"
#include "berth/core/reference.h"

namespace berth::core {

struct Credentials {
  std::string username;
  std::string password;        // or a registry token when username is "<token>"
  std::string identity_token;  // docker's "identitytoken" (OAuth refresh token)
};

// docker's config.json `auths` (0600): read by every registry call, written
// by login and logout. Keys are registry hosts ("127.0.0.1:5000",
// "https://index.docker.io/v1/" for docker.io, as docker writes it).
class CredentialStore {
 public:
  virtual ~CredentialStore() = default;
  virtual Result<std::optional<Credentials>> get(std::string_view host) = 0;
  virtual Status store(std::string_view host, const Credentials& credentials) = 0;
  virtual Status erase(std::string_view host) = 0;  // ENOENT when not logged in
};

// Receives a body as it arrives; an error aborts the transfer (cancel).
using ByteSink = std::function<Status(std::string_view)>;
// Supplies a blob for upload: up to `max` bytes at `offset`, empty at end.
using ByteSource = std::function<Result<std::string_view>(int64_t offset, size_t max)>;

struct ResolvedManifest {
  Descriptor descriptor;  // media type, digest (verified against the body), size
  std::string body;       // the manifest or index itself, at most kMaxManifestSize
};

class Registry {
 public:
  virtual ~Registry() = default;
  // `ref` has a tag or a digest. Errors: ENOENT (manifest unknown, with the
  // reference named), EACCES (authentication required/failed), EPERM
  // (denied), ENOTSUP (schema1 or unknown media type), EHOSTUNREACH (down).
  virtual Result<ResolvedManifest> resolve(const Reference& ref) = 0;
  // A manifest or index by digest (verified).
  virtual Result<std::string> fetch_manifest(const Reference& repo, const Descriptor& d) = 0;
  // Streams a blob from `offset`. Retries dropped connections by resuming
  // at the bytes already delivered; the sink never sees a byte twice.
  virtual Status fetch_blob(const Reference& repo, const Descriptor& d, int64_t offset,
                            const ByteSink& sink) = 0;
  virtual Result<bool> blob_exists(const Reference& repo, const Descriptor& d) = 0;
  // True when the registry mounted the blob from `from_repo` (same host).
  virtual Result<bool> mount_blob(const Reference& repo, const Descriptor& d,
                                  const Reference& from_repo) = 0;
  // `progress` is told the bytes sent so far.
  virtual Status push_blob(const Reference& repo, const Descriptor& d, const ByteSource& source,
                           const std::function<void(int64_t)>& progress) = 0;
  // `tag_or_digest` empty: pushed by its digest.
  virtual Status push_manifest(const Reference& repo, std::string_view tag_or_digest,
                               std::string_view media_type, std::string_view body) = 0;
  virtual Result<std::vector<std::string>> list_tags(const Reference& repo) = 0;
  // Logs in to `host` ("127.0.0.1:5000", "docker.io"): checks the
  // credentials against /v2/ (and the token server when one is used).
  virtual Status check_login(std::string_view host, const Credentials& credentials) = 0;
};

}  // namespace berth::core
