#!/usr/bin/env bash
# Installs the Debian 12 packages fogm2m builds and runs with.
# Idempotent: when everything is present it prints nothing and exits 0.
#   install-deps.sh               the build, the tests, the testbed
#   install-deps.sh --containers  podman and what it needs here, for
#                                 docker/ and scripts/container-test.sh
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev clang-format
  libboost1.81-dev libboost-json1.81-dev libboost-system1.81-dev
  libcoap3-dev libcoap3-bin libssl-dev
  libhiredis-dev
  libeigen3-dev
  libprotobuf-dev protobuf-compiler
  libcli11-dev libspdlog-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  redis-server nftables iproute2 procps
  python3 python3-matplotlib python3-pandas
  valgrind
  chromium
  nodejs
)
# npm (the gateway's JS tests, tests/gateway/js): Debian's package, unless
# the nodejs installed already brings npm (NodeSource's does, and conflicts
# with Debian's npm).
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

# Containers (docker/README.md): Debian's podman 4.3 on runc (crun refuses
# this machine's hybrid cgroup layout), its netavark network backend (which
# needs iptables), podman-compose, and mmdebstrap for a base image without
# a registry; catatonit for the pause image of `podman play kube` pods.
if [ "${1:-}" = --containers ]; then
  PACKAGES=(podman runc iptables netavark aardvark-dns fuse-overlayfs catatonit mmdebstrap podman-compose)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# redis-server's package starts a system instance on 6379; the testbed runs its
# own instances on free ports, so the system one is left as the admin wants it.
