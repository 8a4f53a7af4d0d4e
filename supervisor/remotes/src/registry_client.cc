#include "berth/remotes/registry_client.h"

#include "berth/core/digest.h"
#include "berth/core/errdefs.h"
#include "berth/json/json.h"
#include "session.h"

namespace berth::remotes {
namespace {

using core::Descriptor;
using core::Reference;
using Session = RegistryClient::Session;

// One Accept line per type: docker-registry 2.8.2 matches header lines, so a
// merged "a, b" line makes it miss the OCI type (404) or serve schema1.
const std::vector<std::string> kManifestAccept = {
    "Accept: " + std::string(core::media::kDockerManifestList),
    "Accept: " + std::string(core::media::kDockerManifest),
    "Accept: " + std::string(core::media::kOciIndex),
    "Accept: " + std::string(core::media::kOciManifest),
};

std::string pull_scope(const Reference& r) { return "repository:" + r.path + ":pull"; }

std::string schema1_message(const Reference& ref) {
  return "[DEPRECATION NOTICE] Docker Image Format v1 and Docker Image manifest version 2, "
         "schema 1 support is disabled by default and will be removed in an upcoming release. "
         "Suggest the author of " +
         ref.familiar() +
         " to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2. More "
         "information at https://docs.docker.com/go/deprecated-image-specs/";
}

// The media type a manifest was served as: Content-Type, or the body's own
// mediaType when the registry answered with a generic type.
std::string manifest_media_type(const HttpResponse& r) {
  std::string ct = r.header("content-type");
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && ct.back() == ' ') ct.pop_back();
  if (core::kind_of(ct) != core::DocumentKind::kUnknown) return ct;
  auto doc = json::parse(r.body, "manifest");
  if (doc.ok()) {
    if (const json::Value* m = doc->get("mediaType"); m != nullptr && m->is_string())
      return m->as_string();
    // schema1 bodies carry no mediaType, only schemaVersion 1.
    if (const json::Value* v = doc->get("schemaVersion"); v != nullptr && v->as_i64() == 1)
      return std::string(core::media::kDockerSchema1);
  }
  return ct;
}

}  // namespace

RegistryClient::RegistryClient(HostsConfig config, core::CredentialStore& credentials)
    : config_(std::move(config)), credentials_(credentials) {}

RegistryClient::~RegistryClient() = default;

namespace {

Result<std::string> get_manifest(Session& s, const Reference& ref, std::string_view tag_or_digest,
                                 size_t max_size, std::string* media_type, std::string* digest) {
  HttpRequest req;
  req.url = s.url("/v2/" + ref.path + "/manifests/" + std::string(tag_or_digest));
  req.headers = kManifestAccept;
  req.max_body = max_size;
  auto got = s.send(req);
  if (!got.ok()) {
    if (got.error().code() == EFBIG)
      return core::invalid_argument("manifest " + ref.familiar() + ": larger than " +
                                    std::to_string(max_size) + " bytes");
    return std::move(got).error();
  }
  HttpResponse& r = *got;
  if (r.status != 200) {
    Error e = error_from(r);
    bool anonymous = !s.credentials || s.credentials->username.empty();
    if ((e.code() == EACCES || e.code() == EPERM ||
         (r.status == 404 && e.message().find("name unknown") == 0)) &&
        anonymous) {
      return Error(e.code() == ENOENT ? ENOENT : e.code(),
                   "pull access denied for " + ref.familiar_name() +
                       ", repository does not exist or may require 'docker login': " + e.message());
    }
    if (e.code() == ENOENT)
      return core::not_found("manifest for " + ref.familiar() + " not found: " + e.message());
    return e;
  }
  std::string type = manifest_media_type(r);
  core::DocumentKind kind = core::kind_of(type);
  if (kind == core::DocumentKind::kSchema1) return core::unsupported(schema1_message(ref));
  if (kind != core::DocumentKind::kManifest && kind != core::DocumentKind::kIndex)
    return core::unsupported("manifest " + ref.familiar() + ": unsupported media type `" + type +
                             "`");
  std::string actual = core::digest_of(r.body);
  // The registry's word and the requested digest both must match the bytes:
  // a tampering proxy or a buggy mirror could otherwise swap the image.
  std::string header = r.header("docker-content-digest");
  if (!header.empty() && header != actual)
    return core::data_loss("manifest " + ref.familiar() + ": digest mismatch: registry says " +
                           header + ", body is " + actual);
  if (core::is_digest(tag_or_digest) && tag_or_digest != actual)
    return core::data_loss("manifest " + ref.familiar() + ": digest mismatch: expected " +
                           std::string(tag_or_digest) + ", body is " + actual);
  *media_type = type;
  *digest = actual;
  return std::move(r.body);
}

}  // namespace

Result<core::ResolvedManifest> RegistryClient::resolve(const Reference& ref) {
  std::string target = !ref.digest.empty() ? ref.digest : ref.tag;
  if (target.empty()) return core::invalid_argument("resolve " + ref.str() + ": no tag or digest");
  return on_endpoints<core::ResolvedManifest>(
      *this, config_, credentials_, ref, true, {pull_scope(ref)},
      [&](Session& s) -> Result<core::ResolvedManifest> {
        core::ResolvedManifest out;
        out.body = BERTH_VALUE(get_manifest(s, ref, target, config_.max_manifest_size,
                                            &out.descriptor.media_type, &out.descriptor.digest));
        out.descriptor.size = static_cast<int64_t>(out.body.size());
        return out;
      });
}

Result<std::string> RegistryClient::fetch_manifest(const Reference& repo, const Descriptor& d) {
  BERTH_TRY(core::validate_digest(d.digest, "manifest digest"));
  if (d.size < 0 || static_cast<size_t>(d.size) > config_.max_manifest_size)
    return core::invalid_argument("manifest " + d.digest + ": size " + std::to_string(d.size) +
                                  " over the limit of " +
                                  std::to_string(config_.max_manifest_size));
  return on_endpoints<std::string>(
      *this, config_, credentials_, repo, true, {pull_scope(repo)},
      [&](Session& s) -> Result<std::string> {
        std::string type, digest;
        std::string body =
            BERTH_VALUE(get_manifest(s, repo, d.digest, config_.max_manifest_size, &type, &digest));
        if (d.size > 0 && static_cast<int64_t>(body.size()) != d.size)
          return core::data_loss("manifest " + d.digest + ": size " + std::to_string(body.size()) +
                                 ", descriptor says " + std::to_string(d.size));
        return body;
      });
}

Status RegistryClient::fetch_blob(const Reference& repo, const Descriptor& d, int64_t offset,
                                  const core::ByteSink& sink) {
  BERTH_TRY(core::validate_digest(d.digest, "blob digest"));
  if (offset < 0 || (d.size > 0 && offset > d.size))
    return core::invalid_argument("blob " + d.digest + ": offset " + std::to_string(offset) +
                                  " outside its size " + std::to_string(d.size));
  int64_t delivered = offset;  // across attempts and endpoints: the sink's position
  // A blob is verified here when it is read whole: a registry that serves
  // other bytes must not get them into the store unnoticed (the store checks
  // again; a resumed read leaves the full check to it).
  std::optional<core::Digester> digester;
  if (offset == 0) digester.emplace();
  core::ByteSink counting = [&](std::string_view bytes) -> Status {
    if (d.size > 0 && delivered + static_cast<int64_t>(bytes.size()) > d.size)
      return core::data_loss("blob " + d.digest + ": more than its " + std::to_string(d.size) +
                             " bytes");
    BERTH_TRY(sink(bytes));
    if (digester) digester->update(bytes);
    delivered += static_cast<int64_t>(bytes.size());
    return ok_status();
  };
  auto done = on_endpoints<bool>(
      *this, config_, credentials_, repo, true, {pull_scope(repo)},
      [&](Session& s) -> Result<bool> {
        HttpRequest req;
        req.url = s.url("/v2/" + repo.path + "/blobs/" + d.digest);
        req.sink = &counting;
        auto r = BERTH_VALUE(s.send(req, [&](HttpRequest& a) {
          a.resume_from = delivered;
          if (delivered > 0) a.headers.push_back("Range: bytes=" + std::to_string(delivered) + "-");
        }));
        if (r.status / 100 != 2) {
          Error e = error_from(r);
          if (e.code() == ENOENT)
            return core::not_found("blob " + d.digest + " of " + repo.familiar_name() + ": " +
                                   e.message());
          return e;
        }
        if (d.size > 0 && delivered != d.size)
          return core::data_loss("blob " + d.digest + ": got " + std::to_string(delivered) +
                                 " bytes, descriptor says " + std::to_string(d.size));
        if (digester && digester->digest() != d.digest)
          return core::data_loss("blob " + d.digest + ": digest mismatch: body is " +
                                 digester->digest());
        return true;
      });
  if (!done.ok()) return std::move(done).error();
  return ok_status();
}

}  // namespace berth::remotes
