#include <doctest/doctest.h>

#include "berth/core/digest.h"
#include "berth/core/snapshots.h"

using namespace berth::core;

TEST_CASE("digest of known inputs, in one piece and streamed") {
  CHECK(digest_of("") == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Digester d;
  d.update("ab");
  d.update("c");
  CHECK(d.digest() == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(d.size() == 3);
  d.update("");  // digest() does not end the stream
  CHECK(d.digest() == digest_of("abc"));
}

TEST_CASE("validate_digest names what is wrong") {
  CHECK(validate_digest(digest_of("x")).ok());
  auto bad = validate_digest("md5:abcd", "layer digest");
  REQUIRE(!bad.ok());
  CHECK(bad.error().message().find("layer digest `md5:abcd`: unsupported") == 0);
  CHECK(!validate_digest("sha256:abc").ok());
  CHECK(!validate_digest("sha256:" + std::string(64, 'G')).ok());
  CHECK(digest_hex("sha256:ff") == "ff");
}

TEST_CASE("chain ids as image-spec config.md defines them") {
  std::vector<std::string> diffs = {digest_of("a"), digest_of("b"), digest_of("c")};
  auto chain = chain_ids(diffs);
  REQUIRE(chain.size() == 3);
  CHECK(chain[0] == diffs[0]);
  CHECK(chain[1] == digest_of(diffs[0] + " " + diffs[1]));
  CHECK(chain[2] == digest_of(chain[1] + " " + diffs[2]));
  CHECK(chain_id(diffs) == chain[2]);
  CHECK(chain_id({}).empty());
}
