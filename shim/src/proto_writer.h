#pragma once
// A protobuf (proto3) wire-format writer for messages the shim only ever
// sends and whose schema is plain numbers, strings and nested messages: the
// cgroup Metrics of Task.Stats. Generated protobuf-lite classes for those
// ~25 messages would add ~55 KiB of code to every shim, and the shim's code
// is its resident memory; this is a few hundred bytes. The .proto files in
// proto/cgroups/ stay the schema: the unit tests decode what this writes
// with the generated classes, field by field.
//
// proto3 rules kept: a zero number and an empty string are not written;
// fields go out in the order they are added (any order is valid).

#include <cstdint>
#include <string>
#include <string_view>

namespace berth::shim {

class ProtoWriter {
 public:
  // uint64 / uint32 field (varint, wire type 0).
  ProtoWriter& u64(uint32_t field, uint64_t v) {
    if (v == 0) return *this;
    varint(static_cast<uint64_t>(field) << 3);
    varint(v);
    return *this;
  }
  // string / bytes / an embedded message's bytes (wire type 2).
  ProtoWriter& bytes(uint32_t field, std::string_view data) {
    if (data.empty()) return *this;
    return bytes_always(field, data);
  }
  // An embedded message, written even when empty (a present sub-message
  // with all fields zero, as containerd's Go code would send it).
  ProtoWriter& message(uint32_t field, const ProtoWriter& m) { return bytes_always(field, m.out_); }
  // A repeated uint64, packed (proto3's default encoding).
  template <class Range>
  ProtoWriter& packed_u64(uint32_t field, const Range& values) {
    ProtoWriter inner;
    for (uint64_t v : values) inner.varint(v);
    return bytes(field, inner.out_);
  }
  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  ProtoWriter& bytes_always(uint32_t field, std::string_view data) {
    varint((static_cast<uint64_t>(field) << 3) | 2);
    varint(data.size());
    out_.append(data);
    return *this;
  }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  std::string out_;
};

}  // namespace berth::shim
