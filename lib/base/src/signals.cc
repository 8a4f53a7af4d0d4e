#include "berth/base/signals.h"

#include <signal.h>

#include <array>
#include <cctype>
#include <charconv>
#include <string>
#include <optional>
#include <utility>

namespace berth {

namespace {
constexpr std::array<std::pair<std::string_view, int>, 31> kSignals{{
    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"SYS", SIGSYS},
}};

std::optional<int> parse_int(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}
}  // namespace

Result<int> parse_signal(std::string_view text) {
  auto bad = [&] { return make_error("invalid signal `" + std::string(text) + "`"); };
  if (auto n = parse_int(text)) {
    if (*n <= 0 || *n > SIGRTMAX) return bad();
    return *n;
  }
  std::string name(text);
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  for (const auto& [n, v] : kSignals)
    if (name == n) return v;
  for (std::string_view base : {"RTMIN", "RTMAX"}) {
    if (name.rfind(base, 0) != 0) continue;
    int root = base == "RTMIN" ? SIGRTMIN : SIGRTMAX;
    std::string_view rest = std::string_view(name).substr(base.size());
    if (rest.empty()) return root;
    auto off = parse_int(rest.substr(1));
    if (!off) return bad();
    int sig = rest[0] == '+' ? root + *off : rest[0] == '-' ? root - *off : -1;
    if (sig < SIGRTMIN || sig > SIGRTMAX) return bad();
    return sig;
  }
  return bad();
}

}  // namespace berth
