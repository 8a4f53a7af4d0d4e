#pragma once
// A SpecInput over a default container and image config, for the rule
// tests that need no rootfs.
#include <string>

#include "berth/oci/spec.h"

namespace berth::oci::testing {

struct InputFixture {
  core::ContainerConfig config;
  core::ImageConfig image;
  SpecInput in;
  InputFixture() {
    in.id = std::string(64, 'a');
    in.config = &config;
    in.image = &image;
    in.rootfs = "/tmp/rootfs";
  }
};

}  // namespace berth::oci::testing
