#pragma once
// The rows of `images` and `history` as docker's formatter builds them
// (cli/command/formatter/image.go, history.go), apart from the RPCs so the
// tests can check them against docker's output.

#include <cstdint>
#include <vector>

#include "berth/json/json.h"
#include "berth/v1/images.pb.h"
#include "berth/v1/types.pb.h"

namespace berth::ctl {

struct ImageListOptions {
  bool digests = false;
  bool no_trunc = false;
};
// One row per (repository, tag[, digest]) of each image, "<none>" where
// docker shows it; fields .Repository .Tag .Digest .ID .CreatedSince
// .CreatedAt .Size .VirtualSize .SharedSize .UniqueSize .Containers.
std::vector<json::Value> image_rows(const v1::ListImagesResponse& list,
                                    const ImageListOptions& opts, int64_t now);
const char* images_table(bool digests);

// docker's prune output: "Deleted <kind>:" and its lines, then the total.
std::string prune_report_text(const v1::PruneReport& report, std::string_view kind = "Images");
// Parsed --filter pairs into a request's repeated Filter field.
template <class Request>
void add_filters(Request& req, const std::vector<std::pair<std::string, std::string>>& filters) {
  for (const auto& [k, v] : filters) {
    auto* filter = req.add_filters();
    filter->set_key(k);
    filter->set_value(v);
  }
}
json::Value images_headers();

struct HistoryOptions {
  bool no_trunc = false;
  bool human = true;
};
// Fields .ID .CreatedSince .CreatedAt .CreatedBy .Size .Comment.
std::vector<json::Value> history_rows(const v1::HistoryResponse& history,
                                      const HistoryOptions& opts, int64_t now);
inline constexpr const char* kHistoryTable =
    "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";
json::Value history_headers();

}  // namespace berth::ctl
