#include "berth/logs/logger.h"

#include <poll.h>
#include <signal.h>

#include <array>
#include <cstdio>
#include <cstdlib>

#include "berth/base/sys/event.h"
#include "berth/base/sys/files.h"
#include "berth/base/sys/io.h"

namespace berth::logs {

namespace {

// How long a partial line waits for the rest before it is written alone.
constexpr int kPartialIdleMs = 50;

int64_t wall_ns() {
  auto t = sys::wall_now();
  return t.seconds * 1000000000 + t.nanos;
}

// A previous logger of the same file (the container restarted and its old
// task is being deleted) may still be draining: wait for it a little,
// within the shim's readiness limit.
Result<UniqueFd> lock_log(const std::string& path) {
  std::string name = lock_name(path);
  auto fd = BERTH_VALUE(sys::open(name, O_RDWR | O_CREAT, 0600));
  for (int tries = 0;; ++tries) {
    if (sys::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return fd;
    if (errno != EWOULDBLOCK || tries == 250) return sys_error("lock", name);
    struct timespec ts {
      0, 20 * 1000 * 1000
    };
    sys::nanosleep(&ts, nullptr);
  }
}

struct Source {
  Stream stream;
  int fd;
  LineAssembler lines;
};

}  // namespace

Result<RotateOptions> parse_logger_args(const std::vector<std::string>& args) {
  if (args.size() % 2 != 0) {
    return make_error("arguments: expected key value pairs, got " + std::to_string(args.size()));
  }
  RotateOptions o;
  for (size_t i = 0; i < args.size(); i += 2) {
    const std::string& k = args[i];
    const std::string& v = args[i + 1];
    if (k == "path") {
      if (!v.starts_with('/')) return make_error("path `" + v + "`: not absolute");
      o.path = v;
    } else if (k == "max-size") {
      o.max_size = BERTH_VALUE(parse_max_size(v));
    } else if (k == "max-file") {
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 1 || n > 1000000) {
        return make_error("max-file `" + v + "`: must be an integer of at least 1");
      }
      o.max_file = static_cast<int>(n);
    } else {
      return make_error("log option `" + k + "`: unknown (path, max-size, max-file)");
    }
  }
  if (o.path.empty()) return make_error("path: missing");
  return o;
}

Status run_logger(const RotateOptions& options, const LoggerFds& fds) {
  const int signals[] = {SIGTERM, SIGINT};
  auto sigfd = BERTH_VALUE(sys::signalfd_for(signals));
  auto lock = BERTH_VALUE(lock_log(options.path));
  auto file = BERTH_VALUE(RotatingFile::open(options));

  std::array<Source, 2> sources{Source{Stream::kStdout, fds.out, {}},
                                Source{Stream::kStderr, fds.err, {}}};
  for (auto& s : sources) {
    // A driver that passed only one stream: the other is at EOF.
    if (sys::fcntl(s.fd, F_GETFD) < 0 || !sys::set_nonblocking(BorrowedFd(s.fd), true)) s.fd = -1;
  }
  // Ready: the container may start writing now.
  if (fds.ready >= 0) sys::close_fd(fds.ready);

  bool reported = false;
  auto report = [&](const Status& st) {
    if (!st && !reported) {  // stderr is /dev/null under the shim; once is enough
      fprintf(stderr, "berth-logger: %s\n", st.error().to_string().c_str());
      reported = true;
    }
  };
  Stream current = Stream::kStdout;
  std::string record;
  LineAssembler::Sink sink = [&](std::string_view bytes, int64_t t) {
    record.clear();
    append_record(record, current, bytes, t);
    report(file.add(record));
  };
  static char buf[64 * 1024];
  // One read per ready stream per round: a chatty stdout cannot starve
  // stderr, and each round is one write(2) to the file.
  auto read_once = [&](Source& s) -> bool {
    auto r = sys::read_some(BorrowedFd(s.fd), buf, sizeof buf);
    if (r.would_block()) return false;
    current = s.stream;
    if (r.n <= 0) {  // EOF, or an error that ends the stream alike
      s.lines.finish(wall_ns(), sink);
      s.fd = -1;
      return false;
    }
    s.lines.feed(std::string_view(buf, static_cast<size_t>(r.n)), wall_ns(), sink);
    return true;
  };

  for (;;) {
    struct pollfd p[3] = {
        {sources[0].fd, POLLIN, 0}, {sources[1].fd, POLLIN, 0}, {sigfd.get(), POLLIN, 0}};
    if (sources[0].fd < 0 && sources[1].fd < 0) break;
    bool partial = sources[0].lines.has_partial() || sources[1].lines.has_partial();
    int ready = sys::poll(p, 3, partial ? kPartialIdleMs : -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return sys_error("poll", "container output");
    }
    if (ready == 0) {
      // A line without its newline and nothing more coming: a shell's
      // prompt. berthd's attach reads this file, so the prompt must reach
      // it now, as a partial record (no \n) that readers join with the rest.
      for (auto& s : sources) {
        current = s.stream;
        if (s.lines.has_partial()) s.lines.finish(wall_ns(), sink);
      }
      report(file.flush());
      continue;
    }
    for (int i = 0; i < 2; ++i) {
      if (sources[i].fd >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR))) {
        read_once(sources[i]);
      }
    }
    report(file.flush());
    if (p[2].revents & POLLIN) {
      // Task deleted: what the pipes hold now is all there will be read;
      // whatever keeps them open (a process outliving its container's
      // init) must not keep the logger.
      for (auto& s : sources) {
        while (s.fd >= 0 && read_once(s)) {}
        if (s.fd >= 0) {
          current = s.stream;
          s.lines.finish(wall_ns(), sink);
        }
      }
      report(file.flush());
      break;
    }
  }
  return ok_status();
}

}  // namespace berth::logs
