#pragma once
// Go text/template, the part docker's `--format` uses, over JSON values.
//
// berthctl formats what berthd returns (docker's JSON shapes) with the same
// template language docker's CLI takes, so every `--format` a docker user
// has written keeps working. No C++ library implements Go templates; this is
// a small one with Go's semantics where docker's users can see them:
//
//   syntax      {{.A.B}} {{.}} {{$}} {{$v := pipeline}} {{$v = pipeline}}
//               {{$i, $e := range ...}} pipelines `a | f b`, (parentheses),
//               "strings" `raw` 'c' 42 -1.5 true false nil, {{/* comments */}},
//               {{- trim -}} markers
//   control     if / else if / else / end, range / else / end (arrays; objects
//               in sorted key order, as Go ranges a map), with / else / end,
//               break, continue
//   functions   Go's: and or not len index slice print printf println eq ne
//               lt le gt ge; docker's: json split join title lower upper pad
//               truncate
//   printing    Go's %v: strings as they are, null as <nil>, a missing key as
//               <no value>, arrays as [a b], objects as map[k:v] (sorted keys)
//
// Not supported (an error at parse time): define, template, block, method
// calls with arguments, html/js/urlquery/call.

#include <memory>
#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/json/json.h"

namespace berth::tmpl {

struct Node;  // the parsed tree (template_ast.h)

class Template {
 public:
  // Parses `text`; the error names the column and what is wrong, as Go's
  // does ("template: :1:8: function \"nope\" not defined").
  static Result<Template> parse(std::string_view text);

  // Runs the template with `dot` as its data; output is appended to `out`
  // only when the whole execution succeeds. `header` is docker's header
  // mode for tables: its own functions (json, join, ...) return their first
  // argument, so a header row renders from a map of column titles.
  Status execute(const json::Value& dot, std::string& out, bool header = false) const;

  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;
  ~Template();

 private:
  explicit Template(std::shared_ptr<const Node> root);
  std::shared_ptr<const Node> root_;
};

// Go's fmt %v of a value (see "printing" above).
std::string format_value(const json::Value& v);

}  // namespace berth::tmpl
