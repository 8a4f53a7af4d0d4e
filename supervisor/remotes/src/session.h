#pragma once
// One registry call's view of a host: its endpoint, the token scopes it
// needs and the credentials for it. send() adds authentication (answering
// 401 challenges) and retries; the caller sees the registry's final answer.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "berth/remotes/registry_client.h"
#include "http.h"

namespace berth::remotes {

struct RegistryClient::Session {
  RegistryClient& client;
  Endpoint endpoint;
  std::vector<std::string> scopes;  // "repository:library/busybox:pull"
  std::optional<core::Credentials> credentials;

  // `before_attempt` adjusts the request before every attempt (a Range
  // header that follows the bytes already delivered).
  Result<HttpResponse> send(HttpRequest request,
                            const std::function<void(HttpRequest&)>& before_attempt = {});
  std::string url(std::string_view path) const { return endpoint.base() + std::string(path); }

 private:
  Result<std::string> authorization(bool fresh_token);
  Result<std::string> fetch_token(const Challenge& challenge);
  std::string cache_key() const;
};

// The registry's error body ({"errors":[{"code","message"}]}) as docker
// prints it ("manifest unknown: manifest unknown"), classed by errdefs.h;
// without a body, by the status ("received unexpected HTTP status: 500 …").
Error error_from(const HttpResponse& response);

// Runs `op` against each endpoint of the domain in turn (mirrors first for
// pulls); the last endpoint's error stands when all fail.
template <class T, class Op>
Result<T> on_endpoints(RegistryClient& client, const HostsConfig& config,
                       core::CredentialStore& store, const core::Reference& ref, bool for_pull,
                       std::vector<std::string> scopes, Op&& op) {
  auto endpoints = BERTH_VALUE(endpoints_for(config, ref.domain, for_pull));
  auto credentials = BERTH_VALUE(store.get(ref.domain));
  std::optional<Result<T>> last;
  for (auto& e : endpoints) {
    RegistryClient::Session s{client, std::move(e), scopes, credentials};
    last.emplace(op(s));
    if (last->ok()) return std::move(*last);
    // A mirror that cannot serve the content falls through to the next one,
    // as docker's mirrors do; a canceled transfer stops there.
    if (!s.endpoint.mirror || last->error().code() == ECANCELED) break;
  }
  return std::move(*last);
}

}  // namespace berth::remotes
