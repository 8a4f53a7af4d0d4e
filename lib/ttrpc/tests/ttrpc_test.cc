// ttrpc framing, server and client: partial reads, out-of-order answers,
// oversized frames, unknown services, bad protobuf, stream id rules.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/sys.h"
#include "berth/base/sys.h"
#include "google/protobuf/empty.pb.h"
#include "berth/loop/loop.h"
#include "berth/ttrpc/client.h"
#include "berth/ttrpc/frame.h"
#include "berth/ttrpc/server.h"
#include "ttrpc/ttrpc.pb.h"

using namespace berth;
using namespace berth::ttrpc;
using namespace std::chrono_literals;

namespace {

std::string request_bytes(const std::string& service, const std::string& method,
                          const std::string& payload, const Metadata& md = {}) {
  ::ttrpc::Request r;
  r.set_service(service);
  r.set_method(method);
  r.set_payload(payload);
  for (const auto& [k, v] : md) {
    auto* kv = r.add_metadata();
    kv->set_key(k);
    kv->set_value(v);
  }
  return r.SerializeAsString();
}

struct Decoded {
  uint32_t stream_id;
  int32_t code;
  std::string message;
  std::string payload;
};

// A test peer speaking raw bytes to a server connection over a socketpair.
struct Harness {
  std::unique_ptr<loop::Loop> loop = std::move(loop::Loop::create().value());
  Server server{*loop};
  UniqueFd peer;
  FrameReader reader;

  Harness() {
    server.register_method("test.Echo", "Echo",
                           [](const IncomingRequest& req, Responder r) { r.reply(req.payload); });
    server.register_method("test.Echo", "Meta", [](const IncomingRequest& req, Responder r) {
      r.reply(req.meta("containerd-namespace-ttrpc"));
    });
    server.register_method("test.Echo", "Typed", [](const IncomingRequest& req, Responder r) {
      google::protobuf::Empty e;
      if (!e.ParseFromString(req.payload)) return r.fail(Code::kInvalidArgument, "bad payload");
      r.reply("");
    });
    auto pair = sys::socket_pair(SOCK_STREAM).value();
    REQUIRE(server.add_connection(std::move(pair.first)).ok());
    peer = std::move(pair.second);
  }

  void send_raw(std::string_view bytes) { REQUIRE(sys::write_all(peer, bytes, "peer").ok()); }
  void send_request(uint32_t sid, const std::string& bytes) {
    send_raw(encode_frame(sid, MessageType::kRequest, bytes));
  }

  // Runs the loop until `count` response frames arrived (or ~2 s passed).
  std::vector<Decoded> receive(size_t count) {
    std::vector<Decoded> out;
    REQUIRE(sys::set_nonblocking(peer, true).ok());
    for (int i = 0; i < 200 && out.size() < count; ++i) {
      (void)loop->run_once(10ms);
      char buf[65536];
      for (;;) {
        auto r = sys::read_some(peer, buf, sizeof buf);
        if (r.n <= 0) break;
        reader.feed(buf, static_cast<size_t>(r.n));
      }
      while (auto f = reader.next()) {
        ::ttrpc::Response resp;
        REQUIRE(resp.ParseFromString(f->payload));
        out.push_back({f->header.stream_id, resp.has_status() ? resp.status().code() : 0,
                       resp.status().message(), resp.payload()});
      }
    }
    return out;
  }
};

}  // namespace

TEST_CASE("frame header is big-endian length, stream id, type, flags") {
  std::string f = encode_frame(0x01020305, MessageType::kRequest, "abc");
  REQUIRE(f.size() == kHeaderSize + 3);
  const uint8_t want[] = {0, 0, 0, 3, 1, 2, 3, 5, 1, 0};
  CHECK(std::memcmp(f.data(), want, sizeof want) == 0);
  auto h = decode_header(reinterpret_cast<const uint8_t*>(f.data()));
  CHECK(h.length == 3);
  CHECK(h.stream_id == 0x01020305);
  CHECK(h.type == 1);
}

TEST_CASE("frame reader reassembles frames split at every byte") {
  std::string stream = encode_frame(1, MessageType::kRequest, "hello") +
                       encode_frame(3, MessageType::kRequest, "") +
                       encode_frame(5, MessageType::kRequest, std::string(70000, 'x'));
  FrameReader r;
  std::vector<FrameReader::Frame> frames;
  for (char c : stream) {
    r.feed(&c, 1);
    while (auto f = r.next()) frames.push_back(std::move(*f));
  }
  REQUIRE(frames.size() == 3);
  CHECK(frames[0].payload == "hello");
  CHECK(frames[1].header.stream_id == 3);
  CHECK(frames[1].payload.empty());
  CHECK(frames[2].payload.size() == 70000);
  CHECK(r.buffered() == 0);
}

TEST_CASE("frame reader skips an oversized payload and keeps the stream in sync") {
  FrameReader r;
  uint8_t h[kHeaderSize];
  encode_header(FrameHeader{kMaxMessage + 1, 7, 1, 0}, h);
  r.feed(reinterpret_cast<char*>(h), sizeof h);
  auto f = r.next();
  REQUIRE(f);
  CHECK(f->oversized);
  CHECK(f->header.stream_id == 7);
  // Feed the oversized payload in chunks, with the next frame glued on.
  std::string chunk(1 << 20, 'z');
  for (int i = 0; i < 4; ++i) {
    r.feed(chunk.data(), chunk.size());
    CHECK_FALSE(r.next());
  }
  std::string rest = "z" + encode_frame(9, MessageType::kRequest, "after");
  r.feed(rest.data(), rest.size());
  auto g = r.next();
  REQUIRE(g);
  CHECK_FALSE(g->oversized);
  CHECK(g->header.stream_id == 9);
  CHECK(g->payload == "after");
}

TEST_CASE("server answers a request delivered one byte at a time") {
  Harness h;
  std::string frame =
      encode_frame(1, MessageType::kRequest, request_bytes("test.Echo", "Echo", "ping"));
  for (char c : frame) {
    h.send_raw(std::string_view(&c, 1));
    (void)h.loop->run_once(0ms);
  }
  auto got = h.receive(1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].stream_id == 1);
  CHECK(got[0].code == 0);
  CHECK(got[0].payload == "ping");
}

TEST_CASE("server passes metadata to handlers") {
  Harness h;
  h.send_request(
      1, request_bytes("test.Echo", "Meta", "", {{"containerd-namespace-ttrpc", "k8s.io"}}));
  auto got = h.receive(1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].payload == "k8s.io");
}

TEST_CASE("unknown service or method is Unimplemented") {
  Harness h;
  h.send_request(1, request_bytes("test.Nope", "Echo", ""));
  h.send_request(3, request_bytes("test.Echo", "Nope", ""));
  auto got = h.receive(2);
  REQUIRE(got.size() == 2);
  CHECK(got[0].code == static_cast<int>(Code::kUnimplemented));
  CHECK(got[0].message.find("test.Nope") != std::string::npos);
  CHECK(got[1].code == static_cast<int>(Code::kUnimplemented));
  CHECK(got[1].message.find("Nope") != std::string::npos);
}

TEST_CASE("bad protobuf is InvalidArgument, and the connection keeps working") {
  Harness h;
  h.send_request(1, std::string("\xff\xff\xff", 3));  // truncated varint tag
  // A valid envelope whose payload is bad for the handler's message type.
  h.send_request(3, request_bytes("test.Echo", "Typed", std::string("\x0a\x05", 2)));
  h.send_request(5, request_bytes("test.Echo", "Echo", "still here"));
  auto got = h.receive(3);
  REQUIRE(got.size() == 3);
  CHECK(got[0].code == static_cast<int>(Code::kInvalidArgument));
  CHECK(got[0].message.find("unmarshal") != std::string::npos);
  CHECK(got[1].code == static_cast<int>(Code::kInvalidArgument));
  CHECK(got[2].code == 0);
  CHECK(got[2].payload == "still here");
}

TEST_CASE("oversized frame is ResourceExhausted and the next request still works") {
  Harness h;
  uint8_t hdr[kHeaderSize];
  encode_header(FrameHeader{kMaxMessage + 10, 1, 1, 0}, hdr);
  h.send_raw(std::string_view(reinterpret_cast<char*>(hdr), sizeof hdr));
  std::string junk(kMaxMessage + 10, 'j');
  // Write the junk while pumping the loop (the socket buffer is smaller).
  REQUIRE(sys::set_nonblocking(h.peer, true).ok());
  size_t off = 0;
  while (off < junk.size()) {
    auto r = sys::write_some(h.peer, junk.data() + off, junk.size() - off);
    if (r.n > 0) off += static_cast<size_t>(r.n);
    (void)h.loop->run_once(1ms);
  }
  REQUIRE(sys::set_nonblocking(h.peer, false).ok());
  h.send_request(3, request_bytes("test.Echo", "Echo", "after"));
  auto got = h.receive(2);
  REQUIRE(got.size() == 2);
  CHECK(got[0].stream_id == 1);
  CHECK(got[0].code == static_cast<int>(Code::kResourceExhausted));
  CHECK(got[1].stream_id == 3);
  CHECK(got[1].payload == "after");
}

TEST_CASE("even or reused stream ids are InvalidArgument") {
  Harness h;
  h.send_request(2, request_bytes("test.Echo", "Echo", "x"));
  h.send_request(5, request_bytes("test.Echo", "Echo", "x"));
  h.send_request(3, request_bytes("test.Echo", "Echo", "x"));
  auto got = h.receive(3);
  REQUIRE(got.size() == 3);
  CHECK(got[0].stream_id == 2);
  CHECK(got[0].code == static_cast<int>(Code::kInvalidArgument));
  CHECK(got[1].code == 0);
  CHECK(got[2].stream_id == 3);
  CHECK(got[2].code == static_cast<int>(Code::kInvalidArgument));
}

TEST_CASE("handlers answer out of order") {
  Harness h;
  std::optional<Responder> held;
  h.server.register_method("test.Echo", "Hold",
                           [&](const IncomingRequest&, Responder r) { held = r; });
  h.send_request(1, request_bytes("test.Echo", "Hold", ""));
  h.send_request(3, request_bytes("test.Echo", "Echo", "second"));
  auto got = h.receive(1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].stream_id == 3);
  REQUIRE(held);
  held->reply("first");
  held->reply("twice");  // dropped: a stream is answered once
  got = h.receive(2);
  REQUIRE(got.size() == 1);
  CHECK(got[0].stream_id == 1);
  CHECK(got[0].payload == "first");
}

TEST_CASE("a response to a closed connection is dropped") {
  Harness h;
  std::optional<Responder> held;
  h.server.register_method("test.Echo", "Hold",
                           [&](const IncomingRequest&, Responder r) { held = r; });
  h.send_request(1, request_bytes("test.Echo", "Hold", ""));
  (void)h.receive(0);
  (void)h.loop->run_once(10ms);
  REQUIRE(held);
  h.peer.reset();
  for (int i = 0; i < 5; ++i) (void)h.loop->run_once(5ms);
  CHECK(h.server.connection_count() == 0);
  held->reply("nobody listens");  // must not crash
}

// A peer that pipelines its requests, shuts down its write side and then
// reads: every answer must arrive before the server closes (once it lost
// all but the ~278 answers that fit the socket buffer at EOF).
TEST_CASE("replies queued when the peer half-closes are all delivered") {
  Harness h;
  constexpr uint32_t kRequests = 6000;
  std::string payload(100, 'p');
  std::string stream;
  for (uint32_t i = 0; i < kRequests; ++i)
    stream +=
        encode_frame(2 * i + 1, MessageType::kRequest, request_bytes("test.Echo", "Echo", payload));
  REQUIRE(sys::set_nonblocking(h.peer, true).ok());
  std::vector<uint32_t> answered;
  bool eof = false;
  auto drain = [&] {
    char buf[65536];
    for (;;) {
      auto r = sys::read_some(h.peer, buf, sizeof buf);
      if (r.n == 0) eof = true;
      if (r.n <= 0) break;
      h.reader.feed(buf, static_cast<size_t>(r.n));
    }
    while (auto f = h.reader.next()) {
      ::ttrpc::Response resp;
      REQUIRE(resp.ParseFromString(f->payload));
      CHECK(resp.payload() == payload);
      answered.push_back(f->header.stream_id);
    }
  };
  // Write without reading back first, so that answers pile up in the
  // server's write buffer; read only when the server stops taking bytes.
  size_t off = 0;
  for (int i = 0; i < 100000 && off < stream.size(); ++i) {
    auto r = sys::write_some(h.peer, stream.data() + off, stream.size() - off);
    if (r.n > 0) off += static_cast<size_t>(r.n);
    (void)h.loop->run_once(0ms);
    if (r.n <= 0) drain();
  }
  REQUIRE(off == stream.size());
  REQUIRE(sys::shutdown_write(h.peer).ok());
  for (int i = 0; i < 2000 && !eof; ++i) {
    (void)h.loop->run_once(1ms);
    drain();
  }
  CHECK(eof);
  REQUIRE(answered.size() == kRequests);
  for (uint32_t i = 0; i < kRequests; ++i) CHECK(answered[i] == 2 * i + 1);
  CHECK(h.server.connection_count() == 0);
}

TEST_CASE("a request still held at the half-close is answered, then the connection closes") {
  Harness h;
  std::optional<Responder> held;
  h.server.register_method("test.Echo", "Hold",
                           [&](const IncomingRequest&, Responder r) { held = r; });
  h.send_request(1, request_bytes("test.Echo", "Hold", ""));
  h.send_request(3, request_bytes("test.Echo", "Echo", "now"));
  REQUIRE(sys::shutdown_write(h.peer).ok());
  auto got = h.receive(1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].stream_id == 3);
  for (int i = 0; i < 5; ++i) (void)h.loop->run_once(5ms);  // the server reads the EOF
  CHECK(h.server.connection_count() == 1);
  REQUIRE(held);
  held->reply("later");
  got = h.receive(1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].stream_id == 1);
  CHECK(got[0].payload == "later");
  for (int i = 0; i < 5; ++i) (void)h.loop->run_once(5ms);
  CHECK(h.server.connection_count() == 0);
  char c;
  CHECK(sys::read_some(h.peer, &c, 1).n == 0);  // closed by the server
}

TEST_CASE("client and server over a unix socket: calls, errors, timeouts") {
  auto loop = std::move(loop::Loop::create().value());
  char dir[] = "/tmp/berth-ttrpc-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  std::string path = std::string(dir) + "/s.sock";
  Server server(*loop);
  std::vector<Responder> held;
  server.register_method("test.Echo", "Echo",
                         [](const IncomingRequest& req, Responder r) { r.reply(req.payload); });
  server.register_method("test.Echo", "Hold",
                         [&](const IncomingRequest&, Responder r) { held.push_back(r); });
  REQUIRE(server.serve(sys::listen_unix(path, 16).value()).ok());

  Client client(*loop, path);
  std::vector<std::string> results;
  auto record = [&](std::string tag) {
    return [&results, tag](Client::Reply r) {
      results.push_back(tag + ":" +
                        (r.status.ok() ? r.payload : std::string(code_name(r.status.code))));
    };
  };
  client.call("test.Echo", "Hold", "", {}, 50ms, record("hold"));
  client.call("test.Echo", "Echo", "one", {}, 1s, record("echo"));
  client.call("test.Echo", "Missing", "", {}, 1s, record("missing"));
  for (int i = 0; i < 30; ++i) (void)loop->run_once(10ms);
  REQUIRE(results.size() == 3);
  CHECK(results[0] == "echo:one");
  CHECK(results[1] == "missing:Unimplemented");
  CHECK(results[2] == "hold:DeadlineExceeded");
  // The late answer to the timed-out call is ignored.
  REQUIRE(held.size() == 1);
  held[0].reply("late");
  for (int i = 0; i < 5; ++i) (void)loop->run_once(5ms);
  CHECK(results.size() == 3);

  // Server goes away: calls in flight fail with Unavailable; a call to a
  // missing socket fails the same way, from the loop.
  client.call("test.Echo", "Hold", "", {}, 5s, record("cut"));
  for (int i = 0; i < 5; ++i) (void)loop->run_once(5ms);
  server.close_all();
  server.stop_listening();
  for (int i = 0; i < 10; ++i) (void)loop->run_once(5ms);
  REQUIRE(results.size() == 4);
  CHECK(results[3] == "cut:Unavailable");
  ::unlink(path.c_str());
  client.call("test.Echo", "Echo", "x", {}, 1s, record("gone"));
  CHECK(results.size() == 4);  // never synchronously
  for (int i = 0; i < 5; ++i) (void)loop->run_once(5ms);
  REQUIRE(results.size() == 5);
  CHECK(results[4] == "gone:Unavailable");
  ::rmdir(dir);
}
