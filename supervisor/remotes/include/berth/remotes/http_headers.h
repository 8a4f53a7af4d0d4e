#pragma once
// Parsers for the HTTP headers the distribution API speaks, kept apart from
// libcurl so they are unit-tested as data.
//
//   header              shape (RFC 7235 / RFC 8288)
//   WWW-Authenticate    Bearer
//   realm="https://a/token",service="reg",scope="repository:x:pull,push",
//                       error="insufficient_scope"      (quoted values may hold commas)
//                       Basic realm="Registry Realm"
//   Link                <URL>; rel="next"                (tags/list and _catalog pages)
//   Location            absolute URL, or a path relative to the request's origin

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace berth::remotes {

struct Challenge {
  std::string scheme;                         // "basic" or "bearer", lower case
  std::map<std::string, std::string> params;  // keys lower case: realm, service, scope, error
  std::string param(const std::string& key) const {
    auto it = params.find(key);
    return it == params.end() ? std::string() : it->second;
  }
};

// The first Basic or Bearer challenge of the header; nullopt when none.
std::optional<Challenge> parse_www_authenticate(std::string_view header);
// The URL of the rel="next" link, resolved against `request_url`.
std::optional<std::string> parse_link_next(std::string_view header, std::string_view request_url);
// `location` made absolute against the origin (scheme://host[:port]) of `request_url`.
std::string resolve_location(std::string_view location, std::string_view request_url);
// Appends `key=value` with '?' or '&' as the URL needs (value percent-encoded).
std::string add_query(std::string_view url, std::string_view key, std::string_view value);
std::string percent_encode(std::string_view text);

}  // namespace berth::remotes
