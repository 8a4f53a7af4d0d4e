#pragma once
// docker's `--format` around the template language (cli/command/formatter):
//   "table ..."  a header row, then one row per item, aligned into columns by
//                Go's text/tabwriter (minwidth 10, padding 3, spaces)
//   "json"       each item as one line of JSON ({{json .}})
//   otherwise    the template, one line per item
// In every form the two-character escapes `\t` and `\n` become a tab and a
// newline, and the format is trimmed of spaces, as docker does.

#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/json/json.h"
#include "berth/template/template.h"

namespace berth::tmpl {

class DockerFormat {
 public:
  static Result<DockerFormat> parse(std::string_view format);

  bool is_table() const { return table_; }
  // Renders one item (followed by a newline) into the pending output.
  Status add(const json::Value& item);
  // The whole output. For a table, `headers` maps field names to column
  // titles (docker's header context: {"ID": "IMAGE ID", ...}); a field not
  // in it heads its column with <no value>, as in docker.
  Result<std::string> finish(const json::Value& headers) const;

 private:
  DockerFormat(Template t, bool table) : template_(std::move(t)), table_(table) {}
  Template template_;
  bool table_;
  std::string rows_;
};

// Go's text/tabwriter with docker's settings: cells end at a tab, and each
// column block (consecutive lines that have a cell in that column) is as
// wide as its widest cell + padding, and at least minwidth.
std::string tabwrite(std::string_view text, size_t minwidth = 10, size_t padding = 3);

}  // namespace berth::tmpl
