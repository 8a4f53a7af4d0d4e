// import: a root filesystem tar (any compression) becomes a one-layer
// image, with docker's `-c` Dockerfile changes and `-m` message.

#include <fcntl.h>
#include <unistd.h>

#include <ctime>

#include "berth/base/clock.h"
#include "berth/base/scope_guard.h"
#include "berth/base/sys.h"
#include "berth/core/digest.h"
#include "berth/core/errdefs.h"
#include "berth/core/reference.h"
#include "berth/diff/apply.h"
#include "berth/json/json.h"
#include "internal.h"

namespace berth::images {
namespace {

std::string trim(std::string_view s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string_view::npos ? std::string() : std::string(s.substr(a, b - a + 1));
}

// CMD/ENTRYPOINT/SHELL argument: JSON array form, else shell form.
Result<json::Value> command_value(const std::string& arg) {
  if (!arg.empty() && arg[0] == '[') {
    auto v = json::parse(arg, "change");
    if (v && v->is_array()) return std::move(*v);
  }
  return json::Value::array(
      {json::Value::string("/bin/sh"), json::Value::string("-c"), json::Value::string(arg)});
}

struct Changes {
  std::vector<std::pair<std::string, json::Value>> config;  // key → value (last wins)
  std::vector<std::string> env;
  std::vector<std::pair<std::string, json::Value>> labels, ports, volumes;
};

Status apply_change(const std::string& change, Changes& c) {
  auto sp = change.find_first_of(" \t");
  std::string verb = change.substr(0, sp),
              arg = sp == std::string::npos ? "" : trim(change.substr(sp));
  for (auto& ch : verb) ch = static_cast<char>(toupper(ch));
  auto set = [&](const std::string& key, json::Value v) {
    for (auto& kv : c.config)
      if (kv.first == key) {
        kv.second = std::move(v);
        return;
      }
    c.config.emplace_back(key, std::move(v));
  };
  if (verb == "CMD" || verb == "ENTRYPOINT" || verb == "SHELL") {
    set(verb == "CMD"     ? "Cmd"
        : verb == "SHELL" ? "Shell"
                          : "Entrypoint",
        BERTH_VALUE(command_value(arg)));
  } else if (verb == "ENV") {
    auto eq = arg.find('=');
    auto ws = arg.find_first_of(" \t");
    if (eq != std::string::npos && (ws == std::string::npos || eq < ws))
      c.env.push_back(arg);
    else if (ws != std::string::npos)
      c.env.push_back(arg.substr(0, ws) + "=" + trim(arg.substr(ws)));
    else
      return core::invalid_argument("ENV names can not be blank: " + change);
  } else if (verb == "WORKDIR") {
    set("WorkingDir", json::Value::string(arg));
  } else if (verb == "USER") {
    set("User", json::Value::string(arg));
  } else if (verb == "STOPSIGNAL") {
    set("StopSignal", json::Value::string(arg));
  } else if (verb == "LABEL") {
    auto eq = arg.find('=');
    if (eq == std::string::npos)
      return core::invalid_argument("LABEL must have the form key=value: " + change);
    std::string v = arg.substr(eq + 1);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    c.labels.emplace_back(arg.substr(0, eq), json::Value::string(v));
  } else if (verb == "EXPOSE") {
    std::string p = arg.find('/') == std::string::npos ? arg + "/tcp" : arg;
    c.ports.emplace_back(p, json::Value::object({}));
  } else if (verb == "VOLUME") {
    c.volumes.emplace_back(arg, json::Value::object({}));
  } else {
    return core::invalid_argument(verb + " is not a valid change command");
  }
  return ok_status();
}

}  // namespace

Result<std::string> ImageService::import(std::string_view ns, const ImportRequest& request,
                                         const ChunkReader& in) {
  return import_from(ns, request, [&](const ChunkWriter& out) -> Status {
    for (;;) {
      auto chunk = BERTH_VALUE(in());
      if (chunk.empty()) return ok_status();
      BERTH_TRY(out(chunk));
    }
  });
}

Result<std::string> ImageService::import_from(std::string_view ns, const ImportRequest& request,
                                              const Producer& produce) {
  std::optional<core::Reference> ref;
  if (!request.ref.empty()) {
    auto r = core::parse_reference(request.ref);
    if (!r) return core::invalid_argument(r.error().message());
    if (!r->digest.empty())
      return core::invalid_argument("import: a reference with a digest cannot be a tag");
    ref = *r;
  }
  Changes changes;
  for (const auto& c : request.changes) BERTH_TRY(apply_change(trim(c), changes));
  core::Platform platform = options_.platform;
  if (!request.platform.empty()) platform = BERTH_VALUE(core::parse_platform(request.platform));

  std::shared_lock gc(gc_mu_);
  auto lease = BERTH_VALUE(new_lease(ns, "import"));
  ScopeGuard drop([&] { drop_lease(ns, lease); });
  // 1. The input as it came, as a blob.
  core::Digester digester;
  auto writer = BERTH_VALUE(stores_.content.writer("import-" + random_hex(8), 0, {}));
  ScopeGuard abort_writer([&] { writer->abort(); });
  BERTH_TRY(produce([&](std::string_view chunk) -> Status {
    digester.update(chunk);
    return writer->write(chunk);
  }));
  if (digester.size() == 0) return core::invalid_argument("import: the input is empty");
  core::Descriptor layer;
  layer.digest = digester.digest();
  layer.size = static_cast<int64_t>(digester.size());
  BERTH_TRY(writer->commit(layer.size, layer.digest));
  abort_writer.dismiss();
  (void)stores_.leases.add_resource(ns, lease, {"content", layer.digest});
  layer.media_type = BERTH_VALUE(sniff_layer_media_type(stores_.content, layer.digest));
  auto fd = BERTH_VALUE(stores_.content.open_blob(layer.digest));
  // 2. Unpacked into a snapshot; its diffID names it.
  std::string key = "extract-" + random_hex(6) + "-import";
  BERTH_TRY(stores_.snapshotter.prepare(key, ""));
  ScopeGuard remove_snapshot([&] { (void)stores_.snapshotter.remove(key); });
  auto dirs = BERTH_VALUE(stores_.snapshotter.layer_dirs(key));
  auto root = BERTH_VALUE(sys::open(dirs.upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  diff::ApplyOptions opts;
  opts.whiteouts = dirs.whiteouts == core::WhiteoutStyle::kOverlay ? diff::WhiteoutMode::kOverlay
                                                                   : diff::WhiteoutMode::kNative;
  opts.label = "import";
  auto applied = BERTH_VALUE(diff::apply_layer(root, diff::fd_source(fd.get()), opts));
  auto existing = stores_.snapshotter.stat(applied.diff_id);
  // The same tree imported before: keep that snapshot, drop this one.
  if (!existing) {
    BERTH_TRY(stores_.snapshotter.commit(applied.diff_id, key));
    remove_snapshot.dismiss();
  }
  // 3. Config and manifest.
  std::string created = rfc3339_utc_now();
  json::Writer cfg;
  cfg.begin_object()
      .key("architecture")
      .string(platform.architecture)
      .key("os")
      .string(platform.os);
  if (!platform.variant.empty()) cfg.key("variant").string(platform.variant);
  cfg.key("created").string(created);
  cfg.key("config").begin_object();
  if (!changes.env.empty()) {
    cfg.key("Env").begin_array();
    for (const auto& e : changes.env) cfg.string(e);
    cfg.end_array();
  }
  for (const auto& [k, v] : changes.config) cfg.key(k).value(v);
  if (!changes.labels.empty()) cfg.key("Labels").value(json::Value::object(changes.labels));
  if (!changes.ports.empty()) cfg.key("ExposedPorts").value(json::Value::object(changes.ports));
  if (!changes.volumes.empty()) cfg.key("Volumes").value(json::Value::object(changes.volumes));
  cfg.end_object();
  cfg.key("rootfs")
      .begin_object()
      .key("type")
      .string("layers")
      .key("diff_ids")
      .begin_array()
      .string(applied.diff_id);
  cfg.end_array().end_object();
  cfg.key("history")
      .begin_array()
      .begin_object()
      .key("created")
      .string(created)
      .key("created_by")
      .string("");
  if (!request.message.empty()) cfg.key("comment").string(request.message);
  cfg.end_object().end_array().end_object();
  if (!cfg.ok()) return make_error("import: could not encode the config");
  auto config = BERTH_VALUE(store_blob(stores_.content, core::media::kOciConfig, cfg.str()));
  json::Writer m;
  m.begin_object()
      .key("schemaVersion")
      .integer(2)
      .key("mediaType")
      .string(core::media::kOciManifest);
  m.key("config")
      .begin_object()
      .key("mediaType")
      .string(config.media_type)
      .key("digest")
      .string(config.digest);
  m.key("size").integer(config.size).end_object();
  m.key("layers").begin_array().begin_object().key("mediaType").string(layer.media_type);
  m.key("digest")
      .string(layer.digest)
      .key("size")
      .integer(layer.size)
      .end_object()
      .end_array()
      .end_object();
  auto manifest = BERTH_VALUE(store_blob(stores_.content, core::media::kOciManifest, m.str()));
  core::Image record;
  record.name = ref ? ref->str() : std::string(kDanglingPrefix) + manifest.digest;
  record.target = manifest;
  auto usage = stores_.snapshotter.usage(applied.diff_id);
  record.labels[std::string(kLabelUnpackedSize)] =
      std::to_string(usage ? usage->size : int64_t(applied.tar_size));
  record.created_at = record.updated_at = now_seconds();
  BERTH_TRY(put_record(ns, record));
  return config.digest;
}

}  // namespace berth::images
