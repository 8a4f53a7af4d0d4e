// Digests (see digest.h): OpenSSL's EVP sha256, incrementally.

#include "berth/core/digest.h"

#include <openssl/evp.h>

namespace berth::core {

struct Digester::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Digester::Digester() : ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  // Allocation failure of a 200-byte context: nothing sensible to do but stop.
  if (!ctx_->md || EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1) std::abort();
}
Digester::~Digester() = default;
Digester::Digester(Digester&&) noexcept = default;
Digester& Digester::operator=(Digester&&) noexcept = default;

void Digester::update(std::string_view bytes) {
  EVP_DigestUpdate(ctx_->md, bytes.data(), bytes.size());
  size_ += bytes.size();
}

std::string Digester::digest() const {
  EVP_MD_CTX* copy = EVP_MD_CTX_new();
  if (!copy || EVP_MD_CTX_copy_ex(copy, ctx_->md) != 1) std::abort();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(copy, md, &len);
  EVP_MD_CTX_free(copy);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

std::string digest_of(std::string_view bytes) {
  Digester d;
  d.update(bytes);
  return d.digest();
}

Status validate_digest(std::string_view digest, std::string_view what) {
  constexpr std::string_view kPrefix = "sha256:";
  if (digest.substr(0, kPrefix.size()) != kPrefix)
    return make_error(std::string(what) + " `" + std::string(digest) +
                      "`: unsupported digest algorithm (want sha256)");
  std::string_view hex = digest.substr(kPrefix.size());
  if (hex.size() != 64)
    return make_error(std::string(what) + " `" + std::string(digest) +
                      "`: invalid checksum digest length");
  for (char c : hex)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return make_error(std::string(what) + " `" + std::string(digest) +
                        "`: invalid checksum digest format");
  return ok_status();
}

std::string_view digest_hex(std::string_view digest) {
  auto colon = digest.find(':');
  return colon == std::string_view::npos ? digest : digest.substr(colon + 1);
}

}  // namespace berth::core
