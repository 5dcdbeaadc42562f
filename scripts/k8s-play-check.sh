#!/usr/bin/env bash
# Checks docker/k8s/ with `podman play kube` (podman 4.3.1, as root), as far
# as podman goes: it plays Pods and Deployments only, and ignores Services and
# Secrets. So this script, on the manifests' own text:
#   - plays each Deployment as it is, and each StatefulSet as the Pods its
#     controller would make (<name>-0 .. <name>-N-1, host name = pod name),
#   - gives each pod the names of the Services that select it as DNS aliases
#     on one podman network (a Service's name, not its load balancing),
#   - mounts the gateway's Secret volume from a folder (no Secret volumes in
#     4.3), and drops containerPorts (4.3 publishes them on the host's same
#     port) and the readiness probe (on a named port),
#   - swaps the image names for the images built from this tree
#     (scripts/lib/podman.sh, the container test's cache),
# then checks that every pod runs, that every container's cgroup has the
# limits its manifest asks for (CPU quota, memory), that the nodes took their
# pod names as --id, that the fleet's devices registered, and that the gateway
# answers a read of a device over the bus (from the host, on the pod's address
# on podman's bridge). Plays everything down and puts the host back.
# Not part of scripts/test.sh (about 40 s warm); run it after changing docker/k8s/.
#
# Environment: FOGM2M_BIN (default build/cli/fogm2m), FOGM2M_CONTAINER_CACHE.
set -euo pipefail
cd "$(dirname "$0")/.."
FOGM2M_ROOT=$PWD
START=$SECONDS
source scripts/lib/podman.sh

BIN="${FOGM2M_BIN:-${FOGM2M_BUILD_DIR:-build}/cli/fogm2m}"
NETWORK=fogm2m-k8s-check

say() { echo "k8s-play-check: $* (at $((SECONDS - START))s)"; }
fail() { echo "k8s-play-check: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (rootful podman)"
[ -x "$BIN" ] || fail "no fogm2m binary at $BIN (build first, or set FOGM2M_BIN)"
fogm2m_podman_setup

played=()
on_exit() {
  local status=$? f
  if [ $status -ne 0 ]; then
    for c in $(podman ps -a --format '{{.Names}}' 2>/dev/null | grep -v -- '-infra$'); do
      echo "--- logs of $c" >&2
      podman logs --tail 15 "$c" >&2 2>&1 || true
    done
  fi
  for f in "${played[@]}"; do podman play kube --down "$f" >/dev/null 2>&1 || true; done
  podman network rm -f "$NETWORK" >/dev/null 2>&1 || true
  fogm2m_podman_restore_host
  exit $status
}
trap on_exit EXIT
trap 'exit 130' INT TERM

fogm2m_podman_images "$BIN"
# The gateway's Secret volume, as a folder holding its key "token".
mkdir -p "$WORK/secret"
TOKEN_FILE="$WORK/secret/token"
head -c 32 /dev/urandom | base64 >"$TOKEN_FILE"

# One file per workload under $WORK/play, and $WORK/play/plan.json: for each
# file, its pods' aliases and each container's expected limits.
mkdir -p "$WORK/play"
python3 - "$WORK/play" "$FOGM2M_IMAGE" "$REDIS_IMAGE" "$TOKEN_FILE" docker/k8s/*.yaml <<'PY'
import copy, json, sys, yaml

out, fogm2m_image, redis_image, token_file, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
docs = [d for f in files for d in yaml.safe_load_all(open(f)) if d and d.get("kind") != "Kustomization"]
services = [d for d in docs if d["kind"] == "Service"]
images = {"fogm2m:latest": fogm2m_image, "docker.io/library/redis:7": redis_image}

def cpu_quota(text):  # "250m" -> 25000 (per 100000 us), "1" -> 100000
    return int(float(text[:-1]) * 100) if text.endswith("m") else int(float(text) * 100000)

def memory_bytes(text):
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 10**3, "M": 10**6, "G": 10**9}
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * factor)
    return int(text)

def prepare(spec):
    for c in spec["containers"]:
        c["image"] = images.get(c["image"], c["image"])
        c["imagePullPolicy"] = "Never"
        # podman 4.3 publishes a containerPort without hostPort on the host's
        # same port: the pods are reached on podman's bridge instead.
        c.pop("ports", None)
        c.pop("readinessProbe", None)
    for v in spec.get("volumes", []):
        if "secret" in v:  # podman 4.3: no Secret volumes; the token from a file
            del v["secret"]
            v["hostPath"] = {"path": token_file.rsplit("/", 1)[0], "type": "Directory"}
    return spec

def limits(spec):
    return {c["name"]: {"cpu_quota": cpu_quota(c["resources"]["limits"]["cpu"]) if "cpu" in c.get("resources", {}).get("limits", {}) else -1,
                        "memory": memory_bytes(c["resources"]["limits"]["memory"]) if "memory" in c.get("resources", {}).get("limits", {}) else None}
            for c in spec["containers"]}

def aliases(labels):
    return [s["metadata"]["name"] for s in services
            if s["spec"].get("selector") and all(labels.get(k) == v for k, v in s["spec"]["selector"].items())]

plan, n = [], 0
for d in docs:
    kind, name = d["kind"], d["metadata"]["name"]
    if kind == "Deployment":
        spec = prepare(copy.deepcopy(d["spec"]["template"]["spec"]))
        doc = copy.deepcopy(d)
        doc["spec"]["template"]["spec"] = spec
        pods = [name + "-pod-0"]
    elif kind == "StatefulSet":
        pods = []
        for i in range(d["spec"].get("replicas", 1)):
            pod = f"{name}-{i}"
            spec = prepare(copy.deepcopy(d["spec"]["template"]["spec"]))
            spec["hostname"] = pod
            doc = {"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": pod, "labels": d["spec"]["template"]["metadata"]["labels"]}, "spec": spec}
            n += 1
            path = f"{out}/{n:02d}-{pod}.yaml"
            yaml.safe_dump(doc, open(path, "w"))
            plan.append({"file": path, "pods": [pod], "aliases": aliases(doc["metadata"]["labels"]), "limits": limits(spec), "role": name})
        continue
    else:
        continue
    n += 1
    path = f"{out}/{n:02d}-{name}.yaml"
    yaml.safe_dump(doc, open(path, "w"))
    plan.append({"file": path, "pods": pods, "aliases": aliases(d["spec"]["template"]["metadata"]["labels"]),
                 "limits": limits(spec), "role": name})
json.dump(plan, open(f"{out}/plan.json", "w"), indent=1)
PY
podman network create "$NETWORK" >/dev/null
mapfile -t files < <(python3 -c 'import json, sys; [print(p["file"]) for p in json.load(open(sys.argv[1]))]' "$WORK/play/plan.json")
for f in "${files[@]}"; do
  alias_opts=$(python3 -c 'import json, sys; p = [p for p in json.load(open(sys.argv[1])) if p["file"] == sys.argv[2]][0]; print(",".join("alias=" + a for a in p["aliases"]))' "$WORK/play/plan.json" "$f")
  say "play kube $(basename "$f") (aliases: ${alias_opts:-none})"
  podman play kube --network "$NETWORK${alias_opts:+:$alias_opts}" "$f" >"$WORK/play.log" 2>&1 \
    || { cat "$WORK/play.log" >&2; fail "play kube $f"; }
  played+=("$f")
done
sleep 3

# Every container running, with its manifest's limits.
python3 -c 'import json, sys
for p in json.load(open(sys.argv[1])):
    for pod in p["pods"]:
        for c, l in p["limits"].items():
            print(pod + "-" + c, l["cpu_quota"], l["memory"] or "none")' "$WORK/play/plan.json" >"$WORK/expect"
while read -r container quota memory; do
  [ "$(podman inspect -f '{{.State.Running}}' "$container" 2>/dev/null)" = true ] || fail "$container is not running"
  # cgroup v1 (this machine): no CPU limit reads -1.
  in_cgroup=$(podman exec "$container" cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/memory/memory.limit_in_bytes | tr '\n' ' ')
  [ "${in_cgroup%% *}" = "$quota" ] || fail "$container: cpu.cfs_quota_us ${in_cgroup%% *}, want $quota"
  [ "$memory" = none ] || [ "$in_cgroup" = "$quota $memory " ] || fail "$container: memory.limit_in_bytes $in_cgroup, want $memory"
  say "$container running; cgroup cpu.cfs_quota_us and memory.limit_in_bytes: $in_cgroup"
done <"$WORK/expect"

redis_container=$(podman ps --format '{{.Names}}' | grep -m1 -- '-redis$')
redis() { podman exec "$redis_container" redis-cli "$@"; }
devices=$(sed -nE 's/.*"--devices", *"([0-9]+)".*/\1/p' docker/k8s/fleet.yaml)
registered=0
for _ in $(seq 120); do
  registered=$(redis --scan --pattern 'REG:EP:*' | grep -c . || true)
  [ "$registered" -ge "$devices" ] && break
  sleep 0.5
done
[ "$registered" -eq "$devices" ] || fail "$registered of $devices registrations"
nodes=$(redis zrange NODES 0 -1 | sort | tr '\n' ' ')
say "$registered registrations; nodes: $nodes"
[ "$nodes" = "fogm2m-node-0 fogm2m-node-1 " ] || fail "node ids $nodes, want the pod names"

gateway_ip=$(podman exec fogm2m-gateway-pod-0-gateway ip -4 -o addr show eth0 | awk '{ sub("/.*", "", $4); print $4 }')
answer=$(curl -sS --max-time 10 -H "Authorization: Bearer $(cat "$TOKEN_FILE")" \
  "http://$gateway_ip:8080/api/clients/dev-0/3313/0/5702?timeout=5") || fail "REST read at $gateway_ip"
grep -q '"success":true' <<<"$answer" || fail "read of dev-0: $answer"
say "gateway at $gateway_ip:8080 read dev-0 /3313/0/5702: $answer"
echo "k8s-play-check: passed in $((SECONDS - START))s"
