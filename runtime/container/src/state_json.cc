#include "berth/container/container.h"
#include "berth/json/json.h"

namespace berth::container {

namespace {

void write_state(json::Writer& w, const State& s) {
  w.begin_object();
  w.key("ociVersion").string(s.oci_version);
  w.key("id").string(s.id);
  w.key("status").string(status_name(s.status));
  w.key("pid").integer(s.pid);
  w.key("bundle").string(s.bundle);
  if (!s.rootfs.empty()) w.key("rootfs").string(s.rootfs);
  if (!s.created.empty()) w.key("created").string(s.created);
  if (!s.owner.empty()) w.key("owner").string(s.owner);
  w.key("annotations").begin_object();
  for (const auto& [k, v] : s.annotations) w.key(k).string(v);
  w.end_object();
  w.end_object();
}

}  // namespace

std::string state_json(const State& state, bool pretty) {
  json::Writer w(pretty);
  write_state(w, state);
  return w.str();
}

std::string state_list_json(const std::vector<State>& states) {
  json::Writer w(false);
  w.begin_array();
  for (const auto& s : states) write_state(w, s);
  w.end_array();
  return w.str();
}

}  // namespace berth::container
