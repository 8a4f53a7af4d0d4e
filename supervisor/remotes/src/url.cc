// Plain downloads (see url.h).

#include "berth/remotes/url.h"

#include "berth/core/errdefs.h"
#include "http.h"

namespace berth::remotes {

Status fetch_url(const HostsConfig& config, std::string_view url, const core::ByteSink& sink) {
  if (!url.starts_with("http://") && !url.starts_with("https://"))
    return core::invalid_argument("`" + std::string(url) +
                                  "`: only http and https URLs can be downloaded");
  HttpRequest request;
  request.url = std::string(url);
  request.sink = &sink;
  auto result = perform(request, config);
  if (auto* failure = std::get_if<HttpFailure>(&result)) return std::move(failure->error);
  const auto& response = std::get<HttpResponse>(result);
  if (response.status == 404)
    return core::not_found("Get \"" + std::string(url) + "\": 404 Not Found");
  if (response.status < 200 || response.status >= 300)
    return core::unavailable("Get \"" + std::string(url) + "\": status " +
                             std::to_string(response.status));
  return ok_status();
}

}  // namespace berth::remotes
