#!/usr/bin/env bash
# `fogm2m run --backend container` with what it needs, as root:
#   scripts/container-run.sh SCENARIO.yaml [more `fogm2m run` options]
# e.g. scripts/container-run.sh scenarios/quick.yaml --out out/quick-container
#
# Sets podman up as the container test does (scripts/lib/podman.sh: private
# configuration and storage in FOGM2M_CONTAINER_CACHE, default
# /var/cache/fogm2m/containers, whose lock it holds for the whole run), makes
# or finds the images (Debian 12 base, Redis, fogm2m packaged from FOGM2M_BIN,
# default build/cli/fogm2m), runs the scenario on containers
# (testbed/container_deployment.h) and puts back what podman changed on the
# host. The run removes its own containers and network, also on Ctrl-C; after
# a crash `fogm2m cluster down` removes them, from the run's record in
# /run/fogm2m (which names podman's configuration).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FOGM2M_ROOT=$ROOT
source "$ROOT/scripts/lib/podman.sh"

say() { echo "container-run: $*" >&2; }
fail() { echo "container-run: FAILED: $*" >&2; exit 1; }

[ $# -ge 1 ] || { sed -n '2,14p' "$0" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || fail "needs root (rootful podman, as the testbed)"
BIN="${FOGM2M_BIN:-$ROOT/${FOGM2M_BUILD_DIR:-build}/cli/fogm2m}"
[ -x "$BIN" ] || fail "no fogm2m binary at $BIN (build first, or set FOGM2M_BIN)"

fogm2m_podman_setup
trap fogm2m_podman_restore_host EXIT
fogm2m_podman_images "$BIN"
status=0
"$BIN" run --backend container --container-engine podman --image "$FOGM2M_IMAGE" \
  --redis-image "$REDIS_IMAGE" "$@" || status=$?
exit $status
