# shellcheck shell=bash
# Shared by scripts/container-test.sh, scripts/k8s-play-check.sh,
# scripts/container-run.sh and scripts/container-backend-test.sh: podman
# as this machine runs it (docker/README.md), with private configuration, an
# image cache, and the host put back as it was found. Sourced; the caller
# defines say() and fail() and runs as root.
#
#   fogm2m_podman_setup       installs podman & co. when missing, takes the cache's
#                             lock, writes and exports CONTAINERS_CONF and
#                             CONTAINERS_STORAGE_CONF, notes the host state, makes $WORK
#   fogm2m_podman_images BIN  the base, Redis and fogm2m (from BIN) images, built
#                             or found in the cache; exports FOGM2M_IMAGE, REDIS_IMAGE
#   fogm2m_podman_restore_host  removes what podman's network backend left on the
#                             host that was not there before, our /run files and $WORK
#
# The cache, FOGM2M_CONTAINER_CACHE (default /var/cache/fogm2m/containers),
# holds podman's storage and networks for these scripts only (the system's
# podman storage, networks and configuration are not touched) and keeps, by
# design, the base image (localhost/debian:12), the Redis image, the last
# fogm2m image (tagged with a hash of the binary and of the files packaged
# with it) and podman's pause image. Delete the folder to start cold.

FOGM2M_PODMAN_CACHE="${FOGM2M_CONTAINER_CACHE:-/var/cache/fogm2m/containers}"
FOGM2M_PODMAN_RUN=/run/fogm2m-podman
FOGM2M_PODMAN_BASE=localhost/debian:12

fogm2m_podman_setup() {
  bash "$FOGM2M_ROOT/scripts/install-deps.sh" --containers || fail "cannot install podman"
  local cache="$FOGM2M_PODMAN_CACHE"
  mkdir -p "$cache"
  exec 9>"$cache/lock"
  flock -w 600 9 || fail "another container test holds $cache/lock"
  # runc: crun refuses this machine's hybrid cgroup v1 layout; cgroupfs: no
  # systemd here; ulimits: root lacks CAP_SYS_RESOURCE, the fd hard limit is
  # 20000 (podman's default, 1048576, cannot be set).
  cat >"$cache/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$FOGM2M_PODMAN_RUN/libpod"
[network]
network_config_dir = "$cache/networks"
EOF
  cat >"$cache/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$cache/storage"
runroot = "$FOGM2M_PODMAN_RUN/storage"
EOF
  export CONTAINERS_CONF="$cache/containers.conf" CONTAINERS_STORAGE_CONF="$cache/storage.conf"
  # What podman's network backend (netavark) changes on the host.
  fogm2m_ip_forward_before=$(cat /proc/sys/net/ipv4/ip_forward)
  fogm2m_run_containers_before=0
  if [ -e /run/containers ]; then fogm2m_run_containers_before=1; fi
  fogm2m_nft_tables_before=$(nft list tables 2>/dev/null || true)
  WORK=$(mktemp -d)
}

# Builds image $1 from file $2 and context $3 (more podman build arguments
# after) unless it exists, then drops the other tags of its repository.
fogm2m_podman_build() {
  local image="$1" file="$2" context="$3"; shift 3
  if ! podman image exists "$image"; then
    say "building $image"
    podman build -q --layers -f "$file" --build-arg BASE="$FOGM2M_PODMAN_BASE" "$@" -t "$image" "$context" \
      >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; fail "podman build $image"; }
  fi
  local old
  for old in $(podman images --format '{{.Repository}}:{{.Tag}}' --filter "reference=${image%:*}"); do
    [ "$old" = "$image" ] || podman rmi "$old" >/dev/null 2>&1 || true
  done
}

fogm2m_podman_images() {
  local bin="$1"
  if ! podman image exists "$FOGM2M_PODMAN_BASE"; then
    # No registry here: Debian 12 minbase from the Debian mirror (about 30 s).
    say "making the base image $FOGM2M_PODMAN_BASE (mmdebstrap)"
    mmdebstrap --quiet --variant=minbase --include=ca-certificates bookworm \
      "$WORK/rootfs.tar" /etc/apt/sources.list.d/debian.sources >"$WORK/mmdebstrap.log" 2>&1 \
      || { cat "$WORK/mmdebstrap.log" >&2; fail "mmdebstrap"; }
    # A tarball has no image config: give it Debian's PATH, as debian:bookworm has.
    podman import -q --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      "$WORK/rootfs.tar" "$FOGM2M_PODMAN_BASE" >/dev/null || fail "podman import"
    rm -f "$WORK/rootfs.tar"
  fi
  REDIS_IMAGE="localhost/fogm2m-redis:ct-$(sha256sum "$FOGM2M_ROOT/docker/Dockerfile.redis" | cut -c1-16)"
  fogm2m_podman_build "$REDIS_IMAGE" "$FOGM2M_ROOT/docker/Dockerfile.redis" "$FOGM2M_ROOT/docker"
  # A context of the binary and the files packaged with it, nothing else.
  mkdir -p "$WORK/context/docker"
  cp "$FOGM2M_ROOT"/docker/{fogm2m-entrypoint,fogm2m-lb,lb.nft} "$WORK/context/docker/"
  cp "$bin" "$WORK/context/fogm2m"
  FOGM2M_IMAGE="localhost/fogm2m:ct-$(cat "$WORK/context/fogm2m" "$WORK/context/docker/"* \
    "$FOGM2M_ROOT/docker/Dockerfile.prebuilt" | sha256sum | cut -c1-16)"
  fogm2m_podman_build "$FOGM2M_IMAGE" "$FOGM2M_ROOT/docker/Dockerfile.prebuilt" "$WORK/context" \
    --build-arg FOGM2M_BIN=fogm2m
  export FOGM2M_IMAGE REDIS_IMAGE
}

# A table netavark made through iptables-nft that holds nothing but its own
# chains goes again; anything else in it is left alone.
fogm2m_remove_netavark_table() {
  local family="$1" table="$2" save="iptables-save" foreign
  [ "$family" = ip6 ] && save="ip6tables-save"
  grep -qx "table $family $table" <<<"$fogm2m_nft_tables_before" && return 0
  nft list table "$family" "$table" >/dev/null 2>&1 || return 0
  foreign=$($save -t "$table" 2>/dev/null | grep -E '^(:|-A)' \
    | grep -vE '^:(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING|NETAVARK[-_][A-Za-z0-9_-]*) ' \
    | grep -vE '^-A (NETAVARK[-_][^ ]* |[A-Z]+ .*-j NETAVARK)' || true)
  if [ -z "$foreign" ]; then
    nft delete table "$family" "$table"
  else
    echo "left table $family $table: it holds rules that are not podman's" >&2
  fi
}

fogm2m_podman_restore_host() {
  local t
  for t in "ip nat" "ip filter" "ip6 nat" "ip6 filter"; do
    # shellcheck disable=SC2086
    fogm2m_remove_netavark_table $t
  done
  if [ "$fogm2m_ip_forward_before" = 0 ]; then echo 0 >/proc/sys/net/ipv4/ip_forward; fi
  if [ -z "$(podman ps -aq 2>/dev/null)" ]; then
    rm -rf "$FOGM2M_PODMAN_RUN"
    if [ "$fogm2m_run_containers_before" = 0 ]; then rm -rf /run/containers; fi
  fi
  rm -rf "$WORK"
}
