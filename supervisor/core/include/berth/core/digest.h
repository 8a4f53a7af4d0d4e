#pragma once
// Content digests: "sha256:<64 lower hex>", computed incrementally as bytes
// stream (OpenSSL EVP). The only algorithm berthd writes; others are
// refused where a digest is parsed (content store, references).

#include <memory>
#include <string>
#include <string_view>

#include "berth/base/error.h"

namespace berth::core {

class Digester {
 public:
  Digester();
  ~Digester();
  Digester(Digester&&) noexcept;
  Digester& operator=(Digester&&) noexcept;
  void update(std::string_view bytes);
  // "sha256:…" of everything so far; the digester can go on after it.
  std::string digest() const;
  uint64_t size() const { return size_; }

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
  uint64_t size_ = 0;
};

std::string digest_of(std::string_view bytes);
// Checks "sha256:<64 lower hex>"; errors name `what` ("layer digest").
Status validate_digest(std::string_view digest, std::string_view what = "digest");
// The hex part of a valid digest.
std::string_view digest_hex(std::string_view digest);

}  // namespace berth::core
