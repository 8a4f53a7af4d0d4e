#!/bin/bash
# Configure and build berth with CMake, -j$(nproc).
#   BERTH_BUILD_DIR   build directory (default <repo>/build)
#   BERTH_BUILD_TYPE  CMake build type (default RelWithDebInfo)
#   BERTH_SANITIZE=1  ASan + UBSan build (-DBERTH_SANITIZE=ON) in <repo>/build-asan
# Also builds the static test probe that spec-tests copy into their rootfs
# (<build>/spec-tests/probe), so one build is enough to run every test.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

sanitize=OFF
[ "${BERTH_SANITIZE:-0}" = 1 ] && sanitize=ON

# ccache when installed (not a dependency): rebuilds across worktrees and
# branches share one cache keyed relative to CCACHE_BASEDIR.
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$REPO}
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi

cmake -S "$REPO" -B "$BUILD" "${launcher[@]}" \
  -DCMAKE_BUILD_TYPE="${BERTH_BUILD_TYPE:-RelWithDebInfo}" \
  -DBERTH_SANITIZE="$sanitize"
cmake --build "$BUILD" -j"$(nproc)"

# The probe is plain C with no dependencies, built here rather than through
# CMake so that it never depends on the runtime's build files. -static: the
# busybox test rootfs has no libc.
probe_src=$REPO/spec-tests/probe/probe.c
probe_bin=$BUILD/spec-tests/probe
if [ ! -x "$probe_bin" ] || [ "$probe_src" -nt "$probe_bin" ]; then
  mkdir -p "$BUILD/spec-tests"
  gcc -static -Os -Wall -Wextra -o "$probe_bin" "$probe_src"
fi
echo "build: $BUILD"
