#include "berth/base/sys.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

namespace berth::sys {

namespace {

#ifndef CLOSE_RANGE_CLOEXEC
constexpr unsigned kCloseRangeCloexec = 1U << 2;
#else
constexpr unsigned kCloseRangeCloexec = CLOSE_RANGE_CLOEXEC;
#endif

#ifndef CLONE_PIDFD
constexpr uint64_t kClonePidfd = 0x1000;
#else
constexpr uint64_t kClonePidfd = CLONE_PIDFD;
#endif

template <class F>
auto retry_eintr(F fn) {
  decltype(fn()) rc;
  do {
    rc = fn();
  } while (rc == -1 && errno == EINTR);
  return rc;
}

std::string fd_name(BorrowedFd fd) { return "fd " + std::to_string(fd.get()); }

}  // namespace

Result<UniqueFd> open(std::string_view path, int flags, mode_t mode) {
  return open_at(BorrowedFd(AT_FDCWD), path, flags, mode);
}

Result<UniqueFd> open_at(BorrowedFd dir, std::string_view path, int flags, mode_t mode) {
  std::string p(path);
  int fd = retry_eintr([&] { return ::openat(dir.get(), p.c_str(), flags | O_CLOEXEC, mode); });
  if (fd < 0) return sys_error("open", path);
  return UniqueFd(fd);
}

Result<UniqueFd> open_in_root(BorrowedFd root, std::string_view path, int flags, mode_t mode) {
  std::string p(path);
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(
      retry_eintr([&] { return ::syscall(SYS_openat2, root.get(), p.c_str(), &how, sizeof how); }));
  if (fd < 0) return sys_error("open in root", path);
  return UniqueFd(fd);
}

Result<std::string> read_all(BorrowedFd fd, size_t limit, std::string_view what) {
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = retry_eintr([&] { return ::read(fd.get(), buf, sizeof buf); });
    if (n < 0) return sys_error("read", what);
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > limit)
      return make_error("read `" + std::string(what) + "`: larger than " +
                            std::to_string(limit) + " bytes",
                        EFBIG);
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<std::string> read_file(std::string_view path, size_t limit) {
  auto fd = BERTH_VALUE(open(path, O_RDONLY));
  return read_all(fd, limit, path);
}

Status write_all(BorrowedFd fd, std::string_view data, std::string_view what) {
  while (!data.empty()) {
    ssize_t n = retry_eintr([&] { return ::write(fd.get(), data.data(), data.size()); });
    if (n < 0) return sys_error("write", what);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Status write_file(std::string_view path, std::string_view data) {
  auto fd = BERTH_VALUE(open(path, O_WRONLY | O_TRUNC));
  return write_all(fd, data, path);
}

Status write_file_atomic(std::string_view path, std::string_view data, mode_t mode, bool durable) {
  std::string tmp = std::string(path) + ".tmp";
  {
    auto fd = BERTH_VALUE(open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode));
    auto st = write_all(fd, data, tmp);
    if (st.ok() && durable && ::fsync(fd.get()) != 0) st = sys_error("fsync", tmp);
    if (!st.ok()) {
      ::unlink(tmp.c_str());
      return st;
    }
  }
  if (::rename(tmp.c_str(), std::string(path).c_str()) != 0) {
    auto err = sys_error("rename", tmp);
    ::unlink(tmp.c_str());
    return err;
  }
  return {};
}

Result<struct stat> fstat(BorrowedFd fd, std::string_view what) {
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat", what);
  return st;
}

Result<struct stat> stat(std::string_view path) {
  struct stat st {};
  if (::stat(std::string(path).c_str(), &st) != 0) return sys_error("stat", path);
  return st;
}

bool exists(std::string_view path) {
  return ::access(std::string(path).c_str(), F_OK) == 0;
}

Status mkdir(std::string_view path, mode_t mode) {
  if (::mkdir(std::string(path).c_str(), mode) != 0) return sys_error("mkdir", path);
  return {};
}

Status mkdir_p(std::string_view path, mode_t mode) {
  std::string p(path);
  for (size_t i = 1; i <= p.size(); ++i) {
    if (i != p.size() && p[i] != '/') continue;
    std::string part = p.substr(0, i);
    if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST) return sys_error("mkdir", part);
  }
  return {};
}

Status unlink(std::string_view path) {
  if (::unlink(std::string(path).c_str()) != 0) return sys_error("unlink", path);
  return {};
}

Status rmdir(std::string_view path) {
  if (::rmdir(std::string(path).c_str()) != 0) return sys_error("rmdir", path);
  return {};
}

namespace {
Status remove_all_at(int parent, const char* name, std::string_view shown) {
  if (::unlinkat(parent, name, 0) == 0 || errno == ENOENT) return {};
  if (errno != EISDIR) return sys_error("unlink", shown);
  int fd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return sys_error("open", shown);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return sys_error("opendir", shown);
  }
  Status status;
  while (struct dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    std::string child = std::string(shown) + "/" + e->d_name;
    status = remove_all_at(::dirfd(dir), e->d_name, child);
    if (!status.ok()) break;
  }
  ::closedir(dir);
  if (!status.ok()) return status;
  if (::unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
    return sys_error("rmdir", shown);
  return {};
}
}  // namespace

Status remove_all(std::string_view path) {
  std::string p(path);
  return remove_all_at(AT_FDCWD, p.c_str(), path);
}

Result<std::vector<std::string>> list_dir(std::string_view path) {
  std::string p(path);
  DIR* dir = ::opendir(p.c_str());
  if (dir == nullptr) return sys_error("opendir", path);
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
  }
  ::closedir(dir);
  return names;
}

std::string fd_path(BorrowedFd fd) { return "/proc/self/fd/" + std::to_string(fd.get()); }

Result<std::string> readlink(std::string_view path) {
  char buf[4096];
  ssize_t n = ::readlink(std::string(path).c_str(), buf, sizeof buf);
  if (n < 0) return sys_error("readlink", path);
  return std::string(buf, static_cast<size_t>(n));
}

Result<pid_t> clone_process(uint64_t flags) {
  // With a null stack, clone(2) behaves like fork(): the child continues on a
  // copy-on-write copy of the caller's stack.
  long pid = ::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) return sys_error("clone");
  return static_cast<pid_t>(pid);
}

Result<Cloned> clone_with_pidfd(uint64_t flags) {
  int pidfd = -1;
  // x86_64 and arm64 order: flags, stack, parent_tid (where CLONE_PIDFD
  // stores the descriptor), child_tid, tls.
  long pid = ::syscall(SYS_clone, flags | kClonePidfd | SIGCHLD, nullptr, &pidfd, nullptr, nullptr);
  if (pid < 0) return sys_error("clone");
  if (pid == 0) return Cloned{};
  return Cloned{static_cast<pid_t>(pid), UniqueFd(pidfd)};
}

Result<UniqueFd> pidfd_open(pid_t pid) {
  long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) return sys_error("pidfd_open", "pid " + std::to_string(pid));
  return UniqueFd(static_cast<int>(fd));
}

Status pidfd_send_signal(BorrowedFd pidfd, int sig) {
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), sig, nullptr, 0) != 0)
    return sys_error("pidfd_send_signal", fd_name(pidfd));
  return {};
}

Result<int> wait_pid(pid_t pid, int options) {
  int status = 0;
  pid_t rc = retry_eintr([&] { return ::waitpid(pid, &status, options); });
  if (rc < 0) return sys_error("waitpid", "pid " + std::to_string(pid));
  if (rc == 0) return make_error("waitpid: still running", EAGAIN);
  return status;
}

int exit_code_of(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 255;
}

namespace {
// Fields of /proc/pid/stat after the ")" that ends the command name, which
// may itself hold spaces and parentheses.
Result<std::string> stat_tail(pid_t pid) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!text) return std::move(text).error();
  auto close = text->rfind(')');
  if (close == std::string::npos || close + 2 > text->size())
    return make_error("parse /proc/" + std::to_string(pid) + "/stat");
  return text->substr(close + 2);
}
}  // namespace

Result<uint64_t> process_start_time(pid_t pid) {
  auto tail = BERTH_VALUE(stat_tail(pid));
  // tail starts at field 3 (state); starttime is field 22.
  size_t pos = 0;
  for (int field = 3; field < 22; ++field) {
    pos = tail.find(' ', pos);
    if (pos == std::string::npos) return make_error("parse /proc/" + std::to_string(pid) + "/stat");
    ++pos;
  }
  return std::strtoull(tail.c_str() + pos, nullptr, 10);
}

char process_state(pid_t pid) {
  auto tail = stat_tail(pid);
  if (!tail || tail->empty()) return 0;
  return (*tail)[0];
}

Status setns(BorrowedFd fd, int nstype, std::string_view what) {
  if (::setns(fd.get(), nstype) != 0) return sys_error("setns", what);
  return {};
}

Status unshare(int flags) {
  if (::unshare(flags) != 0) return sys_error("unshare");
  return {};
}

Status mount(std::string_view source, std::string_view target, std::string_view fstype,
             unsigned long flags, std::string_view data) {
  std::string src(source), tgt(target), type(fstype), opts(data);
  if (::mount(src.empty() ? nullptr : src.c_str(), tgt.c_str(),
              type.empty() ? nullptr : type.c_str(), flags,
              opts.empty() ? nullptr : opts.c_str()) != 0)
    return sys_error("mount", source.empty() ? target : std::string(source) + "` on `" + tgt);
  return {};
}

Status umount(std::string_view target, int flags) {
  if (::umount2(std::string(target).c_str(), flags) != 0) return sys_error("umount", target);
  return {};
}

Status pivot_root(std::string_view new_root, std::string_view put_old) {
  if (::syscall(SYS_pivot_root, std::string(new_root).c_str(), std::string(put_old).c_str()) != 0)
    return sys_error("pivot_root", new_root);
  return {};
}

Result<SocketPair> socket_pair(int type) {
  int fds[2];
  if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) != 0) return sys_error("socketpair");
  return SocketPair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Status send_message(BorrowedFd sock, std::string_view data, std::span<const int> fds) {
  struct iovec iov {};
  char dummy = 0;
  iov.iov_base = data.empty() ? &dummy : const_cast<char*>(data.data());
  iov.iov_len = data.empty() ? 1 : data.size();
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control;
  if (!fds.empty()) {
    control.resize(CMSG_SPACE(sizeof(int) * fds.size()));
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n = retry_eintr([&] { return ::sendmsg(sock.get(), &msg, MSG_NOSIGNAL); });
  if (n < 0) return sys_error("sendmsg", fd_name(sock));
  return {};
}

Result<Message> recv_message(BorrowedFd sock, size_t max_size) {
  Message out;
  out.data.resize(max_size);
  struct iovec iov {};
  iov.iov_base = out.data.data();
  iov.iov_len = out.data.size();
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * 16)];
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = retry_eintr([&] { return ::recvmsg(sock.get(), &msg, MSG_CMSG_CLOEXEC); });
  if (n < 0) return sys_error("recvmsg", fd_name(sock));
  if (n == 0) return make_error("recvmsg " + fd_name(sock) + ": peer closed the connection", EPIPE);
  out.data.resize(static_cast<size_t>(n));
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      out.fds.emplace_back(fd);
    }
  }
  if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
    return make_error("recvmsg " + fd_name(sock) + ": message truncated", EMSGSIZE);
  return out;
}

Result<UniqueFd> connect_unix(std::string_view path) {
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return make_error("connect `" + std::string(path) + "`: socket path too long", ENAMETOOLONG);
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return sys_error("socket", path);
  UniqueFd sock(fd);
  if (retry_eintr([&] {
        return ::connect(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr);
      }) != 0)
    return sys_error("connect", path);
  return sock;
}

Result<UniqueFd> listen_unix(std::string_view path, int backlog) {
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return make_error("bind `" + std::string(path) + "`: socket path too long", ENAMETOOLONG);
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return sys_error("socket", path);
  UniqueFd sock(fd);
  mode_t old = ::umask(077);
  int rc = ::bind(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc != 0) return sys_error("bind", path);
  if (::listen(sock.get(), backlog) != 0) return sys_error("listen", path);
  return sock;
}

Result<UniqueFd> accept(BorrowedFd listener) {
  int fd = retry_eintr([&] { return ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC); });
  if (fd < 0) return sys_error("accept", fd_name(listener));
  return UniqueFd(fd);
}

Status cloexec_from(int first) {
  if (::syscall(SYS_close_range, first, ~0U, kCloseRangeCloexec) == 0) return {};
  // Fallback for kernels before 5.11: walk /proc/self/fd.
  auto names = list_dir("/proc/self/fd");
  if (!names) return std::move(names).error().wrap("mark descriptors close-on-exec");
  for (const auto& name : *names) {
    int fd = std::atoi(name.c_str());
    if (fd >= first) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  return {};
}

}  // namespace berth::sys
