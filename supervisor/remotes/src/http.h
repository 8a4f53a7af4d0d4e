#pragma once
// One HTTP exchange over a libcurl easy handle of its own (so threads never
// share one). Bodies stream: a request body from a ByteSource window, a
// response body into a sink or a bounded string.

#include <functional>
#include <optional>
#include <variant>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/core/remotes.h"
#include "berth/remotes/hosts.h"

namespace berth::remotes {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value", repeated names kept as separate lines
  std::string body;                  // small bodies (manifests, empty PUTs)
  // A streamed upload of source[offset, offset + length) instead of `body`.
  const core::ByteSource* source = nullptr;
  int64_t source_offset = 0;
  int64_t source_length = 0;
  // Receives a 2xx body as it arrives; other bodies are kept in `body`.
  const core::ByteSink* sink = nullptr;
  // With `Range: bytes=<resume_from>-` sent: a server that ignores the range
  // answers 200 with the whole body; its first resume_from bytes are dropped
  // so the sink never sees a byte twice.
  int64_t resume_from = 0;
  size_t max_body = 1 << 20;      // larger buffered bodies fail with EFBIG
  const Endpoint* tls = nullptr;  // CA and client certificate of the host
};

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower case
  std::string body;
  int64_t streamed = 0;     // bytes given to the sink
  bool authorized = false;  // the request carried credentials or a token (set by Session)
  std::string header(std::string_view name) const;  // the last one named so, "" when absent
};

// Transport failures (refused, reset, dropped mid-body, timeouts): EHOSTUNREACH
// with Go's shape, `Get "URL": dial tcp HOST: connect: connection refused`.
// A sink or source error is returned as it was given. `retryable`: the
// failure is worth another attempt; `not_connected`: no byte reached the
// server, so even a non-idempotent request may be sent again.
struct HttpFailure {
  Error error;
  bool retryable = false;
  bool not_connected = false;
  int64_t streamed = 0;  // body bytes given to the sink before the failure
};
std::variant<HttpResponse, HttpFailure> perform(const HttpRequest& request,
                                                const HostsConfig& config);

}  // namespace berth::remotes
