// Small helpers of the image service (see internal.h).

#include <sys/random.h>

#include <ctime>

#include "berth/base/sys.h"
#include "berth/core/digest.h"
#include "berth/json/json.h"
#include "internal.h"

namespace berth::images {

std::string short_id(std::string_view digest) {
  return std::string(core::digest_hex(digest).substr(0, 12));
}

Result<std::string> sniff_layer_media_type(core::ContentStore& content, const std::string& digest) {
  auto fd = BERTH_VALUE(content.open_blob(digest));
  unsigned char magic[4] = {};
  ssize_t n = sys::pread(fd.get(), magic, sizeof magic, 0);
  if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
    return std::string(core::media::kOciLayerGzip);
  if (n == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
    return std::string(core::media::kOciLayerZstd);
  return std::string(core::media::kOciLayer);
}

std::string json_quote(std::string_view s) {
  json::Writer w;
  w.string(s);
  return w.str();
}

std::string random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  size_t got = 0;
  while (got < bytes) {
    ssize_t n = ::getrandom(raw.data() + got, bytes - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

int64_t now_seconds() { return static_cast<int64_t>(::time(nullptr)); }

int64_t parse_time(std::string_view text) {
  struct tm tm {};
  std::string s(text.substr(0, 19));
  if (!strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return 0;
  int64_t t = timegm(&tm);
  // A zone offset ("+02:00") after the seconds and fraction.
  auto pos = text.find_first_of("+-Z", 19);
  if (pos != std::string_view::npos && text[pos] != 'Z' && text.size() >= pos + 6) {
    int h = (text[pos + 1] - '0') * 10 + (text[pos + 2] - '0');
    int m = (text[pos + 4] - '0') * 10 + (text[pos + 5] - '0');
    int64_t off = (h * 3600 + m * 60) * (text[pos] == '+' ? 1 : -1);
    t -= off;
  }
  return t;
}

Result<core::Descriptor> store_blob(core::ContentStore& content, std::string_view media_type,
                                    std::string_view bytes) {
  core::Descriptor d;
  d.media_type = std::string(media_type);
  d.digest = core::digest_of(bytes);
  d.size = static_cast<int64_t>(bytes.size());
  // Another operation may be writing the same document right now (two
  // pulls of one image): wait for it rather than fail.
  for (int attempt = 0;; ++attempt) {
    if (content.info(d.digest)) return d;
    auto w = content.writer("blob-" + d.digest, d.size, d.digest);
    if (!w) {
      if (w.error().code() == EBUSY && attempt < 500) {
        struct timespec ts {
          0, 10'000'000
        };
        sys::nanosleep(&ts, nullptr);
        continue;
      }
      return std::move(w).error();
    }
    if ((*w)->offset() != 0) {
      (*w)->abort();
      continue;
    }
    BERTH_TRY((*w)->write(bytes));
    BERTH_TRY((*w)->commit(d.size, d.digest));
    return d;
  }
}

}  // namespace berth::images
