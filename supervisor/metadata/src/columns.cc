// JSON columns (see columns.h), through lib/json.

#include "columns.h"

#include <chrono>

#include "berth/json/json.h"

namespace berth::metadata::detail {

namespace {

void write_map(json::Writer& w, const std::map<std::string, std::string>& m) {
  w.begin_object();
  for (const auto& [k, v] : m) w.key(k).string(v);
  w.end_object();
}

Result<std::map<std::string, std::string>> read_map(const json::Value& v, std::string_view what) {
  if (!v.is_object()) return make_error(std::string(what) + ": not a JSON object");
  std::map<std::string, std::string> out;
  for (const auto& [k, item] : v.members()) {
    if (!item.is_string())
      return make_error(std::string(what) + ": value of `" + k + "` is not a string");
    out.emplace(k, item.as_string());
  }
  return out;
}

}  // namespace

int64_t now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string labels_to_json(const core::Labels& labels) {
  json::Writer w;
  write_map(w, labels);
  return w.str();
}

Result<core::Labels> labels_from_json(std::string_view text, std::string_view what) {
  auto doc = BERTH_VALUE(json::parse(text, what));
  return read_map(doc, what);
}

std::string descriptor_extra_to_json(const core::Descriptor& d) {
  json::Writer w;
  w.begin_object();
  if (!d.urls.empty()) {
    w.key("urls").begin_array();
    for (const auto& u : d.urls) w.string(u);
    w.end_array();
  }
  if (!d.annotations.empty()) {
    w.key("annotations");
    write_map(w, d.annotations);
  }
  if (d.platform) {
    w.key("platform").begin_object().key("os").string(d.platform->os);
    w.key("architecture").string(d.platform->architecture);
    if (!d.platform->variant.empty()) w.key("variant").string(d.platform->variant);
    w.end_object();
  }
  w.end_object();
  return w.str();
}

Status descriptor_extra_from_json(std::string_view text, std::string_view what,
                                  core::Descriptor& d) {
  auto doc = BERTH_VALUE(json::parse(text, what));
  if (!doc.is_object()) return make_error(std::string(what) + ": not a JSON object");
  if (const auto* urls = doc.get("urls")) {
    if (!urls->is_array()) return make_error(std::string(what) + ": urls is not an array");
    for (const auto& u : urls->items()) {
      if (!u.is_string()) return make_error(std::string(what) + ": a url is not a string");
      d.urls.push_back(u.as_string());
    }
  }
  if (const auto* annotations = doc.get("annotations"))
    d.annotations = BERTH_VALUE(read_map(*annotations, std::string(what) + " annotations"));
  if (const auto* platform = doc.get("platform")) {
    auto fields = BERTH_VALUE(read_map(*platform, std::string(what) + " platform"));
    d.platform = core::Platform{fields["os"], fields["architecture"], fields["variant"]};
  }
  return ok_status();
}

}  // namespace berth::metadata::detail
