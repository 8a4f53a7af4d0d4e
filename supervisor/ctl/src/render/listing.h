#pragma once
// Lists as docker prints them: a verb's default table, or the user's
// --format (table / json / template) run over each row's JSON, where the
// rows carry docker's field names so that existing formats keep working.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/base/error.h"
#include "berth/json/json.h"

namespace berth::ctl {

inline json::Value jstr(std::string s) { return json::Value::string(std::move(s)); }
inline json::Value jnum(int64_t n) { return json::Value::number(std::to_string(n)); }
json::Value jobj(std::initializer_list<std::pair<std::string, json::Value>> members);
// Column titles, docker's header context: {"ID": "IMAGE ID", ...}.
json::Value headers(std::initializer_list<std::pair<std::string, std::string>> titles);

// `format` empty or "table": `default_table` ("table {{.Repository}}\t...").
Result<std::string> render_list(std::string_view format, std::string_view default_table,
                                const std::vector<json::Value>& rows, const json::Value& titles);

// One object (inspect, version, info) through a --format template.
Result<std::string> render_one(std::string_view format, const json::Value& value);

// Go's json.MarshalIndent(v, "", "    ") and a newline: ctr's output of one
// object (`snapshot info`).
std::string pretty_json(const json::Value& value);
// docker's `inspect` output: a JSON array of the objects, 4-space indent.
std::string pretty_json_array(const std::vector<json::Value>& items);

}  // namespace berth::ctl
