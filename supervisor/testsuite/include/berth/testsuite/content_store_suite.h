#pragma once
// The conformance suite of core::ContentStore (containerd's content/testsuite
// is the model): the ingest protocol of core/content.h as observed by a
// caller, including a writer's process killed mid-write and a full disk.
// Call it inside a doctest TEST_CASE; each part is a SUBCASE with a fresh
// root. `make(root)` opens the store at `root` (twice on one root to see
// what persists, and in a forked child).

#include <functional>
#include <memory>
#include <string>

#include "berth/core/content.h"

namespace berth::testsuite {

using ContentStoreFactory =
    std::function<std::unique_ptr<core::ContentStore>(const std::string& root)>;
void run_content_store_suite(const ContentStoreFactory& make);

}  // namespace berth::testsuite
