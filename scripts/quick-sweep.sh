#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine (as root): installs missing
# Debian packages, builds fogm2m, runs scenarios/quick.yaml on a real cluster
# of this machine (its own Redis, nodes under cgroup quotas in their own
# network namespaces, the nftables load balancer, emulated fleets) and writes
# the HTML report with the reference study's plots.
#
# Environment: FOGM2M_BUILD_DIR (default build), SCENARIO (default
# scenarios/quick.yaml), OUT (default out/quick-<date>).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/build.sh

if [ "$(id -u)" -ne 0 ]; then
  echo "quick-sweep: run as root: the testbed makes network namespaces, cgroups and nftables rules" >&2
  exit 1
fi
bash scripts/install-deps.sh
BUILD="${FOGM2M_BUILD_DIR:-build}"
SCENARIO="${SCENARIO:-scenarios/quick.yaml}"
OUT="${OUT:-out/quick-$(date +%Y%m%d-%H%M%S)}"
echo "== build ($BUILD)"
FOGM2M_TARGETS=fogm2m fogm2m_build "$BUILD" >"$BUILD.build.log" 2>&1 || { tail -30 "$BUILD.build.log"; exit 1; }
echo "== run $SCENARIO -> $OUT"
status=0
"$BUILD/cli/fogm2m" run "$SCENARIO" --out "$OUT" || status=$?
[ -s "$OUT/records.csv" ] || exit "$status"
echo "== report"
"$BUILD/cli/fogm2m" report "$OUT"
exit "$status"
