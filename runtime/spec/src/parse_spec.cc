// config.json: the top level (config.md), then checks across sections.

#include "reader.h"

namespace berth::spec {
namespace internal {
namespace {

// SemVer 2.0 numeric identifier: digits without a leading zero.
bool semver_number(std::string_view s) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Dot-separated identifiers of [0-9A-Za-z-]; numeric ones (in a
// pre-release) without a leading zero.
bool semver_identifiers(std::string_view s, bool prerelease) {
  size_t i = 0;
  while (true) {
    size_t dot = s.find('.', i);
    std::string_view id =
        s.substr(i, dot == std::string_view::npos ? std::string_view::npos : dot - i);
    if (id.empty()) return false;
    bool numeric = true;
    for (char c : id) {
      bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      if (!alnum && c != '-') return false;
      if (c < '0' || c > '9') numeric = false;
    }
    if (prerelease && numeric && !semver_number(id)) return false;
    if (dot == std::string_view::npos) return true;
    i = dot + 1;
  }
}

// config.md: ociVersion "MUST be in SemVer v2.0.0 format". Any 1.x is
// accepted, as runc accepts any version: minor versions of the spec only add
// fields, and unknown fields are ignored. Another major version is a format
// berth cannot know.
Status check_oci_version(const Reader& r, const std::string& v) {
  constexpr std::string_view kSupported = "berth supports 1.0.0 to 1.2.x and accepts any 1.x";
  std::string_view core = v;
  size_t plus = core.find('+');
  bool ok = true;
  if (plus != std::string_view::npos) {
    ok = semver_identifiers(core.substr(plus + 1), false);
    core = core.substr(0, plus);
  }
  size_t dash = core.find('-');
  if (ok && dash != std::string_view::npos) {
    ok = semver_identifiers(core.substr(dash + 1), true);
    core = core.substr(0, dash);
  }
  std::string_view parts[3];
  for (int i = 0; ok && i < 3; ++i) {
    size_t dot = core.find('.');
    if ((i < 2) != (dot != std::string_view::npos)) ok = false;
    parts[i] = core.substr(0, dot);
    ok = ok && semver_number(parts[i]);
    if (dot != std::string_view::npos) core = core.substr(dot + 1);
  }
  if (!ok)
    return r.error("ociVersion",
                   quote(v) + " is not a SemVer 2.0 version (" + std::string(kSupported) + ")");
  if (parts[0] != "1")
    return r.error("ociVersion",
                   "version " + quote(v) + " is not supported (" + std::string(kSupported) + ")");
  return {};
}

Result<Root> parse_root(const Reader& r, const Value& v, const std::string& path) {
  Obj o = BERTH_VALUE(r.object(v, path));
  Root root;
  BERTH_TRY(r.required(o, "path", root.path));
  if (root.path.empty()) return r.error(o.at("path"), "must not be empty");
  BERTH_TRY(r.optional(o, "readonly", root.readonly));
  return root;
}

Result<Mount> parse_mount(const Reader& r, const Value& v, const std::string& path) {
  Obj o = BERTH_VALUE(r.object(v, path));
  Mount m;
  std::string dest;
  BERTH_TRY(r.required(o, "destination", dest));
  // runtime-spec 1.2 still tolerates relative destinations ("interpreted
  // relative to /", deprecated); berth does not, so that what gets mounted
  // is never a matter of interpretation.
  if (dest.empty() || dest[0] != '/')
    return r.error(o.at("destination"),
                   "must be absolute, got " + quote(dest) +
                       " (relative destinations are deprecated and not supported)");
  std::optional<std::string> clean = clean_absolute(dest);
  if (!clean) return r.error(o.at("destination"), "\"..\" climbs above \"/\" in " + quote(dest));
  m.destination = std::move(*clean);
  BERTH_TRY(r.optional(o, "type", m.type));
  BERTH_TRY(r.optional(o, "source", m.source));
  BERTH_TRY(r.optional(o, "options", m.options));
  BERTH_TRY(parse_id_mappings(r, o, "uidMappings", m.uid_mappings));
  BERTH_TRY(parse_id_mappings(r, o, "gidMappings", m.gid_mappings));
  // "If specified, it MUST be specified along with gidMappings" (and back).
  if (m.uid_mappings.empty() != m.gid_mappings.empty())
    return r.error(o.at(m.uid_mappings.empty() ? "uidMappings" : "gidMappings"),
                   "required when " +
                       std::string(m.uid_mappings.empty() ? "gidMappings" : "uidMappings") +
                       " is set");
  return m;
}

Status parse_hook_list(const Reader& r, const Obj& hooks, std::string_view key,
                       std::vector<Hook>& out) {
  const Value* v = hooks.get(key);
  if (!v) return {};
  std::string path = hooks.at(key);
  BERTH_TRY(r.array(*v, path));
  for (size_t i = 0; i < v->items().size(); ++i) {
    Obj o = BERTH_VALUE(r.object(v->items()[i], index(path, i)));
    Hook h;
    BERTH_TRY(r.required(o, "path", h.path));
    if (h.path.empty() || h.path[0] != '/')
      return r.error(o.at("path"), "must be an absolute path, got " + quote(h.path));
    BERTH_TRY(r.optional(o, "args", h.args));
    BERTH_TRY(r.optional(o, "env", h.env));
    std::optional<int32_t> timeout;
    BERTH_TRY(r.optional(o, "timeout", timeout));
    if (timeout && *timeout <= 0)
      return r.error(o.at("timeout"), "must be greater than zero, got " + std::to_string(*timeout));
    h.timeout = timeout;
    out.push_back(std::move(h));
  }
  return {};
}

Status parse_hooks(const Reader& r, const Value& v, const std::string& path, Hooks& hooks) {
  Obj o = BERTH_VALUE(r.object(v, path));
  BERTH_TRY(parse_hook_list(r, o, "prestart", hooks.prestart));
  BERTH_TRY(parse_hook_list(r, o, "createRuntime", hooks.create_runtime));
  BERTH_TRY(parse_hook_list(r, o, "createContainer", hooks.create_container));
  BERTH_TRY(parse_hook_list(r, o, "startContainer", hooks.start_container));
  BERTH_TRY(parse_hook_list(r, o, "poststart", hooks.poststart));
  BERTH_TRY(parse_hook_list(r, o, "poststop", hooks.poststop));
  return {};
}

// Rules that span sections, checked once everything parsed.
Status check_cross_fields(const Reader& r, const Spec& spec) {
  const Namespace* user = spec.find_namespace(NamespaceType::kUser);
  if (spec.linux_) {
    const Linux& l = *spec.linux_;
    if (!user) {
      if (!l.uid_mappings.empty())
        return r.error("linux.uidMappings", "set, but linux.namespaces has no user namespace");
      if (!l.gid_mappings.empty())
        return r.error("linux.gidMappings", "set, but linux.namespaces has no user namespace");
    } else if (user->path.empty()) {
      // A new user namespace without maps leaves every id unmapped (65534)
      // and the setuid/setgid that follow fail with EINVAL; runc refuses
      // this too. Joining one by path needs no maps.
      if (l.uid_mappings.empty())
        return r.error("linux.uidMappings", "required when creating a new user namespace");
      if (l.gid_mappings.empty())
        return r.error("linux.gidMappings", "required when creating a new user namespace");
    }
    if (!l.time_offsets.empty()) {
      // Offsets apply only to a time namespace this container creates: the
      // kernel takes them before the first process enters it.
      const Namespace* time = spec.find_namespace(NamespaceType::kTime);
      if (!time)
        return r.error("linux.timeOffsets", "set, but linux.namespaces has no time namespace");
      if (!time->path.empty())
        return r.error("linux.timeOffsets", "cannot be set when joining a time namespace by path");
    }
  }
  // sethostname(2) outside a private UTS namespace would rename the host.
  if (!spec.has_namespace(NamespaceType::kUts)) {
    if (!spec.hostname.empty())
      return r.error("hostname", "requires a uts namespace in linux.namespaces");
    if (!spec.domainname.empty())
      return r.error("domainname", "requires a uts namespace in linux.namespaces");
  }
  return {};
}

}  // namespace
}  // namespace internal

Result<Spec> parse_spec(std::string_view json_text, std::string_view source) {
  using namespace internal;
  json::Value doc = BERTH_VALUE(json::parse(json_text, source, 64, kMaxConfigSize));
  Reader r(source);
  Obj top = BERTH_VALUE(r.object(doc, ""));
  Spec spec;

  BERTH_TRY(r.required(top, "ociVersion", spec.oci_version));
  if (spec.oci_version.empty()) return r.error("ociVersion", "must not be empty");
  BERTH_TRY(check_oci_version(r, spec.oci_version));
  if (const Value* root = top.get("root")) spec.root = BERTH_VALUE(parse_root(r, *root, "root"));
  if (const Value* mounts = top.get("mounts")) {
    BERTH_TRY(r.array(*mounts, "mounts"));
    for (size_t i = 0; i < mounts->items().size(); ++i)
      spec.mounts.push_back(BERTH_VALUE(parse_mount(r, mounts->items()[i], index("mounts", i))));
  }
  if (const Value* process = top.get("process"))
    spec.process = BERTH_VALUE(parse_process_object(r, *process, "process"));
  BERTH_TRY(r.optional(top, "hostname", spec.hostname));
  BERTH_TRY(r.optional(top, "domainname", spec.domainname));
  if (const Value* hooks = top.get("hooks")) BERTH_TRY(parse_hooks(r, *hooks, "hooks", spec.hooks));
  BERTH_TRY(r.optional(top, "annotations", spec.annotations));
  if (const Value* l = top.get("linux"))
    spec.linux_ = BERTH_VALUE(parse_linux_object(r, *l, "linux"));
  BERTH_TRY(check_cross_fields(r, spec));
  return spec;
}

}  // namespace berth::spec
