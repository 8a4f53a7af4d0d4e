#pragma once
// The conformance suite every core::Snapshotter passes (containerd's
// snapshots/testsuite is the model). Call it from one doctest TEST_CASE per
// implementation; each case is a SUBCASE with its own temp root, and mounts
// for real (root), unmounting in a guard.
//
//   chains        prepare → commit → prepare on it → view: files visible
//                 through the mounts, views read-only, parents recorded
//   errors        unknown parent ENOENT, active parent EINVAL, taken key
//                 EEXIST, commit of a committed key or a view EINVAL
//   remove        EBUSY with children, then in order; directories go too
//   stat/list     kinds, parents, labels, times; usage counts the layer
//   transitions   active → committed keeps the id's contents, the key goes
//   crash         a crash at each step of create/commit/remove (a forked
//                 child _exits there), then reopen: records and dirs agree
//   round trip    apply a layer into A, commit, change B on A through its
//                 mount, write_layer(B), apply it onto a fresh snapshot of
//                 A: the tree equals B's mounted view
//
// The crash case reads the shared layout of berth's snapshotters
// (<root>/snapshots/<id>, staging/, trash/; supervisor/snapshots/storage.h).

#include <functional>
#include <memory>
#include <string>

#include "berth/base/error.h"
#include "berth/core/snapshots.h"

namespace berth::testsuite {

// Opens (or reopens, after a crash) the snapshotter rooted at `root`.
using SnapshotterFactory =
    std::function<Result<std::unique_ptr<core::Snapshotter>>(const std::string& root)>;

void snapshotter_suite(const SnapshotterFactory& factory);

}  // namespace berth::testsuite
