#!/usr/bin/env bash
# The container backend end to end (scripts/test.sh, stage "containers"), as
# root: runs tests/data/scenarios/container-tiny.yaml (`backend: container`:
# Redis, 1 node under 25 ms/100 ms and 512 MB, the nftables load balancer, a
# fleet of 10 devices, two points of 3 s) with real podman containers, then
# checks that
#   - both records have latency samples and no error, and node 1's CPU time,
#     throttling ratio, memory and network bytes, read from the container's
#     cgroup and /proc/<pid>/net/dev, and its cgroup counts CFS periods (its
#     CPU quota is in effect);
#   - the metadata names the container backend;
#   - nothing of the run is left: no container, pod or network of podman, no
#     record in /run/fogm2m, and the host's net.ipv4.ip_forward as it was.
# Shares the image cache of scripts/container-test.sh (scripts/lib/podman.sh):
# about 30 s once the images are there.
# Prints "container-backend-test: passed in Ns" or the failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
START=$SECONDS
FOGM2M_ROOT=$ROOT
source scripts/lib/podman.sh

BIN="${FOGM2M_BIN:-${FOGM2M_BUILD_DIR:-build}/cli/fogm2m}"
say() { echo "container-backend-test: $* (at $((SECONDS - START))s)"; }
fail() { echo "container-backend-test: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (rootful podman, as the testbed)"
[ -x "$BIN" ] || fail "no fogm2m binary at $BIN (build first, or set FOGM2M_BIN)"
BIN=$(readlink -f "$BIN")
fogm2m_podman_setup
trap fogm2m_podman_restore_host EXIT
fogm2m_podman_images "$BIN"
# After the images: a `podman build` turns it on as well (put back at the end
# by fogm2m_podman_restore_host); the run must leave it as it found it.
forward_before=$(cat /proc/sys/net/ipv4/ip_forward)
say "images $FOGM2M_IMAGE $REDIS_IMAGE"

OUT="$WORK/out"
"$BIN" run tests/data/scenarios/container-tiny.yaml --out "$OUT" --image "$FOGM2M_IMAGE" \
  --redis-image "$REDIS_IMAGE" --log-level warn 2>&1 | sed 's/^/  /' \
  || fail "fogm2m run"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "fogm2m run exited with ${PIPESTATUS[0]}"

python3 - "$OUT" <<'PY' || fail "records"
import json, sys
out = sys.argv[1]
records = [json.loads(l) for l in open(f"{out}/records.jsonl") if l.strip()]
assert len(records) == 2, f"{len(records)} records, want 2"
for r in records:
    assert not r.get("error"), r.get("error")
    lat = r.get("latency", {})
    assert r.get("requestsAnswered", r.get("requests_answered", 0)) > 0, "no request answered"
    assert lat.get("meanMs", lat.get("mean_ms", 0)) > 0, f"no latency: {lat}"
    nodes = r.get("nodes", [])
    assert len(nodes) == 1, f"{len(nodes)} node records"
    n = nodes[0]
    get = lambda k, c: n.get(k, n.get(c, 0))
    assert get("cpuS", "cpu_s") > 0, f"no node CPU from the container's cgroup: {n}"
    assert get("memoryMeanBytes", "memory_mean_bytes") > 0, f"no node memory: {n}"
    assert get("rxBytes", "rx_bytes") > 0 and get("txBytes", "tx_bytes") > 0, f"no node traffic: {n}"
    assert "throttlingRatio" in n or "throttling_ratio" in n or get("cpuS", "cpu_s") < 0.25 * 3, \
        f"no throttling ratio: {n}"
    print(f"  rate {r['point'].get('requestRate', r['point'].get('request_rate'))}: "
          f"mean {lat.get('meanMs', lat.get('mean_ms')):.2f} ms, node CPU {get('cpuS', 'cpu_s'):.3f} s, "
          f"throttling {get('throttlingRatio', 'throttling_ratio'):.3f}, "
          f"memory {get('memoryMeanBytes', 'memory_mean_bytes') / 2**20:.1f} MiB, "
          f"rx {get('rxBytes', 'rx_bytes'):.0f} B")
# cpu.stat's nr_periods grows only under a CFS quota: the node's is in effect.
import csv
rows = [r for r in csv.DictReader(open(f"{out}/samples/0-0.csv")) if r["target"] == "node1"]
periods = [float(r["nr_periods"]) for r in rows if r["nr_periods"]]
assert periods and max(periods) > 0, "node1 has no CFS periods: no CPU quota on its container?"
print(f"  node1: {len(rows)} samples, {max(periods):.0f} CFS periods")
meta = json.load(open(f"{out}/metadata.json"))
backend = meta.get("scenario", {}).get("backend")
assert backend in ("BACKEND_CONTAINER", 1), f"metadata backend {backend}"
PY
say "records checked"

left=$(podman ps -aq)
[ -z "$left" ] || fail "containers left: $(podman ps -a --format '{{.Names}}')"
[ -z "$(podman pod ps -q)" ] || fail "pods left: $(podman pod ps -q)"
nets=$(podman network ls --format '{{.Name}}' | grep -v '^podman$' || true)
[ -z "$nets" ] || fail "networks left: $nets"
records=$(ls /run/fogm2m/*.containers 2>/dev/null || true)
[ -z "$records" ] || fail "container records left: $records"
[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$forward_before" ] \
  || fail "net.ipv4.ip_forward is $(cat /proc/sys/net/ipv4/ip_forward), was $forward_before"
say "nothing of the run left"
echo "container-backend-test: passed in $((SECONDS - START))s"
