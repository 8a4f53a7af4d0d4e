// save / image save, load / image load, import / image import: image
// archives streamed between berthctl's files (or stdio) and berthd.
#include <fcntl.h>
#include <unistd.h>

#include <random>
#include <thread>

#include "berth/base/scope_guard.h"
#include "berth/base/sys/files.h"
#include "berth/base/sys/io.h"
#include "berth/v1/images.grpc.pb.h"
#include "cli.h"
#include "progress_stream.h"
#include "terminal.h"

namespace berth::ctl {

namespace {

constexpr size_t kChunk = 1 << 20;

struct SaveFlags {
  std::string output;
  std::vector<std::string> args;
};

// -o FILE is written under a temporary name beside it and renamed at the
// end, as docker does: a failed save never leaves a truncated archive
// where a good one was.
Status save_to(Client& client, const v1::SaveRequest& req, const std::string& output) {
  std::string tmp;
  UniqueFd fd;
  if (output.empty()) {
    fd = BERTH_VALUE(sys::dup_cloexec(BorrowedFd(STDOUT_FILENO), "stdout"));
  } else {
    auto slash = output.rfind('/');
    std::string dir = slash == std::string::npos ? "." : output.substr(0, slash + 1);
    tmp = dir + "/.berthctl_temp_" + std::to_string(std::random_device{}());
    auto opened = sys::open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (!opened) return client_error(opened.error().to_string());
    fd = std::move(*opened);
  }
  ScopeGuard remove_tmp([&] {
    if (!tmp.empty()) sys::unlink_quiet(tmp);
  });
  auto ctx = client.context();
  auto reader = v1::Images::NewStub(client.channel())->Save(ctx.get(), req);
  v1::DataChunk chunk;
  Status written;
  while (reader->Read(&chunk)) {
    written =
        sys::write_all(BorrowedFd(fd.get()), chunk.data(), output.empty() ? "stdout" : output);
    if (!written) {
      ctx->TryCancel();
      break;
    }
  }
  grpc::Status st = reader->Finish();
  if (!written) return client_error(written.error().to_string());
  if (!st.ok()) return client.error(st);
  if (!tmp.empty()) {
    if (sys::renameat(AT_FDCWD, tmp.c_str(), AT_FDCWD, output.c_str()) != 0) {
      return client_error(sys_error("rename", output).to_string());
    }
    remove_tmp.dismiss();
  }
  return {};
}

void add_save(Cli& cli, CLI::App* parent) {
  auto f = std::make_shared<SaveFlags>();
  CLI::App* cmd =
      cli.command(parent, "save", "[OPTIONS] IMAGE [IMAGE...]",
                  "Save one or more images to a tar archive (streamed to STDOUT by default)");
  cmd->add_option("-o,--output", f->output, "Write to a file, instead of STDOUT")
      ->type_name("string");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.arity(cmd, f->args.size(), 1, SIZE_MAX));
    if (f->output.empty() && is_terminal(STDOUT_FILENO)) {
      return client_error("cowardly refusing to save to a terminal. Use the -o flag or redirect");
    }
    v1::SaveRequest req;
    for (const auto& a : f->args) req.add_refs(a);
    return save_to(cli.client(), req, f->output);
  });
}

// Streams `fd` to the daemon as the data messages of `Request` after
// `first`, while this thread prints the daemon's progress: both directions
// run at once, so neither side can block the other on a full window.
template <class Request, class Stream>
Result<std::vector<std::string>> upload(Client& client, Stream& stream, Request first,
                                        BorrowedFd fd, const std::string& what, StreamOutput how) {
  Status read_status;
  std::thread writer([&] {
    bool ok = stream.Write(first);
    std::string buf(kChunk, '\0');
    while (ok) {
      auto r = sys::read_some(fd, buf.data(), buf.size());
      if (r.n < 0) {
        read_status = sys_error(r.err, "read", what);
        break;
      }
      if (r.n == 0) break;
      Request data;
      data.set_data(buf.data(), static_cast<size_t>(r.n));
      ok = stream.Write(data);
    }
    stream.WritesDone();
  });
  auto results = print_progress(client, stream, std::move(how));
  writer.join();
  if (!read_status) return client_error(read_status.error().to_string());
  return results;
}

struct LoadFlags {
  std::string input;
  bool quiet = false;
  std::vector<std::string> args;
};

Result<UniqueFd> open_input(const std::string& path) {
  if (path.empty() || path == "-") return sys::dup_cloexec(BorrowedFd(STDIN_FILENO), "stdin");
  auto fd = sys::open(path, O_RDONLY | O_CLOEXEC);
  if (!fd) return client_error(fd.error().to_string());
  return fd;
}

void add_load(Cli& cli, CLI::App* parent) {
  auto f = std::make_shared<LoadFlags>();
  CLI::App* cmd =
      cli.command(parent, "load", "[OPTIONS]", "Load an image from a tar archive or STDIN");
  cmd->add_option("-i,--input", f->input, "Read from tar archive file, instead of STDIN")
      ->type_name("string");
  cmd->add_flag("-q,--quiet", f->quiet, "Suppress the load output");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.arity(cmd, f->args.size(), 0, 0));
    if (f->input.empty() && is_terminal(STDIN_FILENO)) {
      return client_error("requested load from stdin, but stdin is empty");
    }
    UniqueFd fd = BERTH_VALUE(open_input(f->input));
    v1::LoadRequest first;
    first.set_quiet(f->quiet);
    auto& client = cli.client();
    auto ctx = client.context();
    auto stream = v1::Images::NewStub(client.channel())->Load(ctx.get());
    std::string what = f->input.empty() ? "stdin" : f->input;
    BERTH_TRY(upload(client, *stream, first, BorrowedFd(fd.get()), what,
                     {f->quiet, true, "Loaded image: ", true}));
    return {};
  });
}

struct ImportFlags {
  std::vector<std::string> changes;
  std::string message, platform;
  std::vector<std::string> args;
};

void add_import(Cli& cli, CLI::App* parent) {
  auto f = std::make_shared<ImportFlags>();
  CLI::App* cmd = cli.command(parent, "import", "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
                              "Import the contents from a tarball to create a filesystem image");
  cmd->add_option("-c,--change", f->changes, "Apply Dockerfile instruction to the created image")
      ->allow_extra_args(false)
      ->type_name("list");
  cmd->add_option("-m,--message", f->message, "Set commit message for imported image")
      ->type_name("string");
  cmd->add_option("--platform", f->platform, "Set platform if server is multi-platform capable")
      ->type_name("string");
  cmd->add_option("args", f->args);
  cli.on_run(cmd, [&cli, cmd, f]() -> Status {
    BERTH_TRY(cli.arity(cmd, f->args.size(), 1, 2));
    const std::string& source = f->args[0];
    v1::ImportRequest first;
    if (f->args.size() == 2) first.set_ref(f->args[1]);
    for (const auto& c : f->changes) first.add_changes(c);
    first.set_message(f->message);
    first.set_platform(f->platform);
    const bool url = source.starts_with("http://") || source.starts_with("https://");
    UniqueFd fd;
    if (url) {
      first.set_url(source);
    } else {
      fd = BERTH_VALUE(open_input(source));
    }
    auto& client = cli.client();
    auto ctx = client.context();
    auto stream = v1::Images::NewStub(client.channel())->Import(ctx.get());
    if (url) {
      // The daemon downloads: no data messages follow the options.
      stream->Write(first);
      stream->WritesDone();
      BERTH_TRY(print_progress(client, *stream, {false, false, "", true}));
      return {};
    }
    std::string what = source == "-" ? "stdin" : source;
    BERTH_TRY(upload(client, *stream, first, BorrowedFd(fd.get()), what, {false, false, "", true}));
    return {};
  });
}

}  // namespace

void add_archive_commands(Cli& cli) {
  CLI::App* root = &cli.root();
  add_save(cli, root);
  add_save(cli, cli.image_group());
  add_load(cli, root);
  add_load(cli, cli.image_group());
  add_import(cli, root);
  add_import(cli, cli.image_group());
}

}  // namespace berth::ctl
