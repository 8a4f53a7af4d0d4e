#pragma once
// Real peers for RegistryClient's integration tests: Debian's
// docker-registry 2.8.2 (anonymous, htpasswd or token auth) and the
// scripted servers (fault_server.py, spec-tests/lib/token_server.py), each
// on 127.0.0.1 with a free port in its own temp dir, stopped by PID.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "berth/core/remotes.h"

namespace berth::remotes::testing {

// A child process whose first stdout line is its port; killed and reaped on destruction.
class Peer {
 public:
  Peer() = default;
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;
  Peer(Peer&& o) noexcept : pid_(o.pid_), port_(o.port_) { o.pid_ = 0; }
  Peer& operator=(Peer&& o) noexcept {
    std::swap(pid_, o.pid_);
    std::swap(port_, o.port_);
    return *this;
  }
  ~Peer();
  static Peer spawn_reporting_port(const std::vector<std::string>& argv, const std::string& log);
  static Peer spawn(const std::vector<std::string>& argv, const std::string& log, int port);
  int port() const { return port_; }
  int pid() const { return pid_; }

 private:
  int pid_ = 0;
  int port_ = 0;
};

struct TempDir {
  std::string path;
  TempDir();
  TempDir(TempDir&& o) noexcept : path(std::move(o.path)) { o.path.clear(); }
  TempDir(const TempDir&) = delete;
  ~TempDir();
};

enum class Auth { kNone, kBasic, kToken };

struct LocalRegistry {
  TempDir dir;
  Peer token_server;
  Peer registry;
  std::string host;  // "127.0.0.1:PORT"
  // users: name → password (htpasswd bcrypt, or the token server's users with
  // pull,push and the refresh token "idtok-<name>")
  static LocalRegistry start(Auth auth, const std::map<std::string, std::string>& users = {});
};

int free_port();
std::string fault_server_script();

class MemoryCredentials : public core::CredentialStore {
 public:
  std::map<std::string, core::Credentials> entries;
  Result<std::optional<core::Credentials>> get(std::string_view host) override {
    auto it = entries.find(std::string(host));
    if (it == entries.end()) return std::optional<core::Credentials>();
    return std::optional<core::Credentials>(it->second);
  }
  Status store(std::string_view host, const core::Credentials& c) override {
    entries[std::string(host)] = c;
    return ok_status();
  }
  Status erase(std::string_view host) override {
    entries.erase(std::string(host));
    return ok_status();
  }
};

}  // namespace berth::remotes::testing
