#include <doctest/doctest.h>

#include <string>

#include "berth/json/json.h"
#include "berth/template/docker_format.h"

using berth::json::Value;
using berth::tmpl::DockerFormat;
using berth::tmpl::tabwrite;

namespace {

Value data(std::string_view text) {
  auto v = berth::json::parse(text, "test");
  REQUIRE(v.ok());
  return std::move(*v);
}

std::string format(
    std::string_view fmt, std::string_view items_json,
    std::string_view headers = R"({"ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG"})") {
  auto f = DockerFormat::parse(fmt);
  if (!f) return "ERR: " + f.error().message();
  Value items = data(items_json);
  for (const auto& item : items.items()) {
    auto st = f->add(item);
    if (!st) return "ERR: " + st.error().message();
  }
  auto out = f->finish(data(headers));
  if (!out) return "ERR: " + out.error().message();
  return *out;
}

const char* kImages = R"([
  {"ID": "4e5021d210f6", "Repository": "docker.io/library/busybox", "Tag": "latest", "Labels": {"a": "b"}},
  {"ID": "77af4d6b9913", "Repository": "localhost:5000/app", "Tag": "v1.2", "Labels": {}}
])";

}  // namespace

TEST_CASE("tabwriter aligns column blocks as Go's text/tabwriter with docker's settings") {
  // minwidth 10, padding 3: a column is max(10, widest cell + 3) wide.
  CHECK(tabwrite("a\tb\nlonger-cell\tc\n") == "a             b\nlonger-cell   c\n");
  CHECK(tabwrite("x\ty\n") == "x         y\n");
  // The last cell of a line is not a column cell: never padded.
  CHECK(tabwrite("id\tname\n") == "id        name\n");
  // A line without the column ends the block: later lines form a new block.
  CHECK(tabwrite("aaaaaaaaaaaaaaa\tb\nplain\nc\td\n") ==
        "aaaaaaaaaaaaaaa   b\nplain\nc         d\n");
  // Widths count runes, not bytes.
  CHECK(tabwrite("\xc3\xa9\tx\n") == "\xc3\xa9         x\n");
}

TEST_CASE("table format: header from the header context, rows aligned") {
  CHECK(format("table {{.ID}}\\t{{.Repository}}\\t{{.Tag}}", kImages) ==
        "IMAGE ID       REPOSITORY                  TAG\n"
        "4e5021d210f6   docker.io/library/busybox   latest\n"
        "77af4d6b9913   localhost:5000/app          v1.2\n");
  // docker's functions are identities on the header row.
  CHECK(format("table {{.ID}}\\t{{json .Labels}}", kImages,
               R"({"ID": "IMAGE ID", "Labels": "LABELS"})") ==
        "IMAGE ID       LABELS\n"
        "4e5021d210f6   {\"a\":\"b\"}\n"
        "77af4d6b9913   {}\n");
  // A field the header context lacks heads its column with <no value>, as in docker.
  CHECK(format("table {{.Tag}}\\t{{.Other}}", kImages).starts_with("TAG       <no value>\n"));
}

TEST_CASE("plain and json formats: one line per item") {
  CHECK(format("{{.ID}}: {{.Repository}}", kImages) ==
        "4e5021d210f6: docker.io/library/busybox\n77af4d6b9913: localhost:5000/app\n");
  CHECK(format("  {{.Tag}}  ", kImages) == "latest\nv1.2\n");  // trimmed as docker does
  CHECK(format("json", R"([{"A": 1}])") == "{\"A\":1}\n");
  CHECK(format("{{.ID}}\\n", R"([{"ID": "x"}])") == "x\n\n");
  CHECK(format("{{.ID", kImages).starts_with("ERR: template: "));
}
