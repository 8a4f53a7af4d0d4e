// Progress lines as docker's pkg/jsonmessage prints them.
#include <doctest/doctest.h>

#include <string>

#include "render/progress.h"

using namespace berth::ctl;

TEST_CASE("progress_bar: bar only on wide terminals, counts as go-units") {
  CHECK(progress_bar(0, 0, 200) == "");
  CHECK(progress_bar(1200000, 2200000, 80) == "   1.2MB/2.2MB");
  // 54% is 27 of the 50 cells.
  CHECK(progress_bar(1200000, 2200000, 120) ==
        "[" + std::string(27, '=') + ">" + std::string(23, ' ') + "]    1.2MB/2.2MB");
  CHECK(progress_bar(2200000, 2200000, 120) == "[" + std::string(50, '=') + ">]    2.2MB/2.2MB");
  // No total: the count alone; more than the total: the count alone.
  CHECK(progress_bar(5000, 0, 120) == "     5kB");
  CHECK(progress_bar(5000000, 2000000, 80) == "     5MB");
}

TEST_CASE("plain output: one line per state change of a layer, no byte counts") {
  ProgressPrinter p(false, 0);
  CHECK(p.render({"", "latest: Pulling from library/busybox", 0, 0}) ==
        "latest: Pulling from library/busybox\n");
  CHECK(p.render({"a1b2c3", "Pulling fs layer", 0, 0}) == "a1b2c3: Pulling fs layer\n");
  CHECK(p.render({"a1b2c3", "Downloading", 100, 2000}) == "");
  CHECK(p.render({"a1b2c3", "Downloading", 900, 2000}) == "");
  CHECK(p.render({"a1b2c3", "Download complete", 0, 0}) == "a1b2c3: Download complete\n");
  CHECK(p.render({"a1b2c3", "Download complete", 0, 0}) == "");
  CHECK(p.render({"a1b2c3", "Pull complete", 0, 0}) == "a1b2c3: Pull complete\n");
}

TEST_CASE("terminal output: each layer keeps its line, redrawn in place") {
  ProgressPrinter p(true, 80);
  // A new layer opens a line below the block, then is drawn on it.
  CHECK(p.render({"aaa", "Pulling fs layer", 0, 0}) ==
        "\n\x1b[1A\x1b[2K\raaa: Pulling fs layer\r\x1b[1B");
  CHECK(p.render({"bbb", "Pulling fs layer", 0, 0}) ==
        "\n\x1b[1A\x1b[2K\rbbb: Pulling fs layer\r\x1b[1B");
  // The first layer is two lines up from the cursor.
  CHECK(p.render({"aaa", "Downloading", 1200000, 2200000}) ==
        "\x1b[2A\x1b[2K\raaa: Downloading    1.2MB/2.2MB\r\x1b[2B");
  // A line without an id ends the block: the next layer starts a new one.
  CHECK(p.render({"", "Digest: sha256:abc", 0, 0}) == "Digest: sha256:abc\n");
  CHECK(p.render({"aaa", "Pull complete", 0, 0}) ==
        "\n\x1b[1A\x1b[2K\raaa: Pull complete\r\x1b[1B");
}
