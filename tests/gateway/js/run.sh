#!/usr/bin/env bash
# Runs the gateway's JS tests (*.test.mjs here), each inside its own test
# cluster (../gateway_cluster.py: redis, a node, 3 emulated devices, the
# gateway). Usage: run.sh [NAME...]   (ui, stomp, sse; default: all)
# Environment: FOGM2M_BINARY_DIR (default: the repository's build/).
# Exit status: 0 when all pass, 77 (ctest: skipped) when the fogm2m binary
# is missing from that build, 1 otherwise.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
export FOGM2M_BINARY_DIR="${FOGM2M_BINARY_DIR:-$ROOT/build}"

if [ ! -x "$FOGM2M_BINARY_DIR/cli/fogm2m" ]; then
  echo "run.sh: no $FOGM2M_BINARY_DIR/cli/fogm2m (build the fogm2m target): skipped" >&2
  exit 77
fi

cd "$HERE" || exit 1
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null || { echo "run.sh: npm ci failed" >&2; exit 1; }
fi

names=("$@")
[ ${#names[@]} -eq 0 ] && names=($(ls *.test.mjs | sed 's/\.test\.mjs$//'))
failed=0
for name in "${names[@]}"; do
  test="$HERE/$name.test.mjs"
  [ -f "$test" ] || { echo "run.sh: no test $test" >&2; failed=1; continue; }
  echo "== $name"
  start=$SECONDS
  if /usr/bin/python3 "$ROOT/tests/gateway/gateway_cluster.py" --devices 3 -- node "$test"; then
    echo "== $name passed ($((SECONDS - start)) s)"
  else
    echo "== $name FAILED ($((SECONDS - start)) s)"
    failed=1
  fi
done
exit $failed
