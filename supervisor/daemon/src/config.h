#pragma once
// berthd's configuration: defaults, then /etc/berth/berthd.toml (or
// --config), then flags. Every default works without a file.
//
//   key                        default                   flag
//   root                       /var/lib/berthd           --root
//   state                      /run/berthd               --state
//   address                    <state>/berthd.sock       --address
//   group                      "" (root only)            --group
//   log-level                  info                      --log-level
//   log-file                   "" (stderr)               --log-file
//   snapshotter                overlayfs (native if overlay is unavailable)
//   max-concurrent-downloads   3
//   auth-config                $HOME/.docker/config.json (docker's)
//   insecure-registries        []   (loopback registries are always plain http)
//   registry-mirrors           []   (for docker.io)
//   certs-dirs                 ["/etc/berth/certs.d", "/etc/docker/certs.d"]
//   shim-binary                berth-shim next to berthd (or the build tree's), then PATH
//   logger-binary              berth-logger next to berthd, in libexec/berth, or the build tree's
//   default-runtime            berth next to berthd (or the build tree's), then PATH

#include <string>
#include <vector>

#include "berth/base/error.h"

namespace berth::daemon {

struct Config {
  std::string root = "/var/lib/berthd";
  std::string state = "/run/berthd";
  std::string address;  // empty: <state>/berthd.sock
  std::string group;
  std::string log_level = "info";
  std::string log_file;
  std::string snapshotter = "overlayfs";
  int max_concurrent_downloads = 3;
  std::string auth_config;
  std::vector<std::string> insecure_registries;
  std::vector<std::string> registry_mirrors;
  std::vector<std::string> certs_dirs = {"/etc/berth/certs.d", "/etc/docker/certs.d"};
  std::string shim_binary, logger_binary, default_runtime;  // empty: found (builtins.cc)
};

// Reads `path` into `config`; a missing file is fine only when `required`
// is false (the default path). Errors name the file, the key and the line.
Status load_config(const std::string& path, bool required, Config& config);

}  // namespace berth::daemon
