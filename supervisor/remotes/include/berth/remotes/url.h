#pragma once
// A plain download (`import URL`): http or https only, through the
// registry client's transport (one curl handle per call, redirects
// followed, Go's error shapes), the body streamed to the sink.

#include <string_view>

#include "berth/base/error.h"
#include "berth/core/remotes.h"
#include "berth/remotes/hosts.h"

namespace berth::remotes {

// Errors: EINVAL for a URL that is not http(s), ENOENT for a 404, another
// status names the code, transport failures as the registry calls say them.
Status fetch_url(const HostsConfig& config, std::string_view url, const core::ByteSink& sink);

}  // namespace berth::remotes
