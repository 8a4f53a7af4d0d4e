#include "registry_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "berth/base/sys.h"

namespace berth::remotes::testing {
namespace {

bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::string run_output(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("popen " + command);
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
  if (pclose(p) != 0) throw std::runtime_error("command failed: " + command);
  return out;
}

// Peers die with the test process even when it aborts (a crashed test case
// skips the destructors that stop them by PID).
std::vector<std::string> dying_with_us(const std::vector<std::string>& argv) {
  std::vector<std::string> out = {"/usr/bin/setpriv", "--pdeathsig", "KILL", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

}  // namespace

TempDir::TempDir() {
  char tmpl[] = "/tmp/berth-remotes-test.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
  path = tmpl;
}

TempDir::~TempDir() {
  if (!path.empty()) std::filesystem::remove_all(path);
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string fault_server_script() { return BERTH_REMOTES_TEST_DIR "/fault_server.py"; }

Peer::~Peer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

Peer Peer::spawn(const std::vector<std::string>& argv, const std::string& log, int port) {
  int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  sys::SpawnOptions o;
  o.argv = dying_with_us(argv);
  o.stdio[1] = log_fd;
  o.stdio[2] = log_fd;
  auto pid = sys::spawn(o);
  ::close(log_fd);
  if (!pid.ok()) throw std::runtime_error("spawn " + argv[0] + ": " + pid.error().to_string());
  Peer p;
  p.pid_ = *pid;
  p.port_ = port;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!port_open(port)) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error(argv[0] + " not listening on " + std::to_string(port));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return p;
}

Peer Peer::spawn_reporting_port(const std::vector<std::string>& argv, const std::string& log) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  sys::SpawnOptions o;
  o.argv = dying_with_us(argv);
  o.stdio[1] = fds[1];
  o.stdio[2] = log_fd;
  auto pid = sys::spawn(o);
  ::close(fds[1]);
  ::close(log_fd);
  if (!pid.ok()) throw std::runtime_error("spawn " + argv[0] + ": " + pid.error().to_string());
  Peer p;
  p.pid_ = *pid;
  std::string line;
  char c;
  while (::read(fds[0], &c, 1) == 1 && c != '\n') line += c;
  ::close(fds[0]);
  if (line.empty()) throw std::runtime_error(argv[1] + " reported no port (see " + log + ")");
  p.port_ = std::stoi(line);
  return p;
}

LocalRegistry LocalRegistry::start(Auth auth, const std::map<std::string, std::string>& users) {
  LocalRegistry r;
  const std::string& d = r.dir.path;
  int port = free_port();
  r.host = "127.0.0.1:" + std::to_string(port);
  std::ofstream cfg(d + "/config.yml");
  cfg << "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"
      << "storage:\n  filesystem:\n    rootdirectory: " << d
      << "/data\n  delete:\n    enabled: true\n"
      << "http:\n  addr: 127.0.0.1:" << port << "\n  secret: berth-remotes-test\n";
  if (auth == Auth::kBasic) {
    std::ofstream pw(d + "/htpasswd");
    for (const auto& [u, p] : users) pw << run_output("htpasswd -Bbn '" + u + "' '" + p + "'");
    cfg << "auth:\n  htpasswd:\n    realm: berth-test\n    path: " << d << "/htpasswd\n";
  } else if (auth == Auth::kToken) {
    std::vector<std::string> argv = {"/usr/bin/python3",
                                     BERTH_SPEC_TESTS_DIR "/lib/token_server.py", d, "berth-test",
                                     "berth-test-issuer"};
    for (const auto& [u, p] : users) argv.push_back(u + ":" + p);
    // Every user also has an OAuth2 refresh token (docker's identity token).
    for (const auto& [u, p] : users) argv.push_back("refresh:idtok-" + u + ":" + u);
    r.token_server = Peer::spawn_reporting_port(argv, d + "/token.log");
    cfg << "auth:\n  token:\n    realm: http://127.0.0.1:" << r.token_server.port() << "/token\n"
        << "    service: berth-test\n    issuer: berth-test-issuer\n"
        << "    rootcertbundle: " << d << "/token-signer.pem\n";
  }
  cfg.close();
  r.registry = Peer::spawn({"/usr/bin/docker-registry", "serve", d + "/config.yml"},
                           d + "/registry.log", port);
  return r;
}

}  // namespace berth::remotes::testing
