#pragma once
// The conformance suite of core::LeaseStore: leases per namespace, their
// resources, expiry kept as data, cascade on removal, persistence.
// Call it inside a doctest TEST_CASE; `make(root)` opens a store on `root`.

#include <functional>
#include <memory>
#include <string>

#include "berth/core/metadata.h"

namespace berth::testsuite {

using LeaseStoreFactory = std::function<std::unique_ptr<core::LeaseStore>(const std::string& root)>;
void run_lease_store_suite(const LeaseStoreFactory& make);

}  // namespace berth::testsuite
