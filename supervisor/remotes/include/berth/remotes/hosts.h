#pragma once
// Which URLs a registry host name stands for, as docker decides it:
//
//   domain                          endpoints, in the order tried
//   docker.io                       each mirror (pulls only), then https://registry-1.docker.io
//   localhost, 127.0.0.0/8, ::1     http://<host[:port]>  (docker treats loopback as insecure)
//   listed in insecure_registries   http://<host[:port]>  (exact host[:port], or a CIDR of its IP)
//   anything else                   https://<host[:port]>, CAs and client certs from certs_dirs
//
// Insecure hosts get plain http only: docker would first try https without
// verification; that fallback is left out.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/core/image.h"

namespace berth::remotes {

struct HostsConfig {
  std::vector<std::string> insecure_registries;  // "host[:port]" or "10.0.0.0/8"
  std::vector<std::string> mirrors;              // for docker.io: "https://mirror.example[:port]"
  std::vector<std::string> certs_dirs = {"/etc/berth/certs.d", "/etc/docker/certs.d"};
  int retries = 3;                               // extra attempts on 5xx/429/dropped connections
  std::chrono::milliseconds retry_backoff{200};  // doubled after every attempt
  std::chrono::milliseconds connect_timeout{15000};
  // A transfer slower than low_speed_limit bytes/s for this long is dropped
  // (then resumed): a stalled registry must not hang a pull forever.
  std::chrono::milliseconds stall_timeout{30000};
  size_t max_manifest_size = core::kMaxManifestSize;  // resolve, fetch_manifest, push_manifest
  // For callers fetching config blobs (fetch_blob streams any blob and cannot
  // tell a config from a layer); the client itself does not apply it.
  size_t max_config_size = core::kMaxConfigSize;
  size_t chunk_size = 16 << 20;  // PATCH size of a chunked upload
};

struct Endpoint {
  std::string scheme;  // "http" or "https"
  std::string host;    // "127.0.0.1:5000", "registry-1.docker.io"
  bool mirror = false;
  // TLS material for https hosts (empty when none was found).
  std::string ca_file, client_cert, client_key;
  std::string base() const { return scheme + "://" + host; }
};

// "docker.io" → "registry-1.docker.io"; other domains unchanged.
std::string api_host(std::string_view domain);
bool is_loopback_host(std::string_view host);
// True when host[:port] matches an entry (exact, or an IP literal inside a CIDR).
bool is_insecure_host(std::string_view host, const std::vector<std::string>& insecure);
// The endpoints for `domain`; mirrors only when `for_pull`. Errors name a
// malformed mirror URL.
Result<std::vector<Endpoint>> endpoints_for(const HostsConfig& config, std::string_view domain,
                                            bool for_pull);

}  // namespace berth::remotes
