// Names for containers created without --name: an adjective and the name of
// a scientist or engineer, as docker's namesgenerator makes them (our own
// lists). Picked from the container's random id, so no second source of
// randomness is needed; a clash is retried by the caller with a suffix.

#include <algorithm>
#include <array>
#include <random>
#include <string>
#include <string_view>

#include "internal.h"

namespace berth::containers {

namespace {

constexpr std::array<std::string_view, 32> kAdjectives = {
    "agile",  "bold",   "brave", "bright", "calm",   "clever", "cosy",    "crisp",
    "daring", "eager",  "fair",  "fancy",  "gentle", "happy",  "humble",  "jolly",
    "keen",   "kind",   "lucid", "merry",  "modest", "nimble", "patient", "proud",
    "quiet",  "serene", "sharp", "steady", "sunny",  "swift",  "tender",  "witty"};

constexpr std::array<std::string_view, 32> kNames = {
    "agnesi",  "babbage", "bardeen",  "bohr",     "curie",   "darwin",   "dijkstra", "euler",
    "faraday", "fermi",   "franklin", "galileo",  "gauss",   "hamilton", "hopper",   "hypatia",
    "kepler",  "knuth",   "lamarr",   "lovelace", "maxwell", "meitner",  "noether",  "pascal",
    "ritchie", "shannon", "thompson", "torvalds", "turing",  "volta",    "wozniak",  "yonath"};

}  // namespace

std::string generate_name(const std::string& id) {
  auto nibble = [&](size_t i) {
    char c = id[i];
    return size_t(c >= 'a' ? c - 'a' + 10 : c - '0');
  };
  size_t a = (nibble(0) * 16 + nibble(1)) % kAdjectives.size();
  size_t n = (nibble(2) * 16 + nibble(3)) % kNames.size();
  return std::string(kAdjectives[a]) + "_" + std::string(kNames[n]);
}

bool is_valid_name(std::string_view name) {
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  return name.size() >= 2 && alnum(name[0]) &&
         std::all_of(name.begin() + 1, name.end(),
                     [&](char c) { return alnum(c) || c == '_' || c == '.' || c == '-'; });
}

std::string random_hex(size_t n) {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  while (out.size() < n) {
    uint32_t v = rd();
    for (int i = 0; i < 8 && out.size() < n; ++i, v >>= 4) out.push_back(kHex[v & 15]);
  }
  return out;
}

}  // namespace berth::containers
