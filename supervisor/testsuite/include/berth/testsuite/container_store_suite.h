#pragma once
// The conformance suite of core::ContainerStore: records per namespace,
// unique ids and names, every field round-tripped, state updates, rename,
// removal, persistence across a reopen.
// Call it inside a doctest TEST_CASE; `make(root)` opens a store on `root`.

#include <functional>
#include <memory>
#include <string>

#include "berth/core/container.h"

namespace berth::testsuite {

using ContainerStoreFactory =
    std::function<std::unique_ptr<core::ContainerStore>(const std::string& root)>;
void run_container_store_suite(const ContainerStoreFactory& make);

}  // namespace berth::testsuite
