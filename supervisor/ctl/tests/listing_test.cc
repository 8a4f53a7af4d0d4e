// Tables as docker prints them, from daemon answers built here (no daemon).
#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>

#include "images.h"
#include "render/listing.h"
#include "system.h"

using namespace berth::ctl;
namespace v1 = berth::v1;

namespace {

constexpr int64_t kNow = 1714557600;  // 2024-05-01 10:00:00 UTC
const char* kBusyboxId = "sha256:4e5021d210f65ebe915670c7089120120bc0a303b90208592851708c1b8c04bd";
const char* kAppId = "sha256:77af4d6b9913e693e8d0b4b294fa62ade6054e6b2f1ffb617ac955dd63fb0182";
const char* kDigest = "sha256:5acba83a746c7608ed544dc1533b87c737a0b0fb730301639a0179f9344b1678";

v1::ListImagesResponse sample_images() {
  v1::ListImagesResponse list;
  auto* busybox = list.add_images();
  busybox->set_id(kBusyboxId);
  busybox->add_repo_tags("docker.io/library/busybox:latest");
  busybox->add_repo_tags("docker.io/library/busybox:1.36");
  busybox->add_repo_digests(std::string("docker.io/library/busybox@") + kDigest);
  busybox->set_created(kNow - 15 * 86400);
  busybox->set_size(4261550);
  busybox->set_containers(-1);
  auto* app = list.add_images();
  app->set_id(kAppId);
  app->add_repo_tags("localhost:5000/app:v1.2");
  app->set_created(kNow - 3600);
  app->set_size(1048576);
  auto* dangling = list.add_images();
  dangling->set_id("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  dangling->set_created(kNow - 30);
  dangling->set_size(999);
  return list;
}

// A table row as Go's tabwriter lays it out: each cell but the last padded
// to its column's width (runes).
std::string row(std::initializer_list<std::pair<std::string, size_t>> cells,
                const std::string& last) {
  std::string line;
  for (const auto& [text, width] : cells) {
    size_t runes = 0;
    for (unsigned char c : text) runes += (c & 0xC0) != 0x80;
    line += text + std::string(width - runes, ' ');
  }
  return line + last + "\n";
}

std::string render(const std::vector<berth::json::Value>& rows, const std::string& format,
                   bool digests = false) {
  auto text = render_list(format, images_table(digests), rows, images_headers());
  REQUIRE(text.ok());
  return *text;
}

}  // namespace

TEST_CASE("images: docker's default table") {
  auto rows = image_rows(sample_images(), {}, kNow);
  // Widths: the widest cell + 3, at least 10 ("About an hour ago" is 17).
  CHECK(render(rows, "") ==
        row({{"REPOSITORY", 21}, {"TAG", 10}, {"IMAGE ID", 15}, {"CREATED", 20}}, "SIZE") +
            row({{"busybox", 21}, {"latest", 10}, {"4e5021d210f6", 15}, {"2 weeks ago", 20}},
                "4.26MB") +
            row({{"busybox", 21}, {"1.36", 10}, {"4e5021d210f6", 15}, {"2 weeks ago", 20}},
                "4.26MB") +
            row({{"localhost:5000/app", 21},
                 {"v1.2", 10},
                 {"77af4d6b9913", 15},
                 {"About an hour ago", 20}},
                "1.05MB") +
            row({{"<none>", 21}, {"<none>", 10}, {"0123456789ab", 15}, {"30 seconds ago", 20}},
                "999B"));
}

TEST_CASE("images: --digests shows the repository's digest on each tag row") {
  auto rows = image_rows(sample_images(), {true, false}, kNow);
  auto text = render(rows, "{{.Repository}} {{.Tag}} {{.Digest}}", true);
  CHECK(text == std::string("busybox latest ") + kDigest + "\nbusybox 1.36 " + kDigest +
                    "\nlocalhost:5000/app v1.2 <none>\n<none> <none> <none>\n");
}

TEST_CASE("images: an image known only by digest gets a <none> tag row") {
  v1::ListImagesResponse list;
  auto* img = list.add_images();
  img->set_id(kAppId);
  img->add_repo_digests(std::string("localhost:5000/app@") + kDigest);
  auto rows = image_rows(list, {}, kNow);
  CHECK(render(rows, "{{.Repository}}|{{.Tag}}|{{.Digest}}") == "localhost:5000/app|<none>|\n");
  rows = image_rows(list, {true, false}, kNow);
  CHECK(render(rows, "{{.Repository}}|{{.Tag}}|{{.Digest}}") ==
        std::string("localhost:5000/app|<none>|") + kDigest + "\n");
}

TEST_CASE("images: -q, --no-trunc and json") {
  auto rows = image_rows(sample_images(), {false, true}, kNow);
  CHECK(render(rows, "{{.ID}}").starts_with(std::string(kBusyboxId) + "\n"));
  setenv("TZ", "UTC", 1);
  tzset();
  rows = image_rows(sample_images(), {}, kNow);
  std::string json = render(rows, "json");
  // Go's encoding/json escapes < and > as docker's {{json .}} does.
  CHECK(json.starts_with(
      R"({"Containers":"N/A","CreatedAt":"2024-04-16 10:00:00 +0000 UTC","CreatedSince":"2 weeks ago",)"
      R"("Digest":"\u003cnone\u003e","ID":"4e5021d210f6","Repository":"busybox","SharedSize":"N/A","Size":"4.26MB",)"
      R"("Tag":"latest","UniqueSize":"N/A","VirtualSize":"4.26MB"})"
      "\n"));
}

TEST_CASE("history: created-by cut at 45 characters, -H=false") {
  v1::HistoryResponse h;
  auto* top = h.add_items();
  top->set_id(kBusyboxId);
  top->set_created(kNow - 2 * 86400);
  top->set_created_by("/bin/sh -c #(nop)  CMD [\"sh\"]");
  top->set_size(0);
  auto* base = h.add_items();
  base->set_id("<missing>");
  base->set_created(kNow - 2 * 86400);
  base->set_created_by(
      "/bin/sh -c #(nop) ADD file:ac5fb7eb0d68040d948989f0a50914d0d4a6b631cd5f6d0f4f3b0b8b6b9d3e1f "
      "in /");
  base->set_size(4261550);
  auto text = render_list("", kHistoryTable, history_rows(h, {}, kNow), history_headers());
  REQUIRE(text.ok());
  CHECK(*text ==
        row({{"IMAGE", 15}, {"CREATED", 13}, {"CREATED BY", 48}, {"SIZE", 10}}, "COMMENT") +
            row({{"4e5021d210f6", 15},
                 {"2 days ago", 13},
                 {"/bin/sh -c #(nop)  CMD [\"sh\"]", 48},
                 {"0B", 10}},
                "") +
            row({{"<missing>", 15},
                 {"2 days ago", 13},
                 {"/bin/sh -c #(nop) ADD file:ac5fb7eb0d68040d9…", 48},
                 {"4.26MB", 10}},
                ""));
  setenv("TZ", "UTC", 1);
  tzset();
  auto raw = render_list("{{.CreatedSince}} {{.Size}}", kHistoryTable,
                         history_rows(h, {false, false}, kNow), history_headers());
  REQUIRE(raw.ok());
  CHECK(*raw == "2024-04-29T10:00:00Z 0\n2024-04-29T10:00:00Z 4261550\n");
}

TEST_CASE("system df: docker's columns and reclaimable percentages") {
  v1::DiskUsageResponse du;
  auto* images = du.add_rows();
  images->set_type("Images");
  images->set_total(5);
  images->set_active(2);
  images->set_size(16430000);
  images->set_reclaimable(11630000);
  auto* cache = du.add_rows();
  cache->set_type("Build Cache");
  auto text = render_list("", kDiskUsageTable, disk_usage_rows(du), disk_usage_headers());
  REQUIRE(text.ok());
  CHECK(*text == row({{"TYPE", 14}, {"TOTAL", 10}, {"ACTIVE", 10}, {"SIZE", 10}}, "RECLAIMABLE") +
                     row({{"Images", 14}, {"5", 10}, {"2", 10}, {"16.43MB", 10}}, "11.63MB (70%)") +
                     row({{"Build Cache", 14}, {"0", 10}, {"0", 10}, {"0B", 10}}, "0B"));
}

TEST_CASE("inspect: a JSON array with docker's 4-space indent") {
  auto v = berth::json::parse(
      R"({"Id":"sha256:x","RepoTags":["busybox:latest"],"Config":{},"Empty":[]})", "t");
  REQUIRE(v.ok());
  CHECK(pretty_json_array({*v}) ==
        "[\n    {\n        \"Id\": \"sha256:x\",\n        \"RepoTags\": [\n            "
        "\"busybox:latest\"\n"
        "        ],\n        \"Config\": {},\n        \"Empty\": []\n    }\n]\n");
  CHECK(pretty_json_array({}) == "[]\n");
}

TEST_CASE("a bad --format is docker's template parsing error") {
  auto text = render_list("{{.Nope", images_table(false), {}, images_headers());
  REQUIRE(!text.ok());
  CHECK(text.error().message().starts_with("template parsing error: template: "));
}
