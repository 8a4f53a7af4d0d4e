#pragma once
// The conformance suite of core::ImageStore: records per namespace, put()
// returning the target it replaced, removal, validation, persistence.
// Call it inside a doctest TEST_CASE; `make(root)` opens a store on `root`
// (twice on one root to see what persists).

#include <functional>
#include <memory>
#include <string>

#include "berth/core/metadata.h"

namespace berth::testsuite {

using ImageStoreFactory = std::function<std::unique_ptr<core::ImageStore>(const std::string& root)>;
void run_image_store_suite(const ImageStoreFactory& make);

}  // namespace berth::testsuite
