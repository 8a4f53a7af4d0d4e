# Sourced by contrib/*.sh: where the repository and the build are.
#   BERTH_BUILD_DIR   build directory (default <repo>/build; <repo>/build-asan
#                     when BERTH_SANITIZE=1)
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ "${BERTH_SANITIZE:-0}" = 1 ]; then
  BUILD=${BERTH_BUILD_DIR:-$REPO/build-asan}
else
  BUILD=${BERTH_BUILD_DIR:-$REPO/build}
fi
# BERTH_BIN overrides the runtime used (e.g. /usr/sbin/runc to compare)
BERTH=${BERTH_BIN:-$BUILD/runtime/cli/berth}
