#!/usr/bin/env bash
# The container test (scripts/test.sh, stage "containers"), as root:
#   1. installs podman & co. when missing (scripts/install-deps.sh --containers),
#   2. builds, or finds in its cache, the images: a Debian 12 base made with
#      mmdebstrap (no registry here), Debian's Redis (docker/Dockerfile.redis)
#      and fogm2m packaged from the build tree's binary (docker/Dockerfile.prebuilt),
#   3. `podman-compose up` of docker/compose.yaml sized by its variables: Redis,
#      2 nodes (0.25 CPU, 512 MB), the nftables load balancer, a fleet of 50
#      devices and the gateway on a free port of 127.0.0.1,
#   4. checks: 50 REG:EP:* keys in Redis, endpoints owned by both nodes (the
#      balancer spreads them), the nodes' cgroup limits, the 50 registrations
#      at the gateway, and a read of a device's resource answered through the
#      gateway's REST API (a request over the Redis bus to the owning node),
#   5. `down`, then checks that no container, pod, volume or network of the
#      test is left, and puts back the host state podman's network backend
#      changed when it was not there before (its iptables tables and /run
#      files, net.ipv4.ip_forward).
# Prints "container-test: passed in Ns" or the failure and the containers' logs.
#
# Podman runs with private configuration and storage under its cache,
# FOGM2M_CONTAINER_CACHE (default /var/cache/fogm2m/containers), which keeps
# by design the base image, the Redis image and the last fogm2m test image
# (tagged with a hash of the binary and the files packaged with it); delete
# the folder to start cold (scripts/lib/podman.sh).
#
# Environment: FOGM2M_BIN (default $FOGM2M_BUILD_DIR/cli/fogm2m, build/cli/fogm2m),
# FOGM2M_CONTAINER_CACHE, FOGM2M_CT_KEEP=1 to leave the testbed running
# (then: podman-compose -p fogm2m-ct -f docker/compose.yaml down, with the
# CONTAINERS_* variables the script prints).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
START=$SECONDS
FOGM2M_ROOT=$ROOT
source scripts/lib/podman.sh

BIN="${FOGM2M_BIN:-${FOGM2M_BUILD_DIR:-build}/cli/fogm2m}"
PROJECT=fogm2m-ct
NETWORK="${PROJECT}_default"
DEVICES=50
NODES=2

say() { echo "container-test: $* (at $((SECONDS - START))s)"; }
fail() { echo "container-test: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (rootful podman, as the testbed)"
[ -x "$BIN" ] || fail "no fogm2m binary at $BIN (build first, or set FOGM2M_BIN)"
fogm2m_podman_setup

TOKEN_FILE="$WORK/gateway-token"
head -c 32 /dev/urandom | base64 >"$TOKEN_FILE"
chmod 600 "$TOKEN_FILE"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

compose() {
  podman-compose -p "$PROJECT" -f "$ROOT/docker/compose.yaml" "$@" >>"$WORK/compose.log" 2>&1
}

# Stops and removes the test's containers and network.
teardown() {
  compose down || true
  podman network rm -f "$NETWORK" >/dev/null 2>&1 || true
}
finished=0
on_exit() {
  local status=$?
  if [ "$finished" = 0 ]; then
    if [ "${FOGM2M_CT_KEEP:-0}" = 1 ]; then
      echo "container-test: left running; to stop it: CONTAINERS_CONF=$CONTAINERS_CONF CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF FOGM2M_IMAGE=${FOGM2M_IMAGE:-} REDIS_IMAGE=${REDIS_IMAGE:-} FOGM2M_GATEWAY_TOKEN_FILE=$TOKEN_FILE podman-compose -p $PROJECT -f docker/compose.yaml down; podman network rm $NETWORK" >&2
      exit $status
    fi
    if [ $status -ne 0 ]; then
      for c in $(podman ps -a --format '{{.Names}}' --filter "label=io.podman.compose.project=$PROJECT" 2>/dev/null); do
        echo "--- logs of $c" >&2
        podman logs --tail 20 "$c" >&2 2>&1 || true
      done
      if [ -f "$WORK/compose.log" ]; then echo "--- podman-compose" >&2; tail -30 "$WORK/compose.log" >&2; fi
    fi
    teardown
    fogm2m_podman_restore_host
  fi
  exit $status
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# --- images ------------------------------------------------------------------
fogm2m_podman_images "$BIN"
export FOGM2M_NODES=$NODES FOGM2M_DEVICES=$DEVICES
export FOGM2M_GATEWAY_PORT=$PORT FOGM2M_GATEWAY_TOKEN_FILE="$TOKEN_FILE"

# --- up ------------------------------------------------------------------------
# podman-compose 1.0.3: `down` first (it does not replace a stale stack), and it
# leaves its network behind.
compose down || true
podman network rm -f "$NETWORK" >/dev/null 2>&1 || true
say "compose up: Redis, $NODES nodes, load balancer, $DEVICES devices, gateway on 127.0.0.1:$PORT"
compose up -d --no-build || fail "podman-compose up"
for c in redis_1 node_1 node_2 lb_1 fleet_1 gateway_1; do
  [ "$(podman inspect -f '{{.State.Running}}' "${PROJECT}_$c" 2>/dev/null)" = true ] \
    || fail "container ${PROJECT}_$c is not running"
done

redis() { podman exec "${PROJECT}_redis_1" redis-cli "$@"; }

# --- checks ----------------------------------------------------------------------
registered=0
for _ in $(seq 120); do
  registered=$(redis --scan --pattern 'REG:EP:*' | grep -c . || true)
  [ "$registered" -ge "$DEVICES" ] && break
  sleep 0.5
done
[ "$registered" -eq "$DEVICES" ] || fail "$registered of $DEVICES registrations in Redis (REG:EP:*)"
say "$registered registrations in Redis"

owners=$(podman exec "${PROJECT}_redis_1" sh -c "redis-cli --scan --pattern 'EP#UID:*' | xargs -r redis-cli mget" | sort | uniq -c)
[ "$(grep -c . <<<"$owners")" -eq "$NODES" ] || fail "endpoints not spread over the $NODES nodes: $owners"
say "owners: $(tr -s ' \n' ' ' <<<"$owners")"

for n in 1 2; do
  limits=$(podman exec "${PROJECT}_node_$n" cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us \
    /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null \
    || podman exec "${PROJECT}_node_$n" cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/memory.max)
  # cgroup v1: quota, period, limit on three lines; v2: "25000 100000", limit.
  [ "$(tr '\n' ' ' <<<"$limits")" = "25000 100000 536870912 " ] \
    || fail "node_$n limits: $(tr '\n' ' ' <<<"$limits"), want 25000/100000 us and 512 MiB"
done

api() {
  curl -sS --max-time 10 -H "Authorization: Bearer $(cat "$TOKEN_FILE")" "http://127.0.0.1:$PORT/api/$1"
}
clients=0
for _ in $(seq 40); do
  clients=$(api clients 2>/dev/null | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo 0)
  [ "$clients" -eq "$DEVICES" ] && break
  sleep 0.5
done
[ "$clients" -eq "$DEVICES" ] || fail "the gateway lists $clients of $DEVICES registrations"

endpoint=dev-$((DEVICES - 1))
answer=$(api "clients/$endpoint/3313/0/5702?timeout=5") || fail "REST read of $endpoint"
python3 -c 'import json, sys; a = json.loads(sys.argv[1]); sys.exit(0 if a.get("success") and a["content"]["id"] == 5702 else 1)' "$answer" \
  || fail "read of $endpoint /3313/0/5702: $answer"
say "read $endpoint /3313/0/5702 through the gateway: $answer"

# --- down, and nothing left ----------------------------------------------------------
if [ "${FOGM2M_CT_KEEP:-0}" = 1 ]; then say "left running"; exit 0; fi
say "compose down"
teardown
left=$(podman ps -aq --filter "label=io.podman.compose.project=$PROJECT")
[ -z "$left" ] || fail "containers left: $left"
[ -z "$(podman pod ps -q)" ] || fail "pods left: $(podman pod ps -q)"
[ -z "$(podman volume ls -q)" ] || fail "volumes left: $(podman volume ls -q)"
! podman network exists "$NETWORK" || fail "network $NETWORK left"
# Kept by design: the cached images (base, Redis, this binary's fogm2m) and their layers.
kept=$(podman images --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>' | sort | tr '\n' ' ')
fogm2m_podman_restore_host
finished=1
say "nothing of the test left; images kept in $FOGM2M_PODMAN_CACHE: $kept"
echo "container-test: passed in $((SECONDS - START))s"
