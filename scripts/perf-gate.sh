#!/usr/bin/env bash
# The performance-regression gate (gate/perf_gate.py): builds this tree as
# scripts/test.sh does, then measures it against bench/baseline/baseline.json.
#
#   ./scripts/perf-gate.sh                    instructions of the hot paths (~1 min after the build)
#   PERF_GATE=full ./scripts/perf-gate.sh     and scenarios/ci.yaml, 9 interleaved runs per build
#   ./scripts/perf-gate.sh --update-baseline --reason "why"
#
# Other arguments go to gate/perf_gate.py (--help lists them). Exit status:
# 0 pass, 1 regression, 2 could not measure. The scenario runs need root
# (namespaces, cgroups, nftables), like every testbed run.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/build.sh

bash scripts/install-deps.sh || exit 2
BUILD="${FOGM2M_BUILD_DIR:-build}"
targets="lwm2m_codecs_bench bus_json_bench node_path_bench des_kernel_bench"
measure=()
if [ "${PERF_GATE:-}" = full ]; then
  targets="$targets fogm2m"
  measure=(--measure all)
fi
FOGM2M_TARGETS="$targets" fogm2m_build "$BUILD" -DFOGM2M_WERROR=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG" >"$BUILD.perf-gate-build.log" 2>&1 \
  || { tail -30 "$BUILD.perf-gate-build.log"; echo "perf-gate: build failed" >&2; exit 2; }
# Debian's python3: install-deps.sh puts matplotlib there.
exec /usr/bin/python3 gate/perf_gate.py --build "$BUILD" "${measure[@]}" "$@"
