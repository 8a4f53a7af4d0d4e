#!/bin/bash
# Install everything berth needs to build and test, on Debian 12, as root.
# Idempotent: when every package is already installed it touches nothing
# (no `apt-get update`, no network), so CI and repeated setup runs stay fast.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake pkg-config clang-format libseccomp-dev libcap-dev libyajl-dev doctest-dev
  protobuf-compiler libprotobuf-dev
  # supervisor: layers (tar, gzip, zstd) and digests
  libarchive-dev libzstd-dev libssl-dev
  # supervisor: gRPC API, metadata, registries, logs, CLI, config
  libgrpc++-dev protobuf-compiler-grpc libsqlite3-dev libcurl4-openssl-dev
  libspdlog-dev libcli11-dev libtomlplusplus-dev
  # test rootfs and end-to-end tests
  busybox-static python3 python3-pytest jq iproute2 procps util-linux
  # peers and comparisons: runc/crun side by side, containerd drives our shim/runtime
  runc crun containerd hyperfine
  # podman drives berth through conmon (spec-tests/test_podman.py)
  podman conmon
  # supervisor peers: registries, image tools, token-server signing
  docker-registry skopeo umoci apache2-utils python3-grpcio python3-grpc-tools
  python3-jwt python3-cryptography
  # pure cgroup v2 tier (spec-tests/vm): Debian's cloud kernel booted under QEMU
  qemu-system-x86 linux-image-cloud-amd64 cpio
)

die() { echo "install-deps: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (try: sudo $0)"
command -v dpkg-query >/dev/null && command -v apt-get >/dev/null \
  || die "needs a Debian system with dpkg and apt-get (Debian 12 expected)"

missing=()
for p in "${PACKAGES[@]}"; do
  # "install ok installed" is the only state that means the package is usable.
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/berth-install-deps.XXXXXX)
trap 'rm -f "$log"' EXIT
# apt's chatter goes to a log that is shown only when something fails.
run_apt() {
  if ! apt-get "$@" </dev/null >"$log" 2>&1; then
    cat "$log" >&2
    return 1
  fi
}
run_apt update -q || die "apt-get update failed (is a Debian mirror reachable?)"
run_apt install -y -q --no-install-recommends "${missing[@]}" \
  || die "apt-get install failed for: ${missing[*]}"
echo "install-deps: done"
