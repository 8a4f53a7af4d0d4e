// Snapshot helpers (see snapshots.h): kind names and chain IDs.

#include "berth/core/snapshots.h"

#include "berth/core/digest.h"

namespace berth::core {

std::string_view to_string(SnapshotKind kind) {
  switch (kind) {
    case SnapshotKind::kCommitted: return "Committed";
    case SnapshotKind::kActive: return "Active";
    case SnapshotKind::kView: return "View";
  }
  return "Unknown";
}

std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids) {
  std::vector<std::string> out;
  out.reserve(diff_ids.size());
  for (const auto& id : diff_ids)
    out.push_back(out.empty() ? id : digest_of(out.back() + " " + id));
  return out;
}

std::string chain_id(const std::vector<std::string>& diff_ids) {
  auto all = chain_ids(diff_ids);
  return all.empty() ? std::string() : all.back();
}

}  // namespace berth::core
