/* probe: a tiny static helper that spec-tests put at /bin/probe in the test
 * rootfs. Each subcommand prints facts about the process as the container sees
 * them, one "key value" or "key=value" per line, so tests can check them
 * without parsing busybox output. Build: gcc -static -Os -o probe probe.c
 * On failure a subcommand prints the errno name (e.g. "EROFS") and exits 1.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

static const char *errno_name(int e) {
  switch (e) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(EIO) E(EBADF) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST)
    E(EXDEV) E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENOSPC) E(EROFS)
    E(ENOSYS) E(ELOOP) E(ETXTBSY) E(ENXIO) E(EMFILE) E(ENAMETOOLONG)
    E(ESRCH) E(E2BIG) E(ECHILD) E(EAGAIN) E(ERANGE) E(ENOTTY) E(EOPNOTSUPP)
#undef E
    default: {
      static char buf[32];
      snprintf(buf, sizeof buf, "E#%d", e);  /* unnamed here: the number */
      return buf;
    }
  }
}

static int fail(const char *what) {
  int e = errno;
  printf("%s\n", errno_name(e));
  fprintf(stderr, "probe: %s: %s\n", what, strerror(e));
  return 1;
}

static int cat(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return fail(path);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
  fclose(f);
  return 0;
}

/* Print the lines of /proc/self/status whose key starts with one of prefixes. */
static int status_fields(const char *const *prefixes) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return fail("/proc/self/status");
  char line[512];
  while (fgets(line, sizeof line, f))
    for (const char *const *p = prefixes; *p; p++)
      if (strncmp(line, *p, strlen(*p)) == 0) fputs(line, stdout);
  fclose(f);
  return 0;
}

/* Every open fd but the one opendir() itself uses: what the runtime leaked. */
static int cmd_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) return fail("/proc/self/fd");
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d)) continue;
    char link[300], target[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
    ssize_t n = readlink(link, target, sizeof target - 1);
    target[n < 0 ? 0 : n] = 0;
    printf("%s %s\n", e->d_name, target);
  }
  closedir(d);
  return 0;
}

static int cmd_ids(void) {
  gid_t groups[NGROUPS_MAX];
  int n = getgroups(NGROUPS_MAX, groups);
  if (n < 0) return fail("getgroups");
  printf("uid=%u gid=%u euid=%u egid=%u groups=", getuid(), getgid(), geteuid(), getegid());
  for (int i = 0; i < n; i++) printf("%s%u", i ? "," : "", groups[i]);
  printf("\n");
  return 0;
}

static int cmd_rlimit(const char *name) {
  static const struct { const char *name; int res; } names[] = {
      {"NOFILE", RLIMIT_NOFILE}, {"NPROC", RLIMIT_NPROC}, {"CORE", RLIMIT_CORE},
      {"MEMLOCK", RLIMIT_MEMLOCK}, {"STACK", RLIMIT_STACK}, {"CPU", RLIMIT_CPU},
      {"FSIZE", RLIMIT_FSIZE}, {"AS", RLIMIT_AS}, {"NICE", RLIMIT_NICE},
      {"MSGQUEUE", RLIMIT_MSGQUEUE}, {"SIGPENDING", RLIMIT_SIGPENDING}};
  if (strncmp(name, "RLIMIT_", 7) == 0) name += 7;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (strcmp(names[i].name, name) != 0) continue;
    struct rlimit rl;
    if (getrlimit(names[i].res, &rl) < 0) return fail("getrlimit");
    /* RLIM_INFINITY as "unlimited", like ulimit */
    if (rl.rlim_cur == RLIM_INFINITY) printf("soft=unlimited ");
    else printf("soft=%llu ", (unsigned long long)rl.rlim_cur);
    if (rl.rlim_max == RLIM_INFINITY) printf("hard=unlimited\n");
    else printf("hard=%llu\n", (unsigned long long)rl.rlim_max);
    return 0;
  }
  errno = EINVAL;
  return fail(name);
}

static int cmd_write(const char *path, const char *data) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(path);
  size_t len = strlen(data);
  if (write(fd, data, len) != (ssize_t)len) { close(fd); return fail(path); }
  if (close(fd) < 0) return fail(path);
  printf("ok\n");
  return 0;
}

static int cmd_stat(const char *path) {
  struct stat st;
  if (lstat(path, &st) < 0) return fail(path);
  const char *type = S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir"
                   : S_ISCHR(st.st_mode) ? "chr" : S_ISBLK(st.st_mode) ? "blk"
                   : S_ISLNK(st.st_mode) ? "link" : S_ISFIFO(st.st_mode) ? "fifo"
                   : S_ISSOCK(st.st_mode) ? "sock" : "other";
  printf("type=%s mode=%04o uid=%u gid=%u rdev=%u:%u size=%lld\n", type,
         st.st_mode & 07777, st.st_uid, st.st_gid, major(st.st_rdev),
         minor(st.st_rdev), (long long)st.st_size);
  return 0;
}

static int cmd_tty(void) {
  for (int fd = 0; fd <= 2; fd++) printf("isatty%d=%d\n", fd, isatty(fd));
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) == 0) printf("rows=%u cols=%u\n", ws.ws_row, ws.ws_col);
  char name[128];
  if (ttyname_r(0, name, sizeof name) == 0) printf("ttyname=%s\n", name);
  return 0;
}

static int cmd_sched(void) {
  static const char *names[] = {"SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH",
                                "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE"};
  int policy = sched_getscheduler(0);
  if (policy < 0) return fail("sched_getscheduler");
  policy &= ~SCHED_RESET_ON_FORK;
  struct sched_param sp;
  if (sched_getparam(0, &sp) < 0) return fail("sched_getparam");
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, 0);
  printf("policy=%s priority=%d nice=%d\n", policy < 7 ? names[policy] : "?",
         sp.sched_priority, nice);
  return 0;
}

static int cmd_ioprio(void) {
  /* ioprio_get(IOPRIO_WHO_PROCESS, 0): class in bits 13.., level below */
  long v = syscall(SYS_ioprio_get, 1, 0);
  if (v < 0) return fail("ioprio_get");
  static const char *classes[] = {"IOPRIO_CLASS_NONE", "IOPRIO_CLASS_RT",
                                  "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"};
  long cls = v >> 13;
  printf("class=%s level=%ld\n", cls < 4 ? classes[cls] : "?", v & 0x1fff);
  return 0;
}

static int cmd_ns(void) {
  static const char *kinds[] = {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    char link[64], target[128];
    snprintf(link, sizeof link, "/proc/self/ns/%s", kinds[i]);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0) continue; /* a namespace kind this kernel lacks */
    target[n] = 0;
    printf("%s %s\n", kinds[i], target);
  }
  return 0;
}

static int cmd_signal_wait(void) {
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL);
  printf("ready\n");
  fflush(stdout);
  int sig;
  if (sigwait(&all, &sig) != 0) return fail("sigwait");
  printf("%s\n", sigabbrev_np(sig) ? sigabbrev_np(sig) : "UNKNOWN");
  return 0;
}

static int cmd_exe(void) {
  static const char *links[] = {"/proc/self/exe", "/proc/1/exe"};
  for (int i = 0; i < 2; i++) {
    char target[PATH_MAX];
    ssize_t n = readlink(links[i], target, sizeof target - 1);
    if (n < 0) { printf("%s %s\n", links[i], errno_name(errno)); continue; }
    target[n] = 0;
    printf("%s %s\n", links[i], target);
  }
  return 0;
}

static int cmd_mkdir(const char *path) {
  if (mkdir(path, 0755) < 0) return fail(path);
  printf("ok\n");
  return 0;
}

/* syscall(NR, a0, a1, a2) with numeric args (0x... allowed, default 0): the
 * raw return value, or the errno name. For seccomp tests: a syscall libc would
 * not make, or one with exact argument values. */
static int cmd_syscall(int argc, char **argv) {
  unsigned long long a[3] = {0, 0, 0};
  for (int i = 0; i < 3 && i + 3 < argc; i++) a[i] = strtoull(argv[i + 3], NULL, 0);
  errno = 0;
  long r = syscall(strtol(argv[2], NULL, 0), a[0], a[1], a[2]);
  if (r == -1 && errno) return fail("syscall");
  printf("ret=%ld\n", r);
  return 0;
}

static int usage(void) {
  fprintf(stderr,
          "usage: probe fds|caps|nnp|seccomp|ids|umask|cwd|hostname|tty|personality|\n"
          "             sched|ioprio|oom|mounts|ns|exe|signal-wait|sleep [SECONDS]|\n"
          "             rlimit NAME|exit N|write PATH DATA|read PATH|stat PATH|\n"
          "             mkdir PATH|syscall NR [ARG0 [ARG1 [ARG2]]]\n");
  return 2;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) return usage();
  const char *cmd = argv[1];
  const char *a1 = argc > 2 ? argv[2] : NULL, *a2 = argc > 3 ? argv[3] : NULL;
  if (!strcmp(cmd, "fds")) return cmd_fds();
  if (!strcmp(cmd, "caps"))
    return status_fields((const char *const[]){"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", NULL});
  if (!strcmp(cmd, "nnp")) return status_fields((const char *const[]){"NoNewPrivs", NULL});
  if (!strcmp(cmd, "seccomp")) return status_fields((const char *const[]){"Seccomp:", NULL});
  if (!strcmp(cmd, "umask")) return status_fields((const char *const[]){"Umask", NULL});
  if (!strcmp(cmd, "ids")) return cmd_ids();
  if (!strcmp(cmd, "rlimit") && a1) return cmd_rlimit(a1);
  if (!strcmp(cmd, "cwd")) {
    char buf[PATH_MAX];
    if (!getcwd(buf, sizeof buf)) return fail("getcwd");
    printf("%s\n", buf);
    return 0;
  }
  if (!strcmp(cmd, "exit") && a1) return atoi(a1);
  if (!strcmp(cmd, "sleep")) {
    if (a1) return sleep((unsigned)atoi(a1)) ? 1 : 0;
    for (;;) pause();
  }
  if (!strcmp(cmd, "write") && a1 && a2) return cmd_write(a1, a2);
  if (!strcmp(cmd, "read") && a1) return cat(a1);
  if (!strcmp(cmd, "stat") && a1) return cmd_stat(a1);
  if (!strcmp(cmd, "mkdir") && a1) return cmd_mkdir(a1);
  if (!strcmp(cmd, "syscall") && a1) return cmd_syscall(argc, argv);
  if (!strcmp(cmd, "hostname")) {
    struct utsname u;
    if (uname(&u) < 0) return fail("uname");
    printf("hostname=%s domainname=%s\n", u.nodename, u.domainname);
    return 0;
  }
  if (!strcmp(cmd, "tty")) return cmd_tty();
  if (!strcmp(cmd, "personality")) {
    int p = personality(0xffffffff);
    if (p < 0) return fail("personality");
    printf("personality=0x%x\n", p);
    return 0;
  }
  if (!strcmp(cmd, "sched")) return cmd_sched();
  if (!strcmp(cmd, "ioprio")) return cmd_ioprio();
  if (!strcmp(cmd, "oom")) return cat("/proc/self/oom_score_adj");
  if (!strcmp(cmd, "mounts")) return cat("/proc/self/mountinfo");
  if (!strcmp(cmd, "ns")) return cmd_ns();
  if (!strcmp(cmd, "exe")) return cmd_exe();
  if (!strcmp(cmd, "signal-wait")) return cmd_signal_wait();
  return usage();
}
