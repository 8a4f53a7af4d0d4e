#include "render/listing.h"

#include "berth/template/docker_format.h"

namespace berth::ctl {

json::Value jobj(std::initializer_list<std::pair<std::string, json::Value>> members) {
  return json::Value::object(std::vector<std::pair<std::string, json::Value>>(members));
}

json::Value headers(std::initializer_list<std::pair<std::string, std::string>> titles) {
  std::vector<std::pair<std::string, json::Value>> members;
  for (const auto& [field, title] : titles) members.emplace_back(field, jstr(title));
  return json::Value::object(std::move(members));
}

Result<std::string> render_list(std::string_view format, std::string_view default_table,
                                const std::vector<json::Value>& rows, const json::Value& titles) {
  std::string_view trimmed = format;
  while (!trimmed.empty() && trimmed.front() == ' ') trimmed.remove_prefix(1);
  while (!trimmed.empty() && trimmed.back() == ' ') trimmed.remove_suffix(1);
  if (trimmed.empty() || trimmed == "table") format = default_table;
  auto parsed = tmpl::DockerFormat::parse(format);
  if (!parsed) return std::move(parsed).error().wrap("template parsing error");
  for (const auto& row : rows) BERTH_TRY(parsed->add(row));
  return parsed->finish(titles);
}

Result<std::string> render_one(std::string_view format, const json::Value& value) {
  auto parsed = tmpl::DockerFormat::parse(format);
  if (!parsed) return std::move(parsed).error().wrap("template parsing error");
  BERTH_TRY(parsed->add(value));
  return parsed->finish(json::Value::object({}));
}

namespace {

void indent(std::string& out, int depth) { out.append(static_cast<size_t>(depth) * 4, ' '); }

// Go's json.MarshalIndent(v, "", "    "): empty arrays and objects as []
// and {}, one member per line otherwise.
void write_pretty(std::string& out, const json::Value& v, int depth) {
  if (v.is_array() && !v.items().empty()) {
    out += "[\n";
    for (size_t i = 0; i < v.items().size(); ++i) {
      indent(out, depth + 1);
      write_pretty(out, v.items()[i], depth + 1);
      out += i + 1 < v.items().size() ? ",\n" : "\n";
    }
    indent(out, depth);
    out += "]";
    return;
  }
  if (v.is_object() && !v.members().empty()) {
    out += "{\n";
    for (size_t i = 0; i < v.members().size(); ++i) {
      indent(out, depth + 1);
      json::Writer key;
      key.string(v.members()[i].first);
      out += key.str() + ": ";
      write_pretty(out, v.members()[i].second, depth + 1);
      out += i + 1 < v.members().size() ? ",\n" : "\n";
    }
    indent(out, depth);
    out += "}";
    return;
  }
  json::Writer w;
  w.value(v);
  out += w.str();
}

}  // namespace

std::string pretty_json(const json::Value& value) {
  std::string out;
  write_pretty(out, value, 0);
  return out + "\n";
}

std::string pretty_json_array(const std::vector<json::Value>& items) {
  return pretty_json(json::Value::array(items));
}

}  // namespace berth::ctl
