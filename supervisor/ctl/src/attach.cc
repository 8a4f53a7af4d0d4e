// Attached stdio (see attach.h). The main thread reads the daemon's output;
// a second thread reads stdin and a third waits for SIGWINCH, both only
// writing to the stream (gRPC allows one reader and one writer at a time,
// so writes are serialised by a mutex).

#include "attach.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <mutex>
#include <thread>

#include "berth/base/scope_guard.h"
#include "berth/base/sys/io.h"
#include "terminal.h"

namespace berth::ctl {

namespace v1 = berth::v1;

Result<std::string> parse_detach_keys(std::string_view spec) {
  std::string keys;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    std::string_view key = spec.substr(start, comma - start);
    if (key.size() == 1) {
      keys.push_back(key[0]);
    } else if (key.starts_with("ctrl-") && key.size() == 6) {
      char c = key[5];
      if (c >= 'a' && c <= 'z')
        keys.push_back(char(c - 'a' + 1));
      else if (c == '@')
        keys.push_back(0);
      else if (c >= '[' && c <= '_')
        keys.push_back(char(c - '[' + 27));
      else
        return make_error("Unknown character: '" + std::string(key) + "'");
    } else {
      return make_error("Unknown character: '" + std::string(key) + "'");
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return keys;
}

namespace {

struct RawMode {
  struct termios old {};
  bool on = false;
  void enter() {
    if (sys::ioctl(STDIN_FILENO, TCGETS, &old) != 0) return;
    struct termios raw = old;
    ::cfmakeraw(&raw);
    raw.c_oflag = old.c_oflag;  // keep output processing: the container's tty does \r\n
    on = sys::ioctl(STDIN_FILENO, TCSETS, &raw) == 0;
  }
  ~RawMode() {
    if (on) (void)sys::ioctl(STDIN_FILENO, TCSETS, &old);
  }
};

std::optional<v1::TerminalSize> window_size() {
  struct winsize ws {};
  if (sys::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) return std::nullopt;
  v1::TerminalSize size;
  size.set_width(ws.ws_col);
  size.set_height(ws.ws_row);
  return size;
}

template <class Request>
Result<AttachEnd> attach_loop(Client& client, AttachStream<Request>& stream,
                              grpc::ClientContext& ctx, Request first,
                              const AttachOptions& options) {
  std::string detach = options.detach_keys.empty()
                           ? std::string("\x10\x11")
                           : BERTH_VALUE(parse_detach_keys(options.detach_keys));
  RawMode raw;
  bool terminal_in = options.stdin && options.tty && is_terminal(STDIN_FILENO);
  if (options.tty) {
    if (auto size = window_size()) *first.mutable_resize() = *size;
  }
  std::mutex write_mu;
  if (!stream.Write(first)) {
    grpc::Status st = stream.Finish();
    return client.error(st);
  }
  if (!options.stdin) {
    std::lock_guard lock(write_mu);
    stream.WritesDone();
  }
  if (terminal_in) raw.enter();
  std::atomic<bool> detached{false};
  if (options.tty) {
    // Window changes: a thread that owns SIGWINCH (blocked in every thread
    // since berthctl_main).
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGWINCH);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([&stream, &write_mu, set] {
      for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) return;
        auto size = window_size();
        if (!size) continue;
        Request r;
        *r.mutable_resize() = *size;
        std::lock_guard lock(write_mu);
        if (!stream.Write(r)) return;
      }
    }).detach();
  }
  if (options.stdin) {
    // Not joined: at the end the process exits while it may sit in read(2).
    std::thread([&stream, &write_mu, &ctx, &detached, detach, tty = options.tty] {
      char buf[32 * 1024];
      size_t matched = 0;
      for (;;) {
        auto r = sys::read_some(BorrowedFd(STDIN_FILENO), buf, sizeof buf);
        if (r.n <= 0) break;
        std::string data(buf, size_t(r.n));
        if (tty && !detach.empty()) {
          // docker's escape proxy: the keys typed in sequence detach; a
          // partial match is held back until it fails.
          std::string pass;
          for (char c : data) {
            if (c == detach[matched]) {
              if (++matched == detach.size()) {
                detached = true;
                ctx.TryCancel();
                return;
              }
              continue;
            }
            pass.append(detach.substr(0, matched));
            matched = 0;
            pass.push_back(c);
          }
          data = std::move(pass);
          if (data.empty()) continue;
        }
        Request req;
        req.set_stdin_data(std::move(data));
        std::lock_guard lock(write_mu);
        if (!stream.Write(req)) return;
      }
      Request end;
      end.set_close_stdin(true);
      std::lock_guard lock(write_mu);
      stream.Write(end);
      stream.WritesDone();
    }).detach();
  }
  AttachEnd result;
  v1::AttachResponse resp;
  bool exited = false;
  while (stream.Read(&resp)) {
    if (!resp.data().empty()) {
      int fd = resp.stream() == 2 ? STDERR_FILENO : STDOUT_FILENO;
      (void)write_out(fd, resp.data());
    }
    if (resp.exited()) {
      exited = true;
      result.exit_code = resp.exit_code();
      result.error = resp.error();
    }
  }
  grpc::Status st = stream.Finish();
  if (detached) {
    result.detached = true;
    return result;
  }
  // The daemon ends a stream it still reads stdin from by cancelling it:
  // once the exit arrived, that is no failure.
  if (exited) return result;
  if (!st.ok()) return client.error(st);
  if (!exited) result.detached = true;
  return result;
}

}  // namespace

Result<AttachEnd> run_attach(Client& client, AttachStream<v1::AttachRequest>& stream,
                             grpc::ClientContext& ctx, v1::AttachRequest first,
                             const AttachOptions& options) {
  return attach_loop(client, stream, ctx, std::move(first), options);
}

Result<AttachEnd> run_exec_attach(Client& client, AttachStream<v1::ExecRequest>& stream,
                                  grpc::ClientContext& ctx, v1::ExecRequest first,
                                  const AttachOptions& options) {
  return attach_loop(client, stream, ctx, std::move(first), options);
}

}  // namespace berth::ctl
