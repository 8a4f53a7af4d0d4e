// berth.v1.Containers' streams: Logs and Attach read the container's
// json-file log (written by berth-logger under the shim, so nothing is lost
// while berthd is away); Exec copies the exec's own FIFOs (docker does not
// log exec output).

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>

#include <random>
#include <thread>

#include "berth/base/scope_guard.h"
#include "berth/base/sys.h"
#include "berth/core/errdefs.h"
#include "berth/logs/json_file.h"
#include "containers_service.h"

namespace berth::services {

namespace v1 = berth::v1;
using grpc::ServerContext;
using grpc::Status;

namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int stream_number(logs::Stream s) { return s == logs::Stream::kStderr ? 2 : 1; }

Result<int64_t> parse_tail(const std::string& tail) {
  if (tail.empty() || tail == "all") return int64_t(-1);
  char* end = nullptr;
  long long n = std::strtoll(tail.c_str(), &end, 10);
  if (!end || *end || n < 0) return core::invalid_argument("invalid tail value: " + tail);
  return int64_t(n);
}

std::string random_hex(size_t n) {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  while (out.size() < n) out.push_back(kHex[rd() & 15]);
  return out;
}

}  // namespace

Status ContainersService::Logs(ServerContext* ctx, const v1::LogsRequest* req,
                               grpc::ServerWriter<v1::LogChunk>* writer) {
  auto ns = namespace_of(ctx);
  auto c = svc_.find(ns, req->ref());
  if (!c) return to_status(c.error());
  auto tail = parse_tail(req->tail());
  if (!tail) return to_status(tail.error());
  logs::ReadOptions options;
  options.tail = *tail;
  options.since_ns = req->since_ns();
  options.until_ns = req->until_ns();
  options.want_stdout = req->stdout() || !req->stderr();
  options.want_stderr = req->stderr() || !req->stdout();
  bool broken = false;
  auto send = [&](const logs::Record& r) {
    v1::LogChunk chunk;
    chunk.set_stream(stream_number(r.stream));
    chunk.set_time_ns(r.time_ns);
    chunk.set_data(std::string(r.bytes));
    if (!writer->Write(chunk)) broken = true;
    return !broken;
  };
  std::string path = svc_.log_path(c->id);
  berth::Status st;
  if (req->follow()) {
    logs::FollowOptions follow;
    follow.stop = [ctx] { return ctx->IsCancelled(); };
    st = logs::follow(path, options, follow, send);
  } else {
    st = logs::read(path, options, send);
  }
  if (!st && !broken) return to_status(st.error());
  return Status::OK;
}

// Attach: output from the log as it is written (since the attach began),
// stdin into the container's FIFO, resizes to the shim. With `start`, the
// container is started once the output is being followed, so a command
// that prints and exits at once loses nothing.
Status ContainersService::Attach(
    ServerContext* ctx, grpc::ServerReaderWriter<v1::AttachResponse, v1::AttachRequest>* stream) {
  auto ns = namespace_of(ctx);
  v1::AttachRequest first;
  if (!stream->Read(&first)) return Status(grpc::StatusCode::INVALID_ARGUMENT, "empty attach");
  auto c = svc_.find(ns, first.ref());
  if (!c) return to_status(c.error());
  std::string id = c->id;
  if (!first.start() && c->state.status != core::ContainerStatus::running)
    return to_status(core::in_use("You cannot attach to a stopped container, start it first"));
  auto watch = svc_.exit_watch(ns, id);
  int64_t since = now_ns();
  if (first.start()) {
    auto started = svc_.start(ns, id);
    if (!started) return to_status(started.error());
  }
  if (first.has_resize())
    (void)svc_.tasks().resize(ns, id, "", first.resize().width(), first.resize().height());

  // Client messages: stdin, its end, resizes. Runs until the client stops
  // writing or the attach ends.
  std::atomic<bool> done{false};
  std::thread input([&] {
    UniqueFd fifo;
    if (first.stdin() && c->config.open_stdin) {
      auto fd = sys::open(svc_.bundle_dir(ns, id) + "/init-stdin", O_WRONLY | O_NONBLOCK);
      if (fd) {
        // Blocking writes from here on: back-pressure reaches the client.
        int flags = sys::fcntl(fd->get(), F_GETFL);
        (void)sys::fcntl(fd->get(), F_SETFL, flags & ~O_NONBLOCK);
        fifo = std::move(*fd);
      }
    }
    v1::AttachRequest msg = first;
    bool have = !first.stdin_data().empty() || first.close_stdin();
    for (;;) {
      if (have) {
        if (!msg.stdin_data().empty() && fifo.valid())
          (void)sys::write_all(fifo, msg.stdin_data(), "container stdin");
        if (msg.close_stdin() && fifo.valid()) {
          // The shim holds the FIFO open itself: CloseIO ends the
          // container's stdin (containerd's contract).
          fifo.reset();
          (void)svc_.tasks().close_stdin(ns, id, "");
        }
        if (msg.has_resize() && &msg != &first)
          (void)svc_.tasks().resize(ns, id, "", msg.resize().width(), msg.resize().height());
      }
      if (done || !stream->Read(&msg)) break;
      have = true;
    }
  });
  ScopeGuard join([&] {
    done = true;
    ctx->TryCancel();
    input.join();
  });

  logs::ReadOptions options;
  options.since_ns = first.logs() ? 0 : since;
  options.want_stdout = first.stdout() || !first.stderr();
  options.want_stderr = first.stderr() || !first.stdout();
  logs::FollowOptions follow;
  follow.stop = [ctx] { return ctx->IsCancelled(); };
  bool broken = false;
  (void)logs::follow(svc_.log_path(id), options, follow, [&](const logs::Record& r) {
    v1::AttachResponse out;
    out.set_stream(stream_number(r.stream));
    out.set_data(std::string(r.bytes));
    broken = broken || !stream->Write(out);
    return !broken;
  });
  if (broken || ctx->IsCancelled()) return Status::OK;
  // The output ended (the logger exited): the exit follows, or has come.
  for (;;) {
    auto code = svc_.wait_exit_after(ns, id, watch.generation, std::chrono::milliseconds(250));
    if (code) {
      v1::AttachResponse out;
      out.set_exited(true);
      out.set_exit_code(*code);
      stream->Write(out);
      return Status::OK;
    }
    if (ctx->IsCancelled()) return Status::OK;
  }
}

// Exec: FIFOs in the bundle for the process's stdio, read here and sent on;
// the exit comes from the task's state once its output has ended.
Status ContainersService::Exec(
    ServerContext* ctx, grpc::ServerReaderWriter<v1::AttachResponse, v1::ExecRequest>* stream) {
  auto ns = namespace_of(ctx);
  v1::ExecRequest first;
  if (!stream->Read(&first)) return Status(grpc::StatusCode::INVALID_ARGUMENT, "empty exec");
  auto c = svc_.find(ns, first.ref());
  if (!c) return to_status(c.error());
  containers::ExecSpec spec;
  spec.args.assign(first.cmd().begin(), first.cmd().end());
  spec.env.assign(first.env().begin(), first.env().end());
  spec.user = first.user();
  spec.working_dir = first.working_dir();
  spec.tty = first.tty();
  spec.privileged = first.privileged();
  auto process = svc_.exec_process(ns, *c, spec);
  if (!process) return to_status(process.error());

  std::string exec_id = random_hex(32);
  std::string base = svc_.bundle_dir(ns, c->id) + "/exec-" + exec_id;
  core::ExecRequest er;
  er.exec_id = exec_id;
  er.process_json = *process;
  er.io.terminal = first.tty();
  std::vector<std::string> fifos;
  ScopeGuard drop_fifos([&] {
    for (const auto& f : fifos) sys::unlink_quiet(f);
  });
  auto make_fifo = [&](const std::string& path) -> berth::Status {
    if (sys::mknodat(AT_FDCWD, path.c_str(), S_IFIFO | 0600, 0) != 0)
      return make_error("mkfifo `" + path + "`", errno);
    fifos.push_back(path);
    return ok_status();
  };
  UniqueFd out_fd, err_fd, in_fd;
  if (!first.detach()) {
    auto st = make_fifo(base + "-stdout");
    if (!st) return to_status(st.error());
    auto fd = sys::open(base + "-stdout", O_RDONLY | O_NONBLOCK);
    if (!fd) return to_status(fd.error());
    out_fd = std::move(*fd);
    er.io.stdout_path = base + "-stdout";
    if (!first.tty()) {
      st = make_fifo(base + "-stderr");
      if (!st) return to_status(st.error());
      fd = sys::open(base + "-stderr", O_RDONLY | O_NONBLOCK);
      if (!fd) return to_status(fd.error());
      err_fd = std::move(*fd);
      er.io.stderr_path = base + "-stderr";
    }
    if (first.stdin()) {
      st = make_fifo(base + "-stdin");
      if (!st) return to_status(st.error());
      er.io.stdin_path = base + "-stdin";
    }
  }
  auto& tasks = svc_.tasks();
  auto created = tasks.exec(ns, c->id, er);
  if (!created) return to_status(created.error());
  auto started = tasks.start(ns, c->id, exec_id);
  if (!started) {
    (void)tasks.remove_exec(ns, c->id, exec_id);
    return to_status(started.error());
  }
  if (first.detach()) return Status::OK;
  if (first.has_resize())
    (void)tasks.resize(ns, c->id, exec_id, first.resize().width(), first.resize().height());
  if (first.stdin()) {
    auto fd = sys::open(base + "-stdin", O_WRONLY);
    if (fd) in_fd = std::move(*fd);
  }
  std::atomic<bool> done{false};
  std::thread input([&] {
    v1::ExecRequest msg;
    while (!done && stream->Read(&msg)) {
      if (!msg.stdin_data().empty() && in_fd.valid())
        (void)sys::write_all(in_fd, msg.stdin_data(), "exec stdin");
      if (msg.close_stdin() && in_fd.valid()) {
        in_fd.reset();
        (void)tasks.close_stdin(ns, c->id, exec_id);
      }
      if (msg.has_resize())
        (void)tasks.resize(ns, c->id, exec_id, msg.resize().width(), msg.resize().height());
    }
    in_fd.reset();
  });
  ScopeGuard join([&] {
    done = true;
    ctx->TryCancel();
    input.join();
  });
  // Output until both FIFOs reached end of file (the shim drops its ends
  // once the process exited).
  char buf[32 * 1024];
  while ((out_fd.valid() || err_fd.valid()) && !ctx->IsCancelled()) {
    struct pollfd fds[2];
    int n = 0;
    if (out_fd.valid()) fds[n++] = {out_fd.get(), POLLIN, 0};
    if (err_fd.valid()) fds[n++] = {err_fd.get(), POLLIN, 0};
    if (sys::poll(fds, nfds_t(n), 250) <= 0) continue;
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      UniqueFd& fd = fds[i].fd == out_fd.get() ? out_fd : err_fd;
      auto r = sys::read_some(fd, buf, sizeof buf);
      if (r.n > 0) {
        v1::AttachResponse out;
        out.set_stream(&fd == &err_fd ? 2 : 1);
        out.set_data(std::string(buf, size_t(r.n)));
        stream->Write(out);
      } else if (r.n == 0 || (r.err != EAGAIN && r.err != EINTR)) {
        fd.reset();
      }
    }
  }
  if (ctx->IsCancelled()) return Status::OK;
  // The exit status, once the shim has it.
  for (int i = 0; i < 400; ++i) {
    auto info = tasks.state(ns, c->id, exec_id);
    if (info && info->status == core::TaskStatus::stopped) {
      (void)tasks.remove_exec(ns, c->id, exec_id);
      v1::AttachResponse out;
      out.set_exited(true);
      out.set_exit_code(int(info->exit_status));
      stream->Write(out);
      return Status::OK;
    }
    if (!info || ctx->IsCancelled()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return Status(grpc::StatusCode::INTERNAL, "exec " + exec_id + ": no exit status");
}

}  // namespace berth::services
