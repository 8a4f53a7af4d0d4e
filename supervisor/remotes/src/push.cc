// The write side of RegistryClient (blob checks, mounts, uploads, manifests),
// tag listing and login checks.

#include "berth/core/digest.h"
#include "berth/core/errdefs.h"
#include "berth/json/json.h"
#include "berth/remotes/registry_client.h"
#include "session.h"

namespace berth::remotes {
namespace {

using core::Descriptor;
using core::Reference;
using Session = RegistryClient::Session;

std::string push_scope(const Reference& r) { return "repository:" + r.path + ":pull,push"; }

Result<std::string> upload_location(const HttpResponse& r, const std::string& request_url) {
  std::string location = r.header("location");
  if (location.empty())
    return make_error("upload to " + request_url + ": registry answered without a Location",
                      EPROTO);
  return resolve_location(location, request_url);
}

Error push_error(const HttpResponse& r, const Reference& repo) {
  Error e = error_from(r);
  if (e.code() == EACCES && e.message().find("authentication required") != std::string::npos)
    return e;
  return e.wrap("push " + repo.familiar_name());
}

}  // namespace

Result<bool> RegistryClient::blob_exists(const Reference& repo, const Descriptor& d) {
  BERTH_TRY(core::validate_digest(d.digest, "blob digest"));
  return on_endpoints<bool>(*this, config_, credentials_, repo, false, {push_scope(repo)},
                            [&](Session& s) -> Result<bool> {
                              HttpRequest req;
                              req.method = "HEAD";
                              req.url = s.url("/v2/" + repo.path + "/blobs/" + d.digest);
                              auto r = BERTH_VALUE(s.send(req));
                              if (r.status == 200) return true;
                              if (r.status == 404) return false;
                              return error_from(r);
                            });
}

Result<bool> RegistryClient::mount_blob(const Reference& repo, const Descriptor& d,
                                        const Reference& from_repo) {
  BERTH_TRY(core::validate_digest(d.digest, "blob digest"));
  if (from_repo.domain != repo.domain) return false;  // mounts work within one registry only
  return on_endpoints<bool>(*this, config_, credentials_, repo, false,
                            {push_scope(repo), "repository:" + from_repo.path + ":pull"},
                            [&](Session& s) -> Result<bool> {
                              HttpRequest req;
                              req.method = "POST";
                              req.url = s.url("/v2/" + repo.path + "/blobs/uploads/");
                              req.url = add_query(add_query(req.url, "mount", d.digest), "from",
                                                  from_repo.path);
                              auto r = BERTH_VALUE(s.send(req));
                              if (r.status == 201) return true;
                              if (r.status == 202) {
                                // Not mountable: the registry opened an upload session instead;
                                // cancel it rather than leave it to the registry's purge.
                                auto loc = upload_location(r, req.url);
                                if (loc.ok()) {
                                  HttpRequest del;
                                  del.method = "DELETE";
                                  del.url = *loc;
                                  (void)s.send(del);
                                }
                                return false;
                              }
                              return push_error(r, repo);
                            });
}

Status RegistryClient::push_blob(const Reference& repo, const Descriptor& d,
                                 const core::ByteSource& source,
                                 const std::function<void(int64_t)>& progress) {
  BERTH_TRY(core::validate_digest(d.digest, "blob digest"));
  if (d.size < 0) return core::invalid_argument("blob " + d.digest + ": negative size");
  auto done = on_endpoints<bool>(
      *this, config_, credentials_, repo, false, {push_scope(repo)},
      [&](Session& s) -> Result<bool> {
        HttpRequest start;
        start.method = "POST";
        start.url = s.url("/v2/" + repo.path + "/blobs/uploads/");
        auto r = BERTH_VALUE(s.send(start));
        if (r.status != 202) return push_error(r, repo);
        std::string location = BERTH_VALUE(upload_location(r, start.url));
        const int64_t chunk = static_cast<int64_t>(std::max<size_t>(config_.chunk_size, 1));
        int64_t sent = 0;
        // A blob that fits one chunk goes up in the closing PUT (monolithic);
        // larger ones as PATCHes of `chunk` bytes, each answered by the next
        // Location, then an empty PUT ?digest=.
        if (d.size > chunk) {
          while (sent < d.size) {
            int64_t len = std::min(chunk, d.size - sent);
            HttpRequest patch;
            patch.method = "PATCH";
            patch.url = location;
            patch.source = &source;
            patch.source_offset = sent;
            patch.source_length = len;
            patch.headers = {
                "Content-Type: application/octet-stream",
                "Content-Range: " + std::to_string(sent) + "-" + std::to_string(sent + len - 1)};
            auto pr = BERTH_VALUE(s.send(patch));
            if (pr.status != 202) return push_error(pr, repo);
            location = BERTH_VALUE(upload_location(pr, location));
            sent += len;
            if (progress) progress(sent);
          }
        }
        HttpRequest put;
        put.method = "PUT";
        put.url = add_query(location, "digest", d.digest);
        put.headers = {"Content-Type: application/octet-stream"};
        if (sent < d.size) {
          put.source = &source;
          put.source_offset = sent;
          put.source_length = d.size - sent;
        }
        auto pr = BERTH_VALUE(s.send(put));
        if (pr.status != 201) return push_error(pr, repo);
        if (progress && sent < d.size) progress(d.size);
        return true;
      });
  if (!done.ok()) return std::move(done).error();
  return ok_status();
}

Status RegistryClient::push_manifest(const Reference& repo, std::string_view tag_or_digest,
                                     std::string_view media_type, std::string_view body) {
  if (body.size() > config_.max_manifest_size)
    return core::invalid_argument("manifest for " + repo.familiar_name() + ": larger than " +
                                  std::to_string(config_.max_manifest_size) + " bytes");
  std::string target = tag_or_digest.empty() ? core::digest_of(body) : std::string(tag_or_digest);
  auto done = on_endpoints<bool>(
      *this, config_, credentials_, repo, false, {push_scope(repo)},
      [&](Session& s) -> Result<bool> {
        HttpRequest req;
        req.method = "PUT";
        req.url = s.url("/v2/" + repo.path + "/manifests/" + target);
        req.headers = {"Content-Type: " + std::string(media_type)};
        req.body = std::string(body);
        auto r = BERTH_VALUE(s.send(req));
        if (r.status != 201 && r.status != 200) return push_error(r, repo);
        std::string digest = r.header("docker-content-digest");
        if (!digest.empty() && digest != core::digest_of(body))
          return core::data_loss("push manifest " + repo.familiar_name() + ": registry stored " +
                                 digest + ", sent " + core::digest_of(body));
        return true;
      });
  if (!done.ok()) return std::move(done).error();
  return ok_status();
}

Result<std::vector<std::string>> RegistryClient::list_tags(const Reference& repo) {
  return on_endpoints<std::vector<std::string>>(
      *this, config_, credentials_, repo, true, {"repository:" + repo.path + ":pull"},
      [&](Session& s) -> Result<std::vector<std::string>> {
        std::vector<std::string> tags;
        std::string url = s.url("/v2/" + repo.path + "/tags/list");
        // Pages are bounded so a registry cannot keep a caller looping forever.
        for (int page = 0; page < 10000 && !url.empty(); ++page) {
          HttpRequest req;
          req.url = url;
          req.max_body = 16 << 20;
          auto r = BERTH_VALUE(s.send(req));
          if (r.status != 200) {
            Error e = error_from(r);
            return e.code() == ENOENT ? Error(ENOENT, "repository " + repo.familiar_name() +
                                                          " not found: " + e.message())
                                      : e;
          }
          auto doc = BERTH_VALUE(json::parse(r.body, "tags list of " + repo.familiar_name()));
          const json::Value* list = doc.get("tags");
          // A repository whose last tag was deleted lists "tags": null.
          if (list != nullptr && list->is_array()) {
            for (const auto& t : list->items())
              if (t.is_string()) tags.push_back(t.as_string());
          }
          auto next = parse_link_next(r.header("link"), url);
          url = next ? *next : std::string();
        }
        return tags;
      });
}

Status RegistryClient::check_login(std::string_view host, const core::Credentials& credentials) {
  auto endpoints = BERTH_VALUE(endpoints_for(config_, host, false));
  Session s{*this, endpoints.back(), {}, credentials};
  HttpRequest req;
  req.url = s.url("/v2/");
  auto r = BERTH_VALUE(s.send(req));
  if (r.status == 200) return ok_status();
  Error e = error_from(r);
  return Error(e.code(), "login to " + std::string(host) + ": " + e.message());
}

}  // namespace berth::remotes
