#include "process_io.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "berth/base/sys.h"
#include "common/shim_sys.h"

namespace berth::shim {

namespace {

constexpr std::string_view kFileScheme = "file://";
constexpr std::string_view kBinaryScheme = "binary://";

Status check_scheme(const std::string& uri) {
  if (uri.rfind(kBinaryScheme, 0) == 0)
    return make_error("stdio `" + uri + "`: binary:// loggers are not supported yet", ENOTSUP);
  size_t scheme = uri.find("://");
  if (scheme != std::string::npos && uri.rfind(kFileScheme, 0) != 0)
    return make_error("stdio `" + uri + "`: unsupported scheme", EINVAL);
  return {};
}

// An output for the container (blocking) and, for a FIFO, the shim's
// read-write keepalive. `for_shim`: the shim writes it (pty copy), so it
// stays non-blocking.
Result<UniqueFd> open_output(const std::string& uri, UniqueFd* keep, bool for_shim) {
  BERTH_TRY(check_scheme(uri));
  if (uri.rfind(kFileScheme, 0) == 0) {
    std::string path = uri.substr(kFileScheme.size());
    size_t slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0) BERTH_TRY(sys::mkdir_p(path.substr(0, slash), 0755));
    return sys::open(path, O_WRONLY | O_CREAT | O_APPEND, 0640);
  }
  auto st = sys::stat(uri);
  if (st && S_ISFIFO(st->st_mode)) {
    // Opening the write side of a FIFO blocks (or fails with ENXIO when
    // non-blocking) until there is a reader: be that reader first.
    *keep = BERTH_VALUE(sys::open(uri, O_RDWR | O_NONBLOCK));
    auto w = BERTH_VALUE(sys::open(uri, O_WRONLY | O_NONBLOCK));
    if (!for_shim) BERTH_TRY(shim_sys::set_nonblocking(w, false));
    return w;
  }
  return sys::open(uri, O_WRONLY | O_APPEND);
}

}  // namespace

Result<std::unique_ptr<ProcessIO>> ProcessIO::open(loop::Loop& loop, const StdioPaths& paths) {
  std::unique_ptr<ProcessIO> io(new ProcessIO(loop));
  io->terminal_ = paths.terminal;
  if (!paths.in.empty()) {
    BERTH_TRY(check_scheme(paths.in));
    if (paths.in.rfind(kFileScheme, 0) == 0)
      return make_error("stdin `" + paths.in + "`: file:// is for output only", EINVAL);
    // Non-blocking: succeeds before the client opened its write side; epoll
    // reports no hang-up until a writer has come and gone.
    io->stdin_fifo_ = BERTH_VALUE(sys::open(paths.in, O_RDONLY | O_NONBLOCK));
    if (!paths.terminal) {
      auto p = BERTH_VALUE(shim_sys::pipe());
      io->child_in_ = std::move(p.read);
      io->stdin_pipe_w_ = std::move(p.write);
      ProcessIO* self = io.get();
      std::weak_ptr<bool> alive = io->alive_;
      io->stdin_copier_ = std::make_unique<Copier>(loop, io->stdin_fifo_.get(), io->stdin_pipe_w_.get(), [self, alive] {
        // The client closed stdin: pass the end of file on.
        if (alive.lock()) self->stdin_pipe_w_.reset();
      });
      BERTH_TRY(io->stdin_copier_->start());
    }
  }
  if (paths.terminal) {
    if (paths.out.empty()) {
      // Nobody reads the pty, but it must be drained or the container blocks.
      io->tty_out_ = BERTH_VALUE(sys::open("/dev/null", O_WRONLY));
    } else {
      io->tty_out_ = BERTH_VALUE(open_output(paths.out, &io->out_keep_, true));
    }
    return io;
  }
  if (!paths.out.empty()) io->child_out_ = BERTH_VALUE(open_output(paths.out, &io->out_keep_, false));
  if (!paths.err.empty()) {
    if (paths.err == paths.out) {
      io->child_err_ = BERTH_VALUE(shim_sys::dup_cloexec(io->child_out_, paths.err));
    } else {
      io->child_err_ = BERTH_VALUE(open_output(paths.err, &io->err_keep_, false));
    }
  }
  return io;
}

ProcessIO::~ProcessIO() {
  if (finish_timer_ != 0) loop_.cancel_timer(finish_timer_);
  drop_all();
}

Runtime::Stdio ProcessIO::runtime_stdio() const {
  Runtime::Stdio s;
  s.fds[0] = child_in_.get();
  s.fds[1] = child_out_.get();
  s.fds[2] = child_err_.get();
  return s;
}

void ProcessIO::release_runtime_ends() {
  child_in_.reset();
  child_out_.reset();
  child_err_.reset();
}

Status ProcessIO::attach_console(UniqueFd master) {
  master_ = std::move(master);
  // The input copier writes the master while the output copier reads it: a
  // second descriptor, because epoll watches each descriptor once.
  master_in_ = BERTH_VALUE(shim_sys::dup_cloexec(master_, "pty master"));
  ProcessIO* self = this;
  std::weak_ptr<bool> alive = alive_;
  output_copier_ = std::make_unique<Copier>(loop_, master_.get(), tty_out_.get(), [self, alive] {
    if (!alive.lock()) return;
    if (self->finish_cb_) {
      auto cb = std::move(self->finish_cb_);
      self->finish_cb_ = nullptr;
      if (self->finish_timer_ != 0) self->loop_.cancel_timer(self->finish_timer_);
      self->finish_timer_ = 0;
      self->drop_all();
      cb();
    }
  });
  BERTH_TRY(output_copier_->start());
  if (stdin_fifo_) {
    stdin_copier_ = std::make_unique<Copier>(loop_, stdin_fifo_.get(), master_in_.get(), nullptr);
    BERTH_TRY(stdin_copier_->start());
  }
  return {};
}

Status ProcessIO::resize(uint32_t width, uint32_t height) {
  if (!master_) return make_error("resize: the process has no terminal", ENOTTY);
  return shim_sys::set_window_size(master_, width, height);
}

void ProcessIO::close_stdin() {
  if (stdin_copier_) stdin_copier_->stop();
  stdin_copier_.reset();
  stdin_pipe_w_.reset();
  stdin_fifo_.reset();
}

void ProcessIO::drop_all() {
  if (stdin_copier_) stdin_copier_->stop();
  if (output_copier_) output_copier_->stop();
  stdin_copier_.reset();
  output_copier_.reset();
  release_runtime_ends();
  stdin_fifo_.reset();
  stdin_pipe_w_.reset();
  out_keep_.reset();
  err_keep_.reset();
  tty_out_.reset();
  master_in_.reset();
  master_.reset();
}

void ProcessIO::finish(std::chrono::milliseconds limit, std::function<void()> cb) {
  if (!output_copier_ || output_copier_->finished()) {
    drop_all();
    loop_.defer(std::move(cb));
    return;
  }
  // A pty: report the exit once everything the process wrote reached the
  // client, or after `limit` if another process keeps the terminal open.
  finish_cb_ = std::move(cb);
  std::weak_ptr<bool> alive = alive_;
  finish_timer_ = loop_.add_timer(limit, [this, alive] {
    if (!alive.lock()) return;
    finish_timer_ = 0;
    if (!finish_cb_) return;
    auto cb = std::move(finish_cb_);
    finish_cb_ = nullptr;
    drop_all();
    cb();
  });
}

Result<std::unique_ptr<ConsoleSocket>> ConsoleSocket::create(loop::Loop& loop) {
  std::unique_ptr<ConsoleSocket> cs(new ConsoleSocket(loop));
  cs->dir_ = BERTH_VALUE(shim_sys::make_temp_dir("berth-pty-"));
  cs->path_ = cs->dir_ + "/pty.sock";
  cs->listener_ = BERTH_VALUE(sys::listen_unix(cs->path_, 1));
  BERTH_TRY(shim_sys::set_nonblocking(cs->listener_, true));
  ConsoleSocket* self = cs.get();
  cs->listen_watch_ = BERTH_VALUE(loop.add(cs->listener_.get(), EPOLLIN, [self](uint32_t) { self->try_receive(); }));
  return cs;
}

ConsoleSocket::~ConsoleSocket() {
  if (listen_watch_ != 0) loop_.remove(listen_watch_);
  if (conn_watch_ != 0) loop_.remove(conn_watch_);
  if (!path_.empty()) shim_sys::unlink_quiet(path_);
  if (!dir_.empty()) shim_sys::rmdir_quiet(dir_);
}

void ConsoleSocket::try_receive() {
  if (master_) return;
  if (!conn_) {
    auto c = shim_sys::accept_nonblocking(listener_);
    if (!c) return;
    conn_ = std::move(*c);
    ConsoleSocket* self = this;
    auto h = loop_.add(conn_.get(), EPOLLIN, [self](uint32_t) { self->try_receive(); });
    if (h) conn_watch_ = *h;
  }
  auto msg = sys::recv_message(conn_, 4096);
  if (!msg) {
    if (msg.error().code() == EAGAIN) return;
    // The runtime hung up without a descriptor: take_master() reports it.
    if (conn_watch_ != 0) loop_.remove(conn_watch_);
    conn_watch_ = 0;
    return;
  }
  if (!msg->fds.empty()) master_ = std::move(msg->fds[0]);
  if (conn_watch_ != 0) loop_.remove(conn_watch_);
  conn_watch_ = 0;
  conn_.reset();
}

Result<UniqueFd> ConsoleSocket::take_master() {
  try_receive();
  if (!master_) return make_error("console socket `" + path_ + "`: the runtime sent no pty master", EPROTO);
  return std::move(master_);
}

}  // namespace berth::shim
