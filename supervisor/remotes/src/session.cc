#include "session.h"

#include <thread>

#include "berth/core/digest.h"
#include "berth/core/errdefs.h"
#include "berth/json/json.h"
#include "berth/remotes/docker_config.h"

namespace berth::remotes {
namespace {

std::string status_text(long status) {
  switch (status) {
    case 400: return "400 Bad Request";
    case 401: return "401 Unauthorized";
    case 403: return "403 Forbidden";
    case 404: return "404 Not Found";
    case 405: return "405 Method Not Allowed";
    case 429: return "429 Too Many Requests";
    case 500: return "500 Internal Server Error";
    case 502: return "502 Bad Gateway";
    case 503: return "503 Service Unavailable";
    case 504: return "504 Gateway Timeout";
    default: return std::to_string(status);
  }
}

Error classed(std::string_view code, long status, std::string message) {
  if (code == "UNAUTHORIZED") return core::unauthenticated(std::move(message));
  if (code == "DENIED") return core::denied(std::move(message));
  if (code == "NAME_UNKNOWN" || code == "MANIFEST_UNKNOWN" || code == "BLOB_UNKNOWN" ||
      code == "BLOB_UPLOAD_UNKNOWN") {
    return core::not_found(std::move(message));
  }
  if (code == "DIGEST_INVALID" || code == "SIZE_INVALID")
    return core::data_loss(std::move(message));
  if (code == "UNSUPPORTED") return core::unsupported(std::move(message));
  if (code == "TOOMANYREQUESTS") return core::unavailable(std::move(message));
  if (!code.empty() && status / 100 == 4 && status != 401 && status != 403 && status != 404)
    return core::invalid_argument(std::move(message));
  switch (status) {
    case 401: return core::unauthenticated(std::move(message));
    case 403: return core::denied(std::move(message));
    case 404: return core::not_found(std::move(message));
    case 429: return core::unavailable(std::move(message));
    default: break;
  }
  if (status >= 500) return core::unavailable(std::move(message));
  return make_error(std::move(message), EPROTO);
}

bool idempotent(const std::string& method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE";
}

bool retry_status(long status) { return status == 429 || status >= 500; }

}  // namespace

Error error_from(const HttpResponse& r) {
  if (r.status == 401 && r.authorized) {
    // Valid credentials without the rights (a pull-only user pushing): the
    // registry still says 401, docker and skopeo report it as denied.
    auto ch = parse_www_authenticate(r.header("www-authenticate"));
    if (ch && ch->param("error") == "insufficient_scope")
      return core::denied("denied: requested access to the resource is denied");
  }
  auto doc = json::parse(r.body, "registry error body");
  if (doc.ok()) {
    const json::Value* errors = doc->get("errors");
    if (errors != nullptr && errors->is_array() && !errors->items().empty()) {
      const json::Value& e = errors->items()[0];
      const json::Value* code = e.get("code");
      const json::Value* message = e.get("message");
      std::string c = code != nullptr && code->is_string() ? code->as_string() : "";
      std::string text;
      for (char ch : c) text += ch == '_' ? ' ' : static_cast<char>(std::tolower(ch));
      if (message != nullptr && message->is_string() && !message->as_string().empty())
        text += (text.empty() ? "" : ": ") + message->as_string();
      if (!text.empty()) return classed(c, r.status, text);
    }
    // Docker Hub's token server: {"details": "incorrect username or password"}.
    if (const json::Value* d = doc->get("details"); d != nullptr && d->is_string()) {
      std::string prefix = r.status == 401 ? "unauthorized: " : "";
      return classed("", r.status, prefix + d->as_string());
    }
  }
  if (r.status == 401) return core::unauthenticated("unauthorized: authentication required");
  return classed("", r.status, "received unexpected HTTP status: " + status_text(r.status));
}

// Tokens are cached per scope and per credentials: a token that another
// user (or anonymous) obtained must never authorize this one's requests, nor
// a login check with a wrong password. The credentials enter the key only
// as a sha256, so the cache holds no password.
std::string RegistryClient::Session::cache_key() const {
  std::string key;
  for (const auto& s : scopes) key += s + " ";
  if (credentials && (!credentials->username.empty() || !credentials->identity_token.empty()))
    key += core::digest_of(credentials->username + ":" + credentials->password + ":" +
                           credentials->identity_token);
  return key;
}

Result<std::string> RegistryClient::Session::fetch_token(const Challenge& ch) {
  std::string realm = ch.param("realm");
  if (realm.substr(0, 7) != "http://" && realm.substr(0, 8) != "https://") {
    return core::unauthenticated("token realm of " + endpoint.host + ": not an http(s) url");
  }
  // An identity token (docker's "identitytoken", or a password given with
  // the user name "<token>") is an OAuth2 refresh token: POSTed as a form,
  // as docker does. A realm without OAuth2 answers 404; then the plain GET.
  std::string refresh;
  if (credentials) {
    refresh = !credentials->identity_token.empty() ? credentials->identity_token
              : credentials->username == "<token>" ? credentials->password
                                                   : std::string();
  }
  std::optional<HttpResponse> answer;
  if (!refresh.empty()) {
    HttpRequest post;
    post.method = "POST";
    post.url = realm;
    post.headers = {"Content-Type: application/x-www-form-urlencoded"};
    post.body =
        "grant_type=refresh_token&client_id=berthd&refresh_token=" + percent_encode(refresh);
    if (!ch.param("service").empty())
      post.body += "&service=" + percent_encode(ch.param("service"));
    std::string scope_list;
    for (const auto& s : scopes) scope_list += (scope_list.empty() ? "" : " ") + s;
    if (!scope_list.empty()) post.body += "&scope=" + percent_encode(scope_list);
    auto out = perform(post, client.config_);
    if (auto* f = std::get_if<HttpFailure>(&out)) return std::move(f->error);
    if (std::get<HttpResponse>(out).status != 404) answer = std::move(std::get<HttpResponse>(out));
  }
  if (!answer) {
    std::string url = realm;
    if (!ch.param("service").empty()) url = add_query(url, "service", ch.param("service"));
    for (const auto& s : scopes) url = add_query(url, "scope", s);
    HttpRequest req;
    req.url = url;
    if (credentials && !credentials->username.empty() && credentials->username != "<token>") {
      req.url = add_query(url, "account", credentials->username);
      req.headers.push_back("Authorization: Basic " +
                            base64_encode(credentials->username + ":" + credentials->password));
    }
    auto out = perform(req, client.config_);
    if (auto* f = std::get_if<HttpFailure>(&out)) return std::move(f->error);
    answer = std::move(std::get<HttpResponse>(out));
  }
  HttpResponse& r = *answer;
  if (r.status != 200) return error_from(r);
  auto doc = json::parse(r.body, "token response");
  if (!doc.ok()) return core::unauthenticated("token response from " + realm + ": not json");
  std::string token;
  for (const char* key : {"token", "access_token"}) {
    const json::Value* t = doc->get(key);
    if (t != nullptr && t->is_string() && !t->as_string().empty()) {
      token = t->as_string();
      break;
    }
  }
  if (token.empty()) return core::unauthenticated("token response from " + realm + ": no token");
  int64_t expires_in = 60;  // the distribution spec's default
  if (const json::Value* e = doc->get("expires_in");
      e != nullptr && e->as_i64() && *e->as_i64() > 0)
    expires_in = *e->as_i64();
  std::string scope_key = cache_key();
  std::lock_guard lock(client.mu_);
  // Renewed a little early so a token does not expire on its way to the registry.
  client.tokens_[{endpoint.host, scope_key}] = {
      token, std::chrono::steady_clock::now() +
                 std::chrono::seconds(std::max<int64_t>(1, expires_in - 5))};
  return token;
}

Result<std::string> RegistryClient::Session::authorization(bool fresh_token) {
  std::optional<Challenge> ch;
  std::string scope_key = cache_key();
  {
    std::lock_guard lock(client.mu_);
    auto it = client.challenges_.find(endpoint.host);
    if (it == client.challenges_.end()) return std::string();
    ch = it->second;
    if (ch->scheme == "bearer" && !fresh_token) {
      auto t = client.tokens_.find({endpoint.host, scope_key});
      if (t != client.tokens_.end() && t->second.expires > std::chrono::steady_clock::now())
        return "Authorization: Bearer " + t->second.token;
    }
  }
  if (ch->scheme == "basic") {
    if (!credentials || credentials->username.empty()) return std::string();
    return "Authorization: Basic " +
           base64_encode(credentials->username + ":" + credentials->password);
  }
  std::string token = BERTH_VALUE(fetch_token(*ch));
  return "Authorization: Bearer " + token;
}

Result<HttpResponse> RegistryClient::Session::send(
    HttpRequest request, const std::function<void(HttpRequest&)>& before_attempt) {
  request.tls = &endpoint;
  int retries_left = client.config_.retries;
  auto backoff = client.config_.retry_backoff;
  bool fresh_token = false;
  int auth_rounds = 0;
  for (;;) {
    HttpRequest attempt = request;
    if (before_attempt) before_attempt(attempt);
    std::string auth = BERTH_VALUE(authorization(fresh_token));
    fresh_token = false;
    if (!auth.empty()) attempt.headers.push_back(auth);
    auto out = perform(attempt, client.config_);
    if (auto* f = std::get_if<HttpFailure>(&out)) {
      bool may_retry = f->retryable && (idempotent(request.method) || f->not_connected);
      // An attempt that moved the body forward does not use up a retry: a
      // long download over a link that drops now and then still completes
      // (each attempt resumes further on, so this cannot loop forever).
      if (may_retry && f->streamed > 0) {
        retries_left = client.config_.retries;
        backoff = client.config_.retry_backoff;
      }
      if (!may_retry || retries_left-- <= 0) return std::move(f->error);
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
      continue;
    }
    HttpResponse r = std::move(std::get<HttpResponse>(out));
    r.authorized = !auth.empty();
    if (r.status == 401 && auth_rounds < 2) {
      auto ch = parse_www_authenticate(r.header("www-authenticate"));
      if (ch) {
        bool had_auth = !auth.empty();
        bool insufficient = ch->param("error") == "insufficient_scope";
        {
          std::lock_guard lock(client.mu_);
          client.challenges_[endpoint.host] = *ch;
        }
        ++auth_rounds;
        if (ch->scheme == "bearer") {
          // First 401: no token yet, or an expired/insufficient cached one;
          // one fresh token, then the answer stands (skopeo does the same).
          if (!had_auth || insufficient || auth_rounds == 1) {
            fresh_token = had_auth;
            continue;
          }
        } else if (!had_auth && credentials && !credentials->username.empty()) {
          continue;
        }
      }
    }
    if (retry_status(r.status) && idempotent(request.method) && retries_left-- > 0) {
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
      continue;
    }
    return r;
  }
}

}  // namespace berth::remotes
