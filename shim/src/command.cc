#include "command.h"

#include <fcntl.h>
#include <sys/wait.h>

#include <memory>

#include "berth/base/sys.h"
#include "berth/base/sys.h"

namespace berth::shim {

namespace {

// One capture pipe: its read end on the loop, the text read so far.
struct Capture {
  UniqueFd fd;
  loop::Loop::Handle watch = 0;
  std::string text;
  size_t limit = 0;

  // Reads what is there; false at end of file or error.
  bool drain() {
    char buf[16384];
    for (;;) {
      auto r = sys::read_some(fd, buf, sizeof buf);
      if (r.would_block()) return true;
      if (r.n <= 0) return false;
      size_t room = limit > text.size() ? limit - text.size() : 0;
      text.append(buf, std::min(room, static_cast<size_t>(r.n)));
    }
  }
};

struct Running {
  Capture out;
  Capture err;
  CommandRunner::Done done;
};

void stop_capture(loop::Loop& loop, Capture& c) {
  if (c.watch != 0) loop.remove(c.watch);
  c.watch = 0;
  c.fd.reset();
}

}  // namespace

void CommandRunner::run(const CommandSpec& spec, Done done) {
  auto running = std::make_shared<Running>();
  running->done = std::move(done);
  sys::SpawnOptions opts;
  opts.argv = spec.argv;
  opts.extra_fds = spec.extra_fds;
  opts.stdio[0] = spec.stdio[0];
  UniqueFd out_w, err_w;
  for (int i = 1; i <= 2; ++i) {
    if (spec.stdio[i] >= 0 || !spec.capture) {
      opts.stdio[i] = spec.stdio[i];
      continue;
    }
    auto p = sys::pipe(O_NONBLOCK);
    if (!p) {
      auto cb = std::move(running->done);
      auto e = std::move(p).error();
      loop_.defer([cb, e] { cb(e); });
      return;
    }
    Capture& c = i == 1 ? running->out : running->err;
    c.fd = std::move(p->read);
    c.limit = spec.capture_limit;
    // The child's end must block like any ordinary stdout.
    (void)sys::set_nonblocking(p->write, false);
    opts.stdio[i] = p->write.get();
    (i == 1 ? out_w : err_w) = std::move(p->write);
  }
  auto pid = sys::spawn(opts);
  out_w.reset();
  err_w.reset();
  if (!pid) {
    auto cb = std::move(running->done);
    auto e = std::move(pid).error();
    loop_.defer([cb, e] { cb(e); });
    return;
  }
  for (Capture* c : {&running->out, &running->err}) {
    if (!c->fd) continue;
    auto h = loop_.add(c->fd.get(), EPOLLIN, [this, running, c](uint32_t) {
      if (!c->drain()) stop_capture(loop_, *c);
    });
    if (h) c->watch = *h;
  }
  ++in_flight_;
  reaper_.watch(*pid, [this, running](int status) {
    --in_flight_;
    // The command is gone: what it wrote is in the pipes now. Read it and
    // stop, even if a grandchild keeps a write end open.
    for (Capture* c : {&running->out, &running->err}) {
      if (c->fd) (void)c->drain();
      stop_capture(loop_, *c);
    }
    CommandResult r;
    r.wait_status = status;
    r.exit_code = sys::exit_code_of(status);
    r.out = std::move(running->out.text);
    r.err = std::move(running->err.text);
    auto cb = std::move(running->done);
    cb(std::move(r));
  });
}

Result<CommandResult> run_command_sync(const CommandSpec& spec) {
  sys::SpawnOptions opts;
  opts.argv = spec.argv;
  opts.extra_fds = spec.extra_fds;
  for (int i = 0; i < 3; ++i) opts.stdio[i] = spec.stdio[i];
  pid_t pid = BERTH_VALUE(sys::spawn(opts));
  int status = BERTH_VALUE(sys::wait_pid(pid));
  CommandResult r;
  r.wait_status = status;
  r.exit_code = sys::exit_code_of(status);
  return r;
}

}  // namespace berth::shim
