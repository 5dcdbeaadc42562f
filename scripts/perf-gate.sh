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
# The gate's benchmark binaries, as gate/fogm2m_gate/instructions.py lists them.
targets=$(/usr/bin/python3 -c 'import sys; sys.path.insert(0, "gate")
from fogm2m_gate.instructions import GATE_BINARIES; print(*GATE_BINARIES)') || exit 2
measure=()
if [ "${PERF_GATE:-}" = full ]; then
  targets="$targets fogm2m"
  measure=(--measure all)
fi
FOGM2M_TARGETS="$targets" fogm2m_build "$BUILD" "${FOGM2M_CI_CMAKE_ARGS[@]}" \
  >"$BUILD.perf-gate-build.log" 2>&1 \
  || { tail -30 "$BUILD.perf-gate-build.log"; echo "perf-gate: build failed" >&2; exit 2; }
# Debian's python3: install-deps.sh puts matplotlib there.
exec /usr/bin/python3 gate/perf_gate.py --build "$BUILD" "${measure[@]}" "$@"
