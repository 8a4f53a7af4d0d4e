#include "berth/remotes/hosts.h"

#include <arpa/inet.h>

#include <cstring>

#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "berth/core/reference.h"

namespace berth::remotes {
namespace {

constexpr std::string_view kDockerHubApi = "registry-1.docker.io";

// "host:port" / "[v6]:port" / "host" → the host part without brackets.
std::string host_part(std::string_view hostport) {
  if (!hostport.empty() && hostport[0] == '[') {
    size_t close = hostport.find(']');
    return std::string(
        hostport.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  // A bare IPv6 literal has several colons and no port.
  if (hostport.find(':') != hostport.rfind(':')) return std::string(hostport);
  return std::string(hostport.substr(0, hostport.find(':')));
}

struct Ip {
  int family = 0;
  unsigned char bytes[16] = {};
};

bool parse_ip(const std::string& text, Ip& ip) {
  if (inet_pton(AF_INET, text.c_str(), ip.bytes) == 1) {
    ip.family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), ip.bytes) == 1) {
    ip.family = AF_INET6;
    return true;
  }
  return false;
}

bool in_cidr(const Ip& ip, std::string_view cidr) {
  size_t slash = cidr.find('/');
  if (slash == std::string_view::npos) return false;
  Ip net;
  if (!parse_ip(std::string(cidr.substr(0, slash)), net) || net.family != ip.family) return false;
  int bits = 0;
  for (char c : cidr.substr(slash + 1)) {
    if (c < '0' || c > '9') return false;
    bits = bits * 10 + (c - '0');
  }
  int max = ip.family == AF_INET ? 32 : 128;
  if (bits > max) return false;
  for (int b = 0; b < bits; ++b) {
    int mask = 0x80 >> (b % 8);
    if ((ip.bytes[b / 8] & mask) != (net.bytes[b / 8] & mask)) return false;
  }
  return true;
}

std::string file_if_present(const std::string& path) {
  return sys::exists(path) ? path : std::string();
}

void add_tls_files(const HostsConfig& config, Endpoint& e) {
  for (const auto& dir : config.certs_dirs) {
    std::string base = dir + "/" + e.host + "/";
    if (e.ca_file.empty()) e.ca_file = file_if_present(base + "ca.crt");
    if (e.client_cert.empty()) {
      std::string cert = file_if_present(base + "client.cert");
      std::string key = file_if_present(base + "client.key");
      // A certificate without its key (or the reverse) is docker's error too.
      if (!cert.empty() && !key.empty()) {
        e.client_cert = cert;
        e.client_key = key;
      }
    }
  }
}

Endpoint endpoint(const HostsConfig& config, std::string host, bool mirror) {
  Endpoint e;
  e.host = std::move(host);
  e.mirror = mirror;
  bool plain = is_loopback_host(e.host) || is_insecure_host(e.host, config.insecure_registries);
  e.scheme = plain ? "http" : "https";
  if (!plain) add_tls_files(config, e);
  return e;
}

}  // namespace

std::string api_host(std::string_view domain) {
  if (domain == core::kDockerHub || domain == "index.docker.io") return std::string(kDockerHubApi);
  return std::string(domain);
}

bool is_loopback_host(std::string_view hostport) {
  std::string host = host_part(hostport);
  if (host == "localhost") return true;
  Ip ip;
  if (!parse_ip(host, ip)) return false;
  if (ip.family == AF_INET) return ip.bytes[0] == 127;
  static const unsigned char kLoop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return std::memcmp(ip.bytes, kLoop6, 16) == 0;
}

bool is_insecure_host(std::string_view hostport, const std::vector<std::string>& insecure) {
  std::string host = host_part(hostport);
  Ip ip;
  bool is_ip = parse_ip(host, ip);
  for (const auto& entry : insecure) {
    if (entry == hostport || entry == host) return true;
    if (is_ip && in_cidr(ip, entry)) return true;
  }
  return false;
}

Result<std::vector<Endpoint>> endpoints_for(const HostsConfig& config, std::string_view domain,
                                            bool for_pull) {
  std::vector<Endpoint> out;
  std::string host = api_host(domain);
  if (host == kDockerHubApi && for_pull) {
    for (const auto& m : config.mirrors) {
      std::string_view url = m;
      std::string scheme;
      if (size_t p = url.find("://"); p != std::string_view::npos) {
        scheme = std::string(url.substr(0, p));
        url = url.substr(p + 3);
      }
      while (!url.empty() && url.back() == '/') url.remove_suffix(1);
      if (url.empty() || url.find('/') != std::string_view::npos ||
          (!scheme.empty() && scheme != "http" && scheme != "https")) {
        return core::invalid_argument("registry mirror `" + m +
                                      "`: want scheme://host[:port] without a path");
      }
      Endpoint e = endpoint(config, std::string(url), true);
      if (!scheme.empty()) e.scheme = scheme;
      out.push_back(std::move(e));
    }
  }
  out.push_back(endpoint(config, host, false));
  return out;
}

}  // namespace berth::remotes
