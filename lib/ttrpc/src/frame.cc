#include "berth/ttrpc/frame.h"

#include <algorithm>

namespace berth::ttrpc {

const char* code_name(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kCancelled: return "Canceled";
    case Code::kUnknown: return "Unknown";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kDeadlineExceeded: return "DeadlineExceeded";
    case Code::kNotFound: return "NotFound";
    case Code::kAlreadyExists: return "AlreadyExists";
    case Code::kPermissionDenied: return "PermissionDenied";
    case Code::kResourceExhausted: return "ResourceExhausted";
    case Code::kFailedPrecondition: return "FailedPrecondition";
    case Code::kAborted: return "Aborted";
    case Code::kOutOfRange: return "OutOfRange";
    case Code::kUnimplemented: return "Unimplemented";
    case Code::kInternal: return "Internal";
    case Code::kUnavailable: return "Unavailable";
    case Code::kDataLoss: return "DataLoss";
    case Code::kUnauthenticated: return "Unauthenticated";
  }
  return "Unknown";
}

namespace {
void put_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
uint32_t get_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
}  // namespace

void encode_header(const FrameHeader& h, uint8_t out[kHeaderSize]) {
  put_be32(out, h.length);
  put_be32(out + 4, h.stream_id);
  out[8] = h.type;
  out[9] = h.flags;
}

FrameHeader decode_header(const uint8_t in[kHeaderSize]) {
  return FrameHeader{get_be32(in), get_be32(in + 4), in[8], in[9]};
}

std::string encode_frame(uint32_t stream_id, MessageType type, std::string_view payload) {
  std::string out(kHeaderSize, '\0');
  encode_header(
      FrameHeader{static_cast<uint32_t>(payload.size()), stream_id, static_cast<uint8_t>(type), 0},
      reinterpret_cast<uint8_t*>(out.data()));
  out.append(payload);
  return out;
}

void FrameReader::feed(const char* data, size_t len) {
  if (skip_ > 0) {
    size_t drop = static_cast<size_t>(std::min<uint64_t>(skip_, len));
    skip_ -= drop;
    data += drop;
    len -= drop;
  }
  if (len == 0) return;
  // Compact before growing, so the buffer holds at most one frame in progress.
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 64 * 1024) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(data, len);
}

std::optional<FrameReader::Frame> FrameReader::next() {
  if (buffered() < kHeaderSize) return std::nullopt;
  FrameHeader h = decode_header(reinterpret_cast<const uint8_t*>(buf_.data() + pos_));
  if (h.length > kMaxMessage) {
    pos_ += kHeaderSize;
    // Drop what of the payload is already buffered, skip the rest on feed().
    size_t have = std::min<size_t>(buffered(), h.length);
    pos_ += have;
    skip_ = h.length - have;
    // Anything buffered past the oversized payload is the next frame.
    return Frame{h, {}, true};
  }
  if (buffered() < kHeaderSize + h.length) return std::nullopt;
  Frame f{h, buf_.substr(pos_ + kHeaderSize, h.length), false};
  pos_ += kHeaderSize + h.length;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  return f;
}

}  // namespace berth::ttrpc
