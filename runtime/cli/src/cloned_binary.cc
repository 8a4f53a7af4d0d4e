#include "cloned_binary.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <elf.h>

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "berth/base/sys.h"
#include "berth/base/unique_fd.h"

namespace berth::cli {

namespace {
constexpr int kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

// Bytes of the ELF file an exec needs: up to the end of the last loadable
// segment. Debug sections (most of a RelWithDebInfo binary) come after it
// and are not copied; 0 when the file is not an ELF we understand.
off_t loadable_size(int fd, off_t file_size) {
  Elf64_Ehdr eh{};
  if (sys::pread(fd, &eh, sizeof eh, 0) != sizeof eh || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_phentsize != sizeof(Elf64_Phdr))
    return 0;
  // All program headers in one read (a static berth has about ten).
  Elf64_Phdr phdrs[32];
  if (eh.e_phnum == 0 || eh.e_phnum > std::size(phdrs)) return 0;
  ssize_t want = static_cast<ssize_t>(eh.e_phnum * sizeof(Elf64_Phdr));
  if (sys::pread(fd, phdrs, static_cast<size_t>(want), static_cast<off_t>(eh.e_phoff)) != want)
    return 0;
  off_t end = static_cast<off_t>(eh.e_phoff + eh.e_phnum * sizeof(Elf64_Phdr));
  for (unsigned i = 0; i < eh.e_phnum; ++i)
    end = std::max(end, static_cast<off_t>(phdrs[i].p_offset + phdrs[i].p_filesz));
  return end <= file_size ? end : 0;
}
}  // namespace

void ensure_cloned_binary(char** argv, char** envp) {
  UniqueFd self(sys::openat(sys::kAtFdcwd, "/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!self.valid()) return;
  int seals = sys::fcntl(self.get(), F_GET_SEALS);
  if (seals >= 0 && (seals & kSeals) == kSeals) return;  // already the sealed copy

  UniqueFd copy(sys::memfd_create("berth", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  struct stat st {};
  if (!copy.valid() || sys::fstatat(self.get(), "", &st, AT_EMPTY_PATH) != 0) return;
  off_t size = loadable_size(self.get(), st.st_size);
  if (size == 0) size = st.st_size;
  off_t offset = 0;
  while (offset < size) {
    ssize_t n = sys::sendfile(copy.get(), self.get(), &offset, static_cast<size_t>(size - offset));
    if (n <= 0) {
      std::fprintf(stderr, "berth: warning: cannot clone the berth binary into a memfd\n");
      return;
    }
  }
  if (sys::fcntl(copy.get(), F_ADD_SEALS, kSeals) != 0) return;
  sys::execve_fd(copy.get(), argv, envp);
  std::fprintf(stderr, "berth: warning: cannot re-execute from the sealed berth copy\n");
}

}  // namespace berth::cli
