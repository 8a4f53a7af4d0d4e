#pragma once
// ttrpc: the RPC protocol between containerd and its shims (containerd/ttrpc
// 1.1, as containerd 1.6 speaks it). Written once here for the server in the
// shim and the clients that call it or that it calls.
//
// A connection is a unix stream socket carrying frames:
//
//   offset  size  field      notes
//   0       4     length     big-endian, payload bytes only; > 4 MiB (kMaxMessage)
//                            is refused: the payload is discarded and the stream
//                            answered with ResourceExhausted (as ttrpc 1.1 does)
//   4       4     stream_id  big-endian; client-initiated streams are odd and
//                            increase (1, 3, 5, ...); a response reuses its
//                            request's id
//   8       1     type       1 request, 2 response, 3 data (streaming; unused by
//                            the 1.6 task API, answered with InvalidArgument)
//   9       1     flags      0 for requests and responses
//   10      length payload   protobuf (proto/ttrpc/ttrpc.proto)
//
// Messages (payloads):
//
//   frame     message          fields
//   request   ttrpc.Request    service=1 (e.g. "containerd.task.v2.Task"), method=2
//                              ("Create"), payload=3 (the method's request message),
//                              timeout_nano=4 (0 = none), metadata=5 repeated
//                              KeyValue{key=1, value=2}, e.g.
//                              containerd-namespace-ttrpc = <namespace>
//   response  ttrpc.Response   status=1 google.rpc.Status{code=1, message=2,
//                              details=3}, absent on success (code 0 also means
//                              success); payload=2 (the method's response message)
//
// Requests on one connection are independent: the server answers each when
// its handler finishes, in any order (Wait stays pending while Start, State,
// Kill go through). Errors are gRPC codes (Code below); containerd maps them
// to its errdefs (NotFound, AlreadyExists, FailedPrecondition, ...).
//
// Connection-level protocol violations (a bad request envelope, an even or
// reused stream id, a data frame) are answered on that stream id with
// InvalidArgument; only an unreadable socket closes the connection. There is
// no handshake: the server checks the peer's credentials (SO_PEERCRED) on
// accept.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace berth::ttrpc {

constexpr size_t kHeaderSize = 10;
constexpr uint32_t kMaxMessage = 4u << 20;

enum class MessageType : uint8_t { kRequest = 1, kResponse = 2, kData = 3 };

// gRPC status codes, as carried in google.rpc.Status.code.
enum class Code : int32_t {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};
const char* code_name(Code code);

// The outcome of an RPC: a code and, for errors, a message for the user.
struct RpcStatus {
  Code code = Code::kOk;
  std::string message;
  bool ok() const { return code == Code::kOk; }
  static RpcStatus Ok() { return {}; }
};
inline RpcStatus rpc_error(Code code, std::string message) { return {code, std::move(message)}; }

struct FrameHeader {
  uint32_t length = 0;
  uint32_t stream_id = 0;
  uint8_t type = 0;
  uint8_t flags = 0;
};

void encode_header(const FrameHeader& h, uint8_t out[kHeaderSize]);
FrameHeader decode_header(const uint8_t in[kHeaderSize]);
// Header + payload as one buffer, ready to write.
std::string encode_frame(uint32_t stream_id, MessageType type, std::string_view payload);

// Splits a byte stream into frames. feed() appends what a read returned;
// next() yields each complete frame. An oversized frame is reported once
// (with its header) and its payload skipped as it arrives, so one bad frame
// never forces the buffer past kMaxMessage + kHeaderSize.
class FrameReader {
 public:
  struct Frame {
    FrameHeader header;
    std::string payload;
    bool oversized = false;  // payload dropped; header.length is the claimed size
  };
  void feed(const char* data, size_t len);
  std::optional<Frame> next();
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::string buf_;
  size_t pos_ = 0;
  uint64_t skip_ = 0;  // bytes of an oversized payload still to drop
};

}  // namespace berth::ttrpc
