#include "process_io.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include <map>

#include "berth/base/sys.h"
#include "berth/base/sys.h"

namespace berth::shim {

namespace {

constexpr std::string_view kFileScheme = "file://";
constexpr std::string_view kBinaryScheme = "binary://";

bool is_binary(const std::string& uri) { return uri.rfind(kBinaryScheme, 0) == 0; }

Status check_scheme(const std::string& uri) {
  size_t scheme = uri.find("://");
  if (scheme != std::string::npos && uri.rfind(kFileScheme, 0) != 0 && !is_binary(uri))
    return make_error("stdio `" + uri + "`: unsupported scheme", EINVAL);
  return {};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding as Go's url package: %XX everywhere, '+' as a space in
// the query only.
Result<std::string> unescape(std::string_view s, bool query) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
      int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
      if (hi < 0 || lo < 0)
        return make_error("invalid URL escape `" + std::string(s.substr(i, 3)) + "`");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (query && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// An output for the container (blocking) and, for a FIFO, the shim's
// read-write keepalive. `for_shim`: the shim writes it (pty copy), so it
// stays non-blocking.
Result<UniqueFd> open_output(const std::string& uri, UniqueFd* keep, bool for_shim) {
  BERTH_TRY(check_scheme(uri));
  if (uri.rfind(kFileScheme, 0) == 0) {
    std::string path = uri.substr(kFileScheme.size());
    size_t slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0)
      BERTH_TRY(sys::mkdir_p(path.substr(0, slash), 0755));
    return sys::open(path, O_WRONLY | O_CREAT | O_APPEND, 0640);
  }
  auto st = sys::stat(uri);
  if (st && S_ISFIFO(st->st_mode)) {
    // Opening the write side of a FIFO blocks (or fails with ENXIO when
    // non-blocking) until there is a reader: be that reader first.
    *keep = BERTH_VALUE(sys::open(uri, O_RDWR | O_NONBLOCK));
    auto w = BERTH_VALUE(sys::open(uri, O_WRONLY | O_NONBLOCK));
    if (!for_shim) BERTH_TRY(sys::set_nonblocking(w, false));
    return w;
  }
  return sys::open(uri, O_WRONLY | O_APPEND);
}

}  // namespace

Result<BinaryUri> parse_binary_uri(const std::string& uri) {
  if (!is_binary(uri)) return make_error("`" + uri + "` is not a binary:// URI");
  std::string_view rest(uri);
  rest.remove_prefix(kBinaryScheme.size());
  size_t q = rest.find('?');
  std::string_view path = rest.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : rest.substr(q + 1);
  size_t hash = query.find('#');
  if (hash != std::string_view::npos) query = query.substr(0, hash);
  if (path.empty() || path[0] != '/')
    return make_error("binary logger `" + uri +
                      "`: needs an absolute path (binary:///path/to/logger)");
  BinaryUri out;
  out.path = BERTH_VALUE(unescape(path, false));
  std::map<std::string, std::string> params;  // first value of each key, as url.Values.Get
  size_t start = 0;
  while (start <= query.size() && !query.empty()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view kv = query.substr(start, end - start);
    if (!kv.empty()) {
      size_t eq = kv.find('=');
      auto key = BERTH_VALUE(unescape(kv.substr(0, eq), true));
      auto value = eq == std::string_view::npos ? std::string()
                                                : BERTH_VALUE(unescape(kv.substr(eq + 1), true));
      params.emplace(std::move(key), std::move(value));
    }
    start = end + 1;
  }
  for (auto& [k, v] : params) {
    out.args.push_back(k);
    out.args.push_back(v);
  }
  return out;
}

Result<std::unique_ptr<ProcessIO>> ProcessIO::open(loop::Loop& loop, const StdioPaths& paths,
                                                   const IoContext& ctx) {
  std::unique_ptr<ProcessIO> io(new ProcessIO(loop));
  io->terminal_ = paths.terminal;
  if (is_binary(paths.out) || is_binary(paths.err)) {
    // One logger takes both streams (containerd sends the same URI twice).
    const std::string& uri = is_binary(paths.out) ? paths.out : paths.err;
    auto parsed = BERTH_VALUE(parse_binary_uri(uri));
    if (ctx.reaper == nullptr)
      return make_error("binary logger `" + uri + "`: no reaper to run it", ENOTSUP);
    io->logger_ = BERTH_VALUE(BinaryLogger::start(loop, *ctx.reaper, parsed, ctx.id, ctx.ns));
  }
  if (!paths.in.empty()) {
    BERTH_TRY(check_scheme(paths.in));
    if (is_binary(paths.in))
      return make_error("stdin `" + paths.in + "`: binary:// is for output only", EINVAL);
    if (paths.in.rfind(kFileScheme, 0) == 0)
      return make_error("stdin `" + paths.in + "`: file:// is for output only", EINVAL);
    // Non-blocking: succeeds before the client opened its write side; epoll
    // reports no hang-up until a writer has come and gone.
    io->stdin_fifo_ = BERTH_VALUE(sys::open(paths.in, O_RDONLY | O_NONBLOCK));
    if (!paths.terminal) {
      auto p = BERTH_VALUE(sys::pipe());
      io->child_in_ = std::move(p.read);
      io->stdin_pipe_w_ = std::move(p.write);
      ProcessIO* self = io.get();
      std::weak_ptr<bool> alive = io->alive_;
      io->stdin_copier_ = std::make_unique<Copier>(loop, io->stdin_fifo_.get(),
                                                   io->stdin_pipe_w_.get(), [self, alive] {
                                                     // The client closed stdin: pass the end of
                                                     // file on.
                                                     if (alive.lock()) self->stdin_pipe_w_.reset();
                                                   });
      BERTH_TRY(io->stdin_copier_->start());
    }
  }
  if (io->logger_) {
    if (paths.terminal) {
      io->tty_out_ = io->logger_->take_stdout();
      BERTH_TRY(sys::set_nonblocking(io->tty_out_, true));
    } else {
      io->child_out_ = io->logger_->take_stdout();
      io->child_err_ = io->logger_->take_stderr();
    }
    return io;
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
  if (!paths.out.empty())
    io->child_out_ = BERTH_VALUE(open_output(paths.out, &io->out_keep_, false));
  if (!paths.err.empty()) {
    if (paths.err == paths.out) {
      io->child_err_ = BERTH_VALUE(sys::dup_cloexec(io->child_out_, paths.err));
    } else {
      io->child_err_ = BERTH_VALUE(open_output(paths.err, &io->err_keep_, false));
    }
  }
  return io;
}

ProcessIO::~ProcessIO() {
  if (finish_timer_ != 0) loop_.cancel_timer(finish_timer_);
  drop_all();
  if (logger_) logger_->stop();
}

void ProcessIO::when_ready(std::chrono::milliseconds limit, std::function<void(Status)> cb) {
  if (!logger_) return cb({});
  logger_->when_ready(limit, std::move(cb));
}

// --- BinaryLogger -------------------------------------------------------------

Result<std::shared_ptr<BinaryLogger>> BinaryLogger::start(loop::Loop& loop, Reaper& reaper,
                                                          const BinaryUri& uri,
                                                          const std::string& id,
                                                          const std::string& ns) {
  std::shared_ptr<BinaryLogger> logger(new BinaryLogger(loop));
  auto out = BERTH_VALUE(sys::pipe());
  auto err = BERTH_VALUE(sys::pipe());
  auto ready = BERTH_VALUE(sys::pipe());
  sys::SpawnOptions opts;
  opts.argv.push_back(uri.path);
  opts.argv.insert(opts.argv.end(), uri.args.begin(), uri.args.end());
  opts.extra_fds = {out.read.get(), err.read.get(), ready.write.get()};
  opts.replace_env = true;
  opts.env = {"CONTAINER_ID=" + id, "CONTAINER_NAMESPACE=" + ns};
  auto pid = sys::spawn(opts);
  if (!pid) return std::move(pid).error().wrap("start binary logger");
  logger->pid_ = *pid;
  // Watched before the loop runs again, so its exit is never mistaken for a
  // container process's. The callback keeps the logger alive until then.
  reaper.watch(*pid, [logger](int) {
    logger->exited_ = true;
    if (logger->kill_timer_ != 0) logger->loop_.cancel_timer(logger->kill_timer_);
    logger->kill_timer_ = 0;
  });
  logger->out_w_ = std::move(out.write);
  logger->err_w_ = std::move(err.write);
  logger->ready_r_ = std::move(ready.read);
  BERTH_TRY(sys::set_nonblocking(logger->ready_r_, true));
  BinaryLogger* self = logger.get();
  logger->ready_watch_ = BERTH_VALUE(
      loop.add(logger->ready_r_.get(), EPOLLIN, [self](uint32_t) { self->ready_event(); }));
  return logger;
}

BinaryLogger::~BinaryLogger() {
  if (ready_watch_ != 0) loop_.remove(ready_watch_);
  if (ready_timer_ != 0) loop_.cancel_timer(ready_timer_);
  if (kill_timer_ != 0) loop_.cancel_timer(kill_timer_);
}

void BinaryLogger::ready_event() {
  char b;
  auto r = sys::read_some(ready_r_, &b, 1);
  if (r.would_block()) return;
  // A byte or the end of file: ready (a logger that exits at once is
  // "ready" too; its pipes then fail the container's writes).
  finish_ready({});
}

void BinaryLogger::finish_ready(Status st) {
  if (ready_watch_ != 0) loop_.remove(ready_watch_);
  ready_watch_ = 0;
  ready_r_.reset();
  if (ready_timer_ != 0) loop_.cancel_timer(ready_timer_);
  ready_timer_ = 0;
  ready_ = st.ok();
  if (auto cb = std::move(ready_cb_)) {
    ready_cb_ = nullptr;
    cb(std::move(st));
  } else if (!st.ok()) {
    ready_failure_ = std::move(st).error().message();
  }
}

void BinaryLogger::when_ready(std::chrono::milliseconds limit, std::function<void(Status)> cb) {
  if (ready_) return cb({});
  if (!ready_failure_.empty()) return cb(make_error(ready_failure_));
  ready_cb_ = std::move(cb);
  ready_timer_ = loop_.add_timer(limit, [this, limit] {
    ready_timer_ = 0;
    finish_ready(make_error("binary logger (pid " + std::to_string(pid_) +
                                ") did not get ready within " + std::to_string(limit.count()) +
                                " ms",
                            ETIMEDOUT));
  });
}

void BinaryLogger::stop(std::chrono::milliseconds grace) {
  if (exited_ || kill_timer_ != 0) return;
  (void)sys::send_signal(pid_, SIGTERM);
  auto self = shared_from_this();
  kill_timer_ = loop_.add_timer(grace, [self] {
    self->kill_timer_ = 0;
    if (!self->exited_) (void)sys::send_signal(self->pid_, SIGKILL);
  });
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
  master_in_ = BERTH_VALUE(sys::dup_cloexec(master_, "pty master"));
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
  return sys::set_window_size(master_, width, height);
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
  cs->dir_ = BERTH_VALUE(sys::make_temp_dir("berth-pty-"));
  cs->path_ = cs->dir_ + "/pty.sock";
  cs->listener_ = BERTH_VALUE(sys::listen_unix(cs->path_, 1));
  BERTH_TRY(sys::set_nonblocking(cs->listener_, true));
  ConsoleSocket* self = cs.get();
  cs->listen_watch_ = BERTH_VALUE(
      loop.add(cs->listener_.get(), EPOLLIN, [self](uint32_t) { self->try_receive(); }));
  return cs;
}

ConsoleSocket::~ConsoleSocket() {
  if (listen_watch_ != 0) loop_.remove(listen_watch_);
  if (conn_watch_ != 0) loop_.remove(conn_watch_);
  if (!path_.empty()) sys::unlink_quiet(path_);
  if (!dir_.empty()) sys::rmdir_quiet(dir_);
}

void ConsoleSocket::try_receive() {
  if (master_) return;
  if (!conn_) {
    auto c = sys::accept_nonblocking(listener_);
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
  if (!master_)
    return make_error("console socket `" + path_ + "`: the runtime sent no pty master", EPROTO);
  return std::move(master_);
}

}  // namespace berth::shim
