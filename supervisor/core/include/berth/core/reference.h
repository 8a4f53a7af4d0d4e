#pragma once
// Image references, normalised as docker does (distribution/reference):
//
//   reference   := name [ ":" tag ] [ "@" digest ]
//   name        := [ domain "/" ] path ( "/" path )*       (lower case, <= 255)
//   domain      := host [ ":" port ]    host: has a '.' or ':' or is "localhost",
//                                       or an [IPv6] literal
//   path        := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//   tag         := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
//   digest      := "sha256:" 64 lower-hex  (other algorithms: [a-z0-9]+ ":" hex 32+)
//
//   busybox                  → docker.io/library/busybox:latest
//   user/app:1               → docker.io/user/app:1
//   localhost:5000/app       → localhost:5000/app:latest
//   index.docker.io/x        → docker.io/library/x:latest
//   app@sha256:…             → docker.io/library/app@sha256:… (no tag added)
//
// Errors use docker's words ("invalid reference format", "repository name
// must be lowercase") and name the reference.

#include <optional>
#include <string>
#include <string_view>

#include "berth/base/error.h"

namespace berth::core {

inline constexpr std::string_view kDockerHub = "docker.io";

struct Reference {
  std::string domain;  // "docker.io", "localhost:5000", "[::1]:5000"
  std::string path;    // "library/busybox"
  std::string tag;     // empty when none
  std::string digest;  // "sha256:…", empty when none

  std::string name() const { return domain + "/" + path; }  // docker.io/library/busybox
  // name[:tag][@digest], fully qualified.
  std::string str() const;
  // What docker prints: busybox:latest, user/app:1, localhost:5000/app:latest.
  std::string familiar() const;
  std::string familiar_name() const;
  bool operator==(const Reference&) const = default;
};

// Parses and normalises; adds ":latest" when neither tag nor digest is given
// (as `docker pull` does) unless `default_tag` is false.
Result<Reference> parse_reference(std::string_view text, bool default_tag = true);

// True for "sha256:<64 hex>" (and "<algorithm>:<hex>" of a registered kind).
bool is_digest(std::string_view text);
// A full 64-hex image id, with or without "sha256:": what docker refuses as
// a repository name ("cannot specify 64-byte hexadecimal strings").
bool is_full_image_id(std::string_view text);

}  // namespace berth::core
