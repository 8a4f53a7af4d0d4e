// images / image ls, tag, rmi / image rm, image inspect, history, image prune.
#include "images.h"

#include <algorithm>
#include <array>
#include <ctime>

#include "berth/core/reference.h"
#include "berth/v1/images.grpc.pb.h"
#include "cli.h"
#include "render/human.h"
#include "render/listing.h"

namespace berth::ctl {

namespace {

constexpr const char* kNone = "<none>";

// The repository as docker prints it (busybox, user/app, localhost:5000/app).
std::string familiar_repo(const core::Reference& ref) { return ref.familiar_name(); }

std::string familiar_ref(const std::string& text) {
  auto ref = core::parse_reference(text, false);
  return ref ? ref->familiar() : text;
}

int64_t now_seconds() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace

const char* images_table(bool digests) {
  return digests
             ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
             : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
}

json::Value images_headers() {
  return headers({{"Repository", "REPOSITORY"},
                  {"Tag", "TAG"},
                  {"Digest", "DIGEST"},
                  {"ID", "IMAGE ID"},
                  {"CreatedSince", "CREATED"},
                  {"CreatedAt", "CREATED AT"},
                  {"Size", "SIZE"},
                  {"VirtualSize", "VIRTUAL SIZE"},
                  {"SharedSize", "SHARED SIZE"},
                  {"UniqueSize", "UNIQUE SIZE"},
                  {"Containers", "CONTAINERS"}});
}

std::vector<json::Value> image_rows(const v1::ListImagesResponse& list,
                                    const ImageListOptions& opts, int64_t now) {
  std::vector<json::Value> rows;
  for (const auto& image : list.images()) {
    // Repositories in the order their first tag or digest appears (docker
    // walks a Go map here, so its order is not defined; ours is stable).
    std::vector<std::pair<std::string, std::vector<std::string>>> tags, digests;
    auto slot = [](auto& v, const std::string& repo) -> std::vector<std::string>& {
      for (auto& [r, items] : v)
        if (r == repo) return items;
      return v.emplace_back(repo, std::vector<std::string>{}).second;
    };
    for (const auto& t : image.repo_tags()) {
      auto ref = core::parse_reference(t, false);
      if (ref && !ref->tag.empty()) slot(tags, familiar_repo(*ref)).push_back(ref->tag);
    }
    for (const auto& d : image.repo_digests()) {
      auto ref = core::parse_reference(d, false);
      if (ref && !ref->digest.empty()) slot(digests, familiar_repo(*ref)).push_back(ref->digest);
    }
    std::vector<std::array<std::string, 3>> cells;  // repository, tag, digest
    for (auto& [repo, repo_tags] : tags) {
      std::vector<std::string> ds;
      auto it =
          std::find_if(digests.begin(), digests.end(), [&](auto& e) { return e.first == repo; });
      if (it != digests.end()) {
        ds = it->second;
        digests.erase(it);  // a digest of a tagged repository is no row of its own
      }
      if (!opts.digests) ds.clear();
      for (const auto& tag : repo_tags) {
        if (ds.empty()) cells.push_back({repo, tag, kNone});
        for (const auto& d : ds) cells.push_back({repo, tag, d});
      }
    }
    for (auto& [repo, ds] : digests) {
      if (opts.digests) {
        for (const auto& d : ds) cells.push_back({repo, kNone, d});
      } else {
        cells.push_back({repo, kNone, ""});
      }
    }
    if (image.repo_tags().empty() && image.repo_digests().empty())
      cells.push_back({kNone, kNone, kNone});

    const std::string size = human_size(static_cast<double>(image.size()), 3);
    const std::string id = opts.no_trunc ? image.id() : truncate_id(image.id());
    const std::string containers =
        image.containers() < 0 ? "N/A" : std::to_string(image.containers());
    for (auto& [repo, tag, digest] : cells) {
      // Keys sorted, as docker's {{json .}} writes them.
      rows.push_back(jobj({{"Containers", jstr(containers)},
                           {"CreatedAt", jstr(created_at(image.created()))},
                           {"CreatedSince", jstr(created_since(image.created(), now))},
                           {"Digest", jstr(digest)},
                           {"ID", jstr(id)},
                           {"Repository", jstr(repo)},
                           {"SharedSize", jstr("N/A")},
                           {"Size", jstr(size)},
                           {"Tag", jstr(tag)},
                           {"UniqueSize", jstr("N/A")},
                           {"VirtualSize", jstr(size)}}));
    }
  }
  return rows;
}

json::Value history_headers() {
  return headers({{"ID", "IMAGE"},
                  {"CreatedSince", "CREATED"},
                  {"CreatedAt", "CREATED AT"},
                  {"CreatedBy", "CREATED BY"},
                  {"Size", "SIZE"},
                  {"Comment", "COMMENT"}});
}

std::vector<json::Value> history_rows(const v1::HistoryResponse& history,
                                      const HistoryOptions& opts, int64_t now) {
  std::vector<json::Value> rows;
  for (const auto& item : history.items()) {
    std::string id = item.id();
    if (!opts.no_trunc && id != "<missing>") id = truncate_id(id);
    std::string created_by = item.created_by();
    std::replace(created_by.begin(), created_by.end(), '\t', ' ');
    if (!opts.no_trunc) created_by = ellipsis(created_by, 45);
    std::string since = opts.human ? created_since(item.created(), now) : rfc3339(item.created());
    std::string size =
        opts.human ? human_size(static_cast<double>(item.size()), 3) : std::to_string(item.size());
    rows.push_back(jobj({{"Comment", jstr(item.comment())},
                         {"CreatedAt", jstr(rfc3339(item.created()))},
                         {"CreatedBy", jstr(created_by)},
                         {"CreatedSince", jstr(since)},
                         {"ID", jstr(id)},
                         {"Size", jstr(size)}}));
  }
  return rows;
}

namespace {

struct ListFlags {
  bool all = false, quiet = false, digests = false, no_trunc = false;
  std::vector<std::string> filters;
  std::string format;
  std::vector<std::string> args;
};

void add_list(Cli& cli, CLI::App* parent, const std::string& name) {
  auto f = std::make_shared<ListFlags>();
  CLI::App* cmd = cli.command(parent, name, "[OPTIONS] [REPOSITORY[:TAG]]", "List images");
  if (name == "ls") cmd->alias("list");
  cmd->add_flag("-a,--all", f->all, "Show all images (default hides intermediate images)");
  cmd->add_flag("--digests", f->digests, "Show digests");
  cmd->add_option("-f,--filter", f->filters, "Filter output based on conditions provided")
      ->allow_extra_args(false)
      ->type_name("filter");
  cmd->add_option("--format", f->format, "Format output using a custom template")
      ->type_name("string");
  cmd->add_flag("--no-trunc", f->no_trunc, "Don't truncate output");
  cmd->add_flag("-q,--quiet", f->quiet, "Only show image IDs");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.arity(cmd, f->args.size(), 0, 1));
    auto filters = BERTH_VALUE(parse_filters(f->filters));
    v1::ListImagesRequest req;
    req.set_all(f->all);
    if (!f->args.empty()) filters.emplace_back("reference", f->args[0]);
    add_filters(req, filters);
    auto& client = cli.client();
    auto stub = v1::Images::NewStub(client.channel());
    v1::ListImagesResponse resp;
    grpc::Status st = stub->List(client.context().get(), req, &resp);
    if (!st.ok()) return client.error(st);
    auto rows = image_rows(resp, {f->digests, f->no_trunc}, now_seconds());
    std::string format = f->quiet ? "{{.ID}}" : f->format;
    out(BERTH_VALUE(render_list(format, images_table(f->digests), rows, images_headers())));
    return {};
  });
}

void add_tag(Cli& cli, CLI::App* parent) {
  auto args = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = cli.command(parent, "tag", "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
                              "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE");
  cmd->add_option("args", *args);
  cli.on_run(cmd, [&cli, cmd, args]() -> Status {
    BERTH_TRY(cli.exact(cmd, args->size(), 2));
    v1::TagRequest req;
    req.set_source((*args)[0]);
    req.set_target((*args)[1]);
    auto& client = cli.client();
    v1::TagResponse resp;
    grpc::Status st =
        v1::Images::NewStub(client.channel())->Tag(client.context().get(), req, &resp);
    if (!st.ok()) return client.error(st);
    return {};
  });
}

struct RemoveFlags {
  bool force = false, no_prune = false;
  std::vector<std::string> args;
};

void add_remove(Cli& cli, CLI::App* parent, const std::string& name) {
  auto f = std::make_shared<RemoveFlags>();
  CLI::App* cmd =
      cli.command(parent, name, "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images");
  if (name == "rm") cmd->alias("remove");
  cmd->add_flag("-f,--force", f->force, "Force removal of the image");
  cmd->add_flag("--no-prune", f->no_prune, "Do not delete untagged parents");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.arity(cmd, f->args.size(), 1, SIZE_MAX));
    auto& client = cli.client();
    auto stub = v1::Images::NewStub(client.channel());
    // Like docker: every image is tried, the failures are reported together.
    std::string errors;
    for (const auto& ref : f->args) {
      v1::RemoveImageRequest req;
      req.set_ref(ref);
      req.set_force(f->force);
      req.set_no_prune(f->no_prune);
      v1::RemoveImageResponse resp;
      grpc::Status st = stub->Remove(client.context().get(), req, &resp);
      if (!st.ok()) {
        Error e = client.error(st);
        if (e.code() == EHOSTUNREACH) return e;
        errors += (errors.empty() ? "" : "\n") + e.message();
        continue;
      }
      for (const auto& u : resp.untagged()) out("Untagged: " + familiar_ref(u) + "\n");
      for (const auto& d : resp.deleted()) out("Deleted: " + d + "\n");
    }
    if (!errors.empty()) return make_error(errors);
    return {};
  });
}

struct InspectFlags {
  std::string format;
  std::vector<std::string> args;
};

void add_inspect(Cli& cli, CLI::App* parent) {
  auto f = std::make_shared<InspectFlags>();
  CLI::App* cmd = cli.command(parent, "inspect", "[OPTIONS] IMAGE [IMAGE...]",
                              "Display detailed information on one or more images");
  cmd->add_option("-f,--format", f->format, "Format output using a custom template")
      ->type_name("string");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.arity(cmd, f->args.size(), 1, SIZE_MAX));
    auto& client = cli.client();
    auto stub = v1::Images::NewStub(client.channel());
    std::vector<json::Value> found;
    std::string errors;
    for (const auto& ref : f->args) {
      v1::InspectImageRequest req;
      req.set_ref(ref);
      v1::InspectImageResponse resp;
      grpc::Status st = stub->Inspect(client.context().get(), req, &resp);
      if (!st.ok()) {
        // docker's inspect reports a missing object as "Error: No such
        // image: x" after printing what it found.
        if (st.error_code() != grpc::StatusCode::NOT_FOUND) return client.error(st);
        errors += (errors.empty() ? "" : "\n") + ("Error: " + st.error_message());
        continue;
      }
      auto value = json::parse(resp.json(), "image inspect");
      if (!value) return client_error(value.error().message());
      found.push_back(std::move(*value));
    }
    if (f->format.empty()) {
      out(pretty_json_array(found));
    } else {
      for (const auto& v : found) out(BERTH_VALUE(render_one(f->format, v)));
    }
    if (!errors.empty()) return make_error(errors);
    return {};
  });
}

struct HistoryFlags {
  bool human = true, no_trunc = false, quiet = false;
  std::string format;
  std::vector<std::string> args;
};

void add_history(Cli& cli, CLI::App* parent) {
  auto f = std::make_shared<HistoryFlags>();
  CLI::App* cmd = cli.command(parent, "history", "[OPTIONS] IMAGE", "Show the history of an image");
  cmd->add_option("--format", f->format, "Format output using a custom template")
      ->type_name("string");
  cmd->add_flag("-H,--human", f->human,
                "Print sizes and dates in human readable format (default true)");
  cmd->add_flag("--no-trunc", f->no_trunc, "Don't truncate output");
  cmd->add_flag("-q,--quiet", f->quiet, "Only show image IDs");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.exact(cmd, f->args.size(), 1));
    v1::HistoryRequest req;
    req.set_ref(f->args[0]);
    auto& client = cli.client();
    v1::HistoryResponse resp;
    grpc::Status st =
        v1::Images::NewStub(client.channel())->History(client.context().get(), req, &resp);
    if (!st.ok()) return client.error(st);
    auto rows = history_rows(resp, {f->no_trunc, f->human}, now_seconds());
    std::string format = f->quiet ? "{{.ID}}" : f->format;
    out(BERTH_VALUE(render_list(format, kHistoryTable, rows, history_headers())));
    return {};
  });
}

struct PruneFlags {
  bool all = false, force = false;
  std::vector<std::string> filters;
  std::vector<std::string> args;
};

void add_prune(Cli& cli, CLI::App* parent) {
  auto f = std::make_shared<PruneFlags>();
  CLI::App* cmd = cli.command(parent, "prune", "[OPTIONS]", "Remove unused images");
  cmd->add_flag("-a,--all", f->all, "Remove all unused images, not just dangling ones");
  cmd->add_option("--filter", f->filters, "Provide filter values (e.g. \"until=<timestamp>\")")
      ->allow_extra_args(false)
      ->type_name("filter");
  cmd->add_flag("-f,--force", f->force, "Do not prompt for confirmation");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.arity(cmd, f->args.size(), 0, 0));
    auto filters = BERTH_VALUE(parse_filters(f->filters));
    const char* warning =
        f->all ? "WARNING! This will remove all images without at least one container "
                 "associated to them.\nAre you sure you want to continue?"
               : "WARNING! This will remove all dangling images.\nAre you sure you "
                 "want to continue?";
    if (!f->force && !BERTH_VALUE(confirm(warning))) {
      out("Total reclaimed space: 0B\n");
      return {};
    }
    v1::PruneImagesRequest req;
    req.set_all(f->all);
    add_filters(req, filters);
    auto& client = cli.client();
    v1::PruneReport report;
    grpc::Status st =
        v1::Images::NewStub(client.channel())->Prune(client.context().get(), req, &report);
    if (!st.ok()) return client.error(st);
    out(prune_report_text(report));
    return {};
  });
}

}  // namespace

void add_image_commands(Cli& cli) {
  CLI::App* root = &cli.root();
  CLI::App* image = cli.image_group();
  add_list(cli, root, "images");
  add_list(cli, image, "ls");
  add_tag(cli, root);
  add_tag(cli, image);
  add_remove(cli, root, "rmi");
  add_remove(cli, image, "rm");
  add_inspect(cli, image);
  add_history(cli, root);
  add_history(cli, image);
  add_prune(cli, image);
}

std::string prune_report_text(const v1::PruneReport& report, std::string_view kind) {
  std::string text;
  if (report.deleted_size() > 0) {
    text = "Deleted " + std::string(kind) + ":\n";
    for (const auto& line : report.deleted()) text += line + "\n";
    text += "\n";
  }
  return text +
         "Total reclaimed space: " + human_size(static_cast<double>(report.space_reclaimed())) +
         "\n";
}

}  // namespace berth::ctl
