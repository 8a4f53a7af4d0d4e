#include "http.h"

#include <curl/curl.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <variant>

#include "berth/core/errdefs.h"

namespace berth::remotes {
namespace {

void global_init() {
  static std::once_flag once;
  // curl_global_init is not thread-safe itself; every client shares this one call.
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  const HttpRequest* request;
  HttpResponse response;
  std::optional<Error> sink_error;
  bool too_big = false;
  int64_t upload_pos = 0;
  int64_t discard = -1;  // bytes still to drop from a 200 answering a Range; -1: not decided
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.substr(0, 5) == "HTTP/") {
    // A new response (after a 100 Continue or a redirect): forget the last one's headers.
    t->response.headers.clear();
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  t->response.headers.emplace_back(lower(line.substr(0, colon)), std::string(value));
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  if (t->request->sink != nullptr && t->response.status / 100 == 2) {
    if (t->discard < 0) t->discard = t->response.status == 200 ? t->request->resume_from : 0;
    if (t->discard > 0) {
      size_t drop = std::min(len, static_cast<size_t>(t->discard));
      t->discard -= static_cast<int64_t>(drop);
      data += drop;
      len -= drop;
      if (len == 0) return size * n;
    }
    Status st = (*t->request->sink)(std::string_view(data, len));
    if (!st.ok()) {
      t->sink_error = std::move(st).error();
      return 0;  // aborts the transfer
    }
    t->response.streamed += static_cast<int64_t>(len);
    return size * n;
  }
  if (t->response.body.size() + len > t->request->max_body) {
    t->too_big = true;
    return 0;
  }
  t->response.body.append(data, len);
  return len;
}

size_t on_read(char* buffer, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const HttpRequest& r = *t->request;
  int64_t left = r.source_length - t->upload_pos;
  if (left <= 0) return 0;
  size_t want = std::min(size * n, static_cast<size_t>(left));
  auto chunk = (*r.source)(r.source_offset + t->upload_pos, want);
  if (!chunk.ok()) {
    t->sink_error = std::move(chunk).error();
    return CURL_READFUNC_ABORT;
  }
  if (chunk->empty()) {
    t->sink_error = core::data_loss("upload: source ended at byte " +
                                    std::to_string(r.source_offset + t->upload_pos) + " of " +
                                    std::to_string(r.source_offset + r.source_length));
    return CURL_READFUNC_ABORT;
  }
  size_t len = std::min(chunk->size(), want);
  std::memcpy(buffer, chunk->data(), len);
  t->upload_pos += static_cast<int64_t>(len);
  return len;
}

std::string go_method(std::string_view m) {
  std::string out;
  for (size_t i = 0; i < m.size(); ++i)
    out += i == 0 ? m[i] : static_cast<char>(std::tolower(static_cast<unsigned char>(m[i])));
  return out;
}

std::string host_of(std::string_view url) {
  size_t s = url.find("://");
  std::string_view rest = s == std::string_view::npos ? url : url.substr(s + 3);
  std::string host(rest.substr(0, rest.find_first_of("/?")));
  if (host.find(':') == std::string::npos || (host[0] == '[' && host.back() == ']'))
    host += url.substr(0, 5) == "https" ? ":443" : ":80";
  return host;
}

HttpFailure transport_failure(const HttpRequest& r, CURLcode code, const char* detail) {
  // Go's net/http shapes, which docker users know: the verb, the URL, then why.
  std::string prefix = go_method(r.method) + " \"" + r.url + "\": ";
  std::string why;
  switch (code) {
    case CURLE_COULDNT_CONNECT:
      why = "dial tcp " + host_of(r.url) + ": connect: connection refused";
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
      why = "dial tcp: lookup " + host_of(r.url) + ": no such host";
      break;
    case CURLE_OPERATION_TIMEDOUT:
      why = "net/http: request canceled (Client.Timeout exceeded while awaiting headers)";
      break;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING: why = "unexpected EOF"; break;
    default:
      why = (detail != nullptr && detail[0] != '\0') ? detail : curl_easy_strerror(code);
      for (char& c : why) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      while (!why.empty() && (why.back() == '\n' || why.back() == '.')) why.pop_back();
  }
  bool retryable = code == CURLE_COULDNT_CONNECT || code == CURLE_OPERATION_TIMEDOUT ||
                   code == CURLE_PARTIAL_FILE || code == CURLE_RECV_ERROR ||
                   code == CURLE_SEND_ERROR || code == CURLE_GOT_NOTHING;
  return HttpFailure{core::unavailable(prefix + why), retryable,
                     code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST};
}

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
  std::string want = lower(name);
  std::string out;
  for (const auto& [k, v] : headers)
    if (k == want) out = v;
  return out;
}

std::variant<HttpResponse, HttpFailure> perform(const HttpRequest& r, const HostsConfig& config) {
  global_init();
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return HttpFailure{make_error("curl_easy_init failed", ENOMEM), false};
  struct Cleanup {
    CURL* c;
    curl_slist* h = nullptr;
    ~Cleanup() {
      curl_slist_free_all(h);
      curl_easy_cleanup(c);
    }
  } cleanup{curl};

  Transfer t{&r, {}, std::nullopt, false, 0, -1};
  char errbuf[CURL_ERROR_SIZE] = {};
  for (const auto& h : r.headers) cleanup.h = curl_slist_append(cleanup.h, h.c_str());
  // curl adds "Expect: 100-continue" to large uploads; docker-registry answers
  // it, but a proxy may not, and the round trip buys nothing here.
  cleanup.h = curl_slist_append(cleanup.h, "Expect:");

  curl_easy_setopt(curl, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, cleanup.h);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  // Reads follow redirects: Docker Hub and S3-backed registries answer blob
  // GETs with a 307 to a CDN. curl (since 7.58, CVE-2018-1000007) sends our
  // Authorization header only to the original host, so the registry's token
  // never reaches the CDN. Writes never follow: their Locations are upload
  // sessions the push code resolves itself.
  bool read = r.method == "GET" || r.method == "HEAD";
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, read ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(config.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                   std::max(1L, static_cast<long>(config.stall_timeout.count() / 1000)));
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "berthd/0 (docker-compatible)");
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  if (r.tls != nullptr) {
    if (!r.tls->ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, r.tls->ca_file.c_str());
    if (!r.tls->client_cert.empty()) {
      curl_easy_setopt(curl, CURLOPT_SSLCERT, r.tls->client_cert.c_str());
      curl_easy_setopt(curl, CURLOPT_SSLKEY, r.tls->client_key.c_str());
    }
  }

  if (r.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (r.source != nullptr) {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &t);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(r.source_length));
  } else if (r.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, r.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  }

  // Only a 2xx body is content for the sink: curl knows the status once the
  // headers are in, before the first body byte.
  struct StatusPeek {
    static size_t body(char* d, size_t s, size_t n, void* u) {
      auto* pair = static_cast<std::pair<CURL*, Transfer*>*>(u);
      if (pair->second->response.status == 0)
        curl_easy_getinfo(pair->first, CURLINFO_RESPONSE_CODE, &pair->second->response.status);
      return on_body(d, s, n, pair->second);
    }
  };
  std::pair<CURL*, Transfer*> peek{curl, &t};
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, StatusPeek::body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &peek);

  CURLcode code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &t.response.status);
  if (t.sink_error) return HttpFailure{std::move(*t.sink_error), false};
  if (t.too_big) {
    return HttpFailure{
        make_error(go_method(r.method) + " \"" + r.url + "\": response larger than " +
                       std::to_string(r.max_body) + " bytes",
                   EFBIG),
        false};
  }
  if (code != CURLE_OK) {
    HttpFailure f = transport_failure(r, code, errbuf);
    f.streamed = t.response.streamed;
    if (f.streamed > 0) f.retryable = true;  // dropped mid-body: resumable
    return f;
  }
  return std::move(t.response);
}

}  // namespace berth::remotes
