// The content store conformance suite (see content_store_suite.h).

#include "berth/testsuite/content_store_suite.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "berth/base/scope_guard.h"
#include "berth/base/sys.h"
#include "berth/core/digest.h"
#include "berth/testsuite/temp_dir.h"
#include "berth/testsuite/why.h"

namespace berth::testsuite {

namespace {

// Bytes that differ at every offset, so a resumed ingest that skipped or
// repeated a chunk cannot produce the right digest.
std::string payload(size_t size, unsigned seed = 1) {
  std::string out(size, '\0');
  uint32_t x = 2463534242u ^ seed;
  for (auto& c : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return out;
}

std::unique_ptr<core::ContentStore> open_store(const ContentStoreFactory& make,
                                               const std::string& root) {
  auto store = make(root);
  REQUIRE(store != nullptr);
  return store;
}

core::ContentInfo put(core::ContentStore& store, const std::string& ref, const std::string& data) {
  auto w = store.writer(ref, static_cast<int64_t>(data.size()), core::digest_of(data));
  REQUIRE_MESSAGE(w.ok(), testsuite::why(w));
  REQUIRE((*w)->write(data).ok());
  auto info = (*w)->commit();
  REQUIRE_MESSAGE(info.ok(), testsuite::why(info));
  return *info;
}

std::vector<std::string> digests(core::ContentStore& store) {
  auto list = store.list();
  REQUIRE(list.ok());
  std::vector<std::string> out;
  for (auto& i : *list) out.push_back(i.digest);
  std::sort(out.begin(), out.end());
  return out;
}

size_t ingest_count(core::ContentStore& store) {
  auto ingests = store.ingests();
  REQUIRE(ingests.ok());
  return ingests->size();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The child of the kill test: writes the first `signal_at` bytes, tells the
// parent, then trickles the rest until killed (it never reaches the end).
[[noreturn]] void write_until_killed(const ContentStoreFactory& make, const std::string& root,
                                     const std::string& data, size_t signal_at, int ready_fd) {
  auto store = make(root);
  auto w = store ? store->writer("killed", static_cast<int64_t>(data.size()), core::digest_of(data))
                 : Result<std::unique_ptr<core::ContentWriter>>(make_error("no store"));
  if (!w || !(*w)->write(std::string_view(data).substr(0, signal_at)).ok())
    sys::exit_immediately(2);
  if (sys::write(ready_fd, "x", 1) != 1) sys::exit_immediately(3);
  for (size_t off = signal_at; off + 4096 < data.size(); off += 4096) {
    if (!(*w)->write(std::string_view(data).substr(off, 4096)).ok()) sys::exit_immediately(4);
    usleep(100);
  }
  for (;;) usleep(100000);
}

}  // namespace

void run_content_store_suite(const ContentStoreFactory& make) {
  TempDir tmp("berth-content-suite-");
  std::string root = tmp.path() + "/store";
  auto store = open_store(make, root);

  SUBCASE("write, commit and read back") {
    std::string data = payload(300 * 1024);
    std::string digest = core::digest_of(data);
    auto w = store->writer("layer-1", static_cast<int64_t>(data.size()), digest);
    REQUIRE(w.ok());
    CHECK((*w)->offset() == 0);
    REQUIRE((*w)->write(std::string_view(data).substr(0, 1000)).ok());
    REQUIRE((*w)->write(std::string_view(data).substr(1000)).ok());
    CHECK((*w)->offset() == static_cast<int64_t>(data.size()));
    auto info = (*w)->commit();
    REQUIRE_MESSAGE(info.ok(), testsuite::why(info));
    CHECK(info->digest == digest);
    CHECK(info->size == static_cast<int64_t>(data.size()));
    auto read = store->read_blob(digest, data.size());
    REQUIRE(read.ok());
    CHECK(*read == data);
    auto fd = store->open_blob(digest);
    REQUIRE(fd.ok());
    auto via_fd = sys::read_all(*fd, data.size(), "blob");
    REQUIRE(via_fd.ok());
    CHECK(*via_fd == data);
    auto stat = store->info(digest);
    REQUIRE(stat.ok());
    CHECK(stat->size == static_cast<int64_t>(data.size()));
    CHECK(stat->created_at > 0);
    CHECK(digests(*store) == std::vector<std::string>{digest});
    CHECK(ingest_count(*store) == 0);
    // Committed blobs outlive the store object.
    store.reset();
    auto again = open_store(make, root);
    auto reread = again->read_blob(digest, data.size());
    REQUIRE(reread.ok());
    CHECK(*reread == data);
  }

  SUBCASE("a digest without an expected one is computed, and an empty blob is a blob") {
    auto w = store->writer("empty", 0, "");
    REQUIRE(w.ok());
    auto info = (*w)->commit(0);
    REQUIRE(info.ok());
    CHECK(info->digest == core::digest_of(""));
    CHECK(info->size == 0);
    auto read = store->read_blob(info->digest, 0);
    REQUIRE(read.ok());
    CHECK(read->empty());
  }

  SUBCASE("digest mismatch is EBADMSG naming both digests, and leaves no blob and no ingest") {
    std::string data = payload(4096);
    std::string wrong = core::digest_of("something else");
    auto w = store->writer("mismatch", static_cast<int64_t>(data.size()), wrong);
    REQUIRE(w.ok());
    REQUIRE((*w)->write(data).ok());
    auto info = (*w)->commit();
    REQUIRE(!info.ok());
    CHECK(info.error().code() == EBADMSG);
    CHECK(contains(info.error().message(), wrong));
    CHECK(contains(info.error().message(), core::digest_of(data)));
    CHECK(store->info(wrong).error().code() == ENOENT);
    CHECK(store->info(core::digest_of(data)).error().code() == ENOENT);
    CHECK(digests(*store).empty());
    CHECK(ingest_count(*store) == 0);
    // The same check when the digest is given to commit() only.
    auto w2 = store->writer("mismatch-2", 0, "");
    REQUIRE(w2.ok());
    REQUIRE((*w2)->write(data).ok());
    auto info2 = (*w2)->commit(-1, wrong);
    REQUIRE(!info2.ok());
    CHECK(info2.error().code() == EBADMSG);
    CHECK(digests(*store).empty());
  }

  SUBCASE("size mismatch is EBADMSG and leaves no blob") {
    std::string data = payload(1000);
    auto w = store->writer("short", 2000, "");
    REQUIRE(w.ok());
    REQUIRE((*w)->write(data).ok());
    auto info = (*w)->commit();
    REQUIRE(!info.ok());
    CHECK(info.error().code() == EBADMSG);
    CHECK(contains(info.error().message(), "2000"));
    CHECK(contains(info.error().message(), "1000"));
    CHECK(digests(*store).empty());
    CHECK(ingest_count(*store) == 0);
    // Given to commit(): the right digest but a different size still fails.
    auto w2 = store->writer("short-2", 0, "");
    REQUIRE(w2.ok());
    REQUIRE((*w2)->write(data).ok());
    auto info2 = (*w2)->commit(999, core::digest_of(data));
    REQUIRE(!info2.ok());
    CHECK(info2.error().code() == EBADMSG);
    CHECK(digests(*store).empty());
  }

  SUBCASE("a writer destroyed without commit leaves an ingest that resumes at its offset") {
    std::string data = payload(200 * 1024);
    std::string digest = core::digest_of(data);
    {
      auto w = store->writer("resume", static_cast<int64_t>(data.size()), digest);
      REQUIRE(w.ok());
      REQUIRE((*w)->write(std::string_view(data).substr(0, 70000)).ok());
    }
    auto ingests = store->ingests();
    REQUIRE(ingests.ok());
    REQUIRE(ingests->size() == 1);
    CHECK((*ingests)[0].ref == "resume");
    CHECK((*ingests)[0].offset == 70000);
    CHECK((*ingests)[0].total == static_cast<int64_t>(data.size()));
    CHECK((*ingests)[0].expected == digest);
    CHECK((*ingests)[0].updated_at > 0);
    // A new store object on the same root: a restarted daemon.
    store.reset();
    store = open_store(make, root);
    auto w = store->writer("resume", static_cast<int64_t>(data.size()), digest);
    REQUIRE(w.ok());
    CHECK((*w)->offset() == 70000);
    REQUIRE((*w)->write(std::string_view(data).substr(70000)).ok());
    auto info = (*w)->commit();
    REQUIRE_MESSAGE(info.ok(), testsuite::why(info));
    CHECK(*store->read_blob(digest, data.size()) == data);
    CHECK(ingest_count(*store) == 0);
  }

  SUBCASE("an ingest whose writing process was SIGKILLed mid-write resumes") {
    std::string data = payload(8 << 20, 7);
    std::string digest = core::digest_of(data);
    auto ready = sys::pipe();
    REQUIRE(ready.ok());
    pid_t pid = sys::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ready->read.reset();
      write_until_killed(make, root, data, 1 << 20, ready->write.get());
    }
    ready->write.reset();
    auto reap = ScopeGuard([&] {
      sys::kill(pid, SIGKILL);
      sys::waitpid(pid, nullptr, 0);
    });
    char c = 0;
    REQUIRE(sys::read(ready->read.get(), &c, 1) == 1);
    // The child holds the ref: a writer in another process is refused too.
    auto busy = store->writer("killed", static_cast<int64_t>(data.size()), digest);
    REQUIRE(!busy.ok());
    CHECK(busy.error().code() == EBUSY);
    usleep(20000);  // let it get into the middle of the rest
    REQUIRE(sys::kill(pid, SIGKILL) == 0);
    int status = 0;
    REQUIRE(sys::waitpid(pid, &status, 0) == pid);
    reap.dismiss();
    CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));

    auto w = store->writer("killed", static_cast<int64_t>(data.size()), digest);
    REQUIRE_MESSAGE(w.ok(), testsuite::why(w));
    int64_t offset = (*w)->offset();
    CHECK(offset >= (1 << 20));
    CHECK(offset < static_cast<int64_t>(data.size()));
    REQUIRE((*w)->write(std::string_view(data).substr(static_cast<size_t>(offset))).ok());
    auto info = (*w)->commit();
    REQUIRE_MESSAGE(info.ok(), testsuite::why(info));
    CHECK(*store->read_blob(digest, data.size()) == data);
  }

  SUBCASE("a second writer on the same ref is EBUSY until the first is gone") {
    auto first = store->writer("shared", 0, "");
    REQUIRE(first.ok());
    auto second = store->writer("shared", 0, "");
    REQUIRE(!second.ok());
    CHECK(second.error().code() == EBUSY);
    auto other = store->writer("another", 0, "");
    CHECK(other.ok());
    CHECK(store->abort_ingest("shared").error().code() == EBUSY);
    first->reset();
    auto third = store->writer("shared", 0, "");
    CHECK(third.ok());
  }

  SUBCASE("committing a blob that exists succeeds and drops the ingest") {
    std::string data = payload(5000);
    auto first = put(*store, "one", data);
    auto w = store->writer("two", static_cast<int64_t>(data.size()), first.digest);
    REQUIRE(w.ok());
    auto info = (*w)->commit();  // no bytes at all
    REQUIRE_MESSAGE(info.ok(), testsuite::why(info));
    CHECK(info->digest == first.digest);
    CHECK(info->size == first.size);
    CHECK(ingest_count(*store) == 0);
    // The same bytes again without an expected digest: one blob, still.
    auto w2 = store->writer("three", 0, "");
    REQUIRE(w2.ok());
    REQUIRE((*w2)->write(data).ok());
    auto info2 = (*w2)->commit();
    REQUIRE(info2.ok());
    CHECK(info2->digest == first.digest);
    CHECK(digests(*store) == std::vector<std::string>{first.digest});
    CHECK(ingest_count(*store) == 0);
  }

  SUBCASE("remove") {
    auto a = put(*store, "a", payload(100, 1));
    auto b = put(*store, "b", payload(100, 2));
    REQUIRE(store->remove(a.digest).ok());
    CHECK(store->info(a.digest).error().code() == ENOENT);
    CHECK(store->open_blob(a.digest).error().code() == ENOENT);
    CHECK(store->read_blob(a.digest, 1000).error().code() == ENOENT);
    CHECK(store->remove(a.digest).error().code() == ENOENT);
    CHECK(digests(*store) == std::vector<std::string>{b.digest});
  }

  SUBCASE("list") {
    std::vector<std::string> want;
    for (unsigned i = 0; i < 5; ++i)
      want.push_back(put(*store, "l" + std::to_string(i), payload(64, i)).digest);
    // An ingest in progress is not content.
    auto pending = store->writer("pending", 0, "");
    REQUIRE(pending.ok());
    REQUIRE((*pending)->write("partial").ok());
    std::sort(want.begin(), want.end());
    CHECK(digests(*store) == want);
  }

  SUBCASE("ingests, abort and abort_ingest") {
    for (const std::string& ref : std::vector<std::string>{"i1", "i2"}) {
      auto w = store->writer(ref, 100, "");
      REQUIRE(w.ok());
      REQUIRE((*w)->write(ref).ok());
    }
    auto ingests = store->ingests();
    REQUIRE(ingests.ok());
    std::vector<std::string> refs;
    for (auto& i : *ingests) {
      refs.push_back(i.ref);
      CHECK(i.offset == 2);
      CHECK(i.total == 100);
      CHECK(i.expected.empty());
    }
    std::sort(refs.begin(), refs.end());
    CHECK(refs == std::vector<std::string>{"i1", "i2"});
    REQUIRE(store->abort_ingest("i1").ok());
    CHECK(store->abort_ingest("i1").error().code() == ENOENT);
    CHECK(store->abort_ingest("never").error().code() == ENOENT);
    CHECK(ingest_count(*store) == 1);
    // A writer's own abort, and the ref starts from zero afterwards.
    auto w = store->writer("i2", 100, "");
    REQUIRE(w.ok());
    CHECK((*w)->offset() == 2);
    (*w)->abort();
    CHECK(ingest_count(*store) == 0);
    auto fresh = store->writer("i2", 100, "");
    REQUIRE(fresh.ok());
    CHECK((*fresh)->offset() == 0);
    CHECK(digests(*store).empty());
  }

  SUBCASE("invalid digest strings are refused before any path is built") {
    // A decoy beside the store: "sha256:../../../decoy" would reach it from
    // <root>/blobs/sha256/ if the digest became a path unchecked.
    std::string decoy = tmp.path() + "/decoy";
    REQUIRE(sys::write_file_atomic(decoy, "decoy").ok());
    std::string good = put(*store, "good", "good").digest;
    for (const std::string& bad : std::vector<std::string>{
             "../x", "sha256:../../etc", "sha256:../../../decoy", "sha256:..%2f..%2fdecoy", "",
             "sha512:" + std::string(128, 'a'), "sha256:" + std::string(64, 'A'),
             "sha256:" + std::string(63, 'a'),
             "sha256:" + std::string(core::digest_hex(good)) + "/"}) {
      INFO("digest: " << bad);
      CHECK(store->info(bad).error().code() == EINVAL);
      CHECK(store->open_blob(bad).error().code() == EINVAL);
      CHECK(store->read_blob(bad, 100).error().code() == EINVAL);
      CHECK(store->remove(bad).error().code() == EINVAL);
      if (!bad.empty()) {
        auto w = store->writer("bad", 0, bad);
        REQUIRE(!w.ok());
        CHECK(w.error().code() == EINVAL);
      }
      auto w2 = store->writer("bad-commit", 0, "");
      REQUIRE(w2.ok());
      REQUIRE((*w2)->write("decoy").ok());
      if (!bad.empty()) {
        auto info = (*w2)->commit(-1, bad);
        REQUIRE(!info.ok());
        CHECK(info.error().code() == EINVAL);
      }
      (*w2)->abort();
    }
    auto decoy_text = sys::read_file(decoy);
    REQUIRE_MESSAGE(decoy_text.ok(), "the decoy beside the store was removed");
    CHECK(*decoy_text == "decoy");
    CHECK(digests(*store) == std::vector<std::string>{good});
  }

  SUBCASE("read_blob refuses a blob larger than its limit with EFBIG") {
    auto info = put(*store, "big", payload(10000));
    auto read = store->read_blob(info.digest, 9999);
    REQUIRE(!read.ok());
    CHECK(read.error().code() == EFBIG);
    CHECK(contains(read.error().message(), info.digest));
    CHECK(store->read_blob(info.digest, 10000).ok());
  }

  SUBCASE("concurrent writers on many threads") {
    // Gives each thread its own blobs and all of them one shared blob under
    // their own refs: every commit succeeds, one copy of each exists.
    std::string shared = payload(50000, 99);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (unsigned i = 0; i < 8; ++i) {
          for (const std::string& data : {payload(20000, 1000 + t * 8 + i), shared}) {
            auto w = store->writer("t" + std::to_string(t) + "-" + std::to_string(i) + "-" +
                                       std::to_string(data.size()),
                                   static_cast<int64_t>(data.size()), core::digest_of(data));
            if (!w || !(*w)->write(data).ok() || !(*w)->commit().ok()) ++failures;
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
    CHECK(digests(*store).size() == 4 * 8 + 1);
    CHECK(ingest_count(*store) == 0);
  }

  SUBCASE("a full disk is ENOSPC naming the blob, and no blob appears") {
    if (sys::geteuid() != 0) {
      MESSAGE("skipped: mounting a tmpfs requires root");
      return;
    }
    std::string disk = tmp.path() + "/disk";
    REQUIRE(sys::mkdir(disk, 0700).ok());
    REQUIRE(sys::mount("tmpfs", disk, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0700").ok());
    auto unmount = ScopeGuard([&] { sys::umount2(disk.c_str(), MNT_DETACH); });
    auto small = open_store(make, disk + "/store");
    std::string data = payload(2 << 20, 3);
    std::string digest = core::digest_of(data);
    auto w = small->writer("too-big", static_cast<int64_t>(data.size()), digest);
    REQUIRE(w.ok());
    Status failed;
    for (size_t off = 0; off < data.size() && failed.ok(); off += 64 << 10)
      failed = (*w)->write(std::string_view(data).substr(off, 64 << 10));
    REQUIRE(!failed.ok());
    CHECK(failed.error().code() == ENOSPC);
    CHECK(contains(failed.error().message(), digest));
    auto info = (*w)->commit();
    REQUIRE(!info.ok());
    CHECK(small->info(digest).error().code() == ENOENT);
    auto list = small->list();
    REQUIRE(list.ok());
    CHECK(list->empty());
    w->reset();
    small.reset();
  }
}

}  // namespace berth::testsuite
