#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (as root):
#   1. installs missing Debian packages, and checks that every C++ file is
#      formatted as .clang-format says (scripts/format.sh fixes them),
#   2. builds with warnings as errors and runs every test (ctest), then the
#      container test (scripts/container-test.sh: the binary in podman
#      containers, docker/compose.yaml up and down) and the runner's container
#      backend (scripts/container-backend-test.sh), then the performance
#      gate's instruction counts against the baseline,
#   3. builds with clang + ASan/UBSan + libFuzzer, runs the unit tests again
#      under the sanitizers and runs each fuzz target for a short while.
# Ends with one line "fogm2m-tests: N passed, M failed".
#
# Environment: FOGM2M_BUILD_DIR (default build), FUZZ_RUNS (default 300000
# inputs per fuzz target), FOGM2M_SKIP_SANITIZE=1 to skip step 3 while
# developing, FOGM2M_SKIP_CONTAINERS=1 to skip the container tests.
#
# Fuzzing here is a regression check, not a campaign: each target first runs
# every input of its corpus (tests/fuzz/corpus/<name>/, past finds
# included), then FUZZ_RUNS inputs mutated from a fixed seed, so the same
# tree fuzzes the same way on every machine and a red run names an input
# that reproduces. Longer campaigns: README, "Fuzzing".
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/build.sh

bash scripts/install-deps.sh || exit 1

BUILD="${FOGM2M_BUILD_DIR:-build}"
SAN_BUILD="${BUILD}-sanitize"
FUZZ_RUNS="${FUZZ_RUNS:-300000}"
passed=0
failed=0

# Adds the counts of a ctest log ("97% tests passed, 1 tests failed out of 34").
count_ctest() {
  local line total bad
  line=$(grep -E "tests passed, [0-9]+ tests? failed out of [0-9]+" "$1" | tail -1)
  if [ -z "$line" ]; then failed=$((failed + 1)); return; fi
  total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
  bad=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
  passed=$((passed + total - bad))
  failed=$((failed + bad))
}

stage() { echo "== $* (at ${SECONDS}s)"; }

stage "format"
if bash scripts/format.sh --check; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi

stage "build ($BUILD)"
# FOGM2M_CI_CMAKE_ARGS (scripts/lib/build.sh): the suite must stay well
# under 25 minutes on 2 cores. Builds dominate it: unity builds (CMakeLists.txt,
# FOGM2M_UNITY_BUILD) and Ninja keep them to about 6.5 + 6 minutes here.
if ! fogm2m_build "$BUILD" "${FOGM2M_CI_CMAKE_ARGS[@]}"; then
  echo "fogm2m-tests: 0 passed, 1 failed"; exit 1
fi
stage "ctest ($BUILD)"
ctest --test-dir "$BUILD" --output-on-failure -j"$FOGM2M_JOBS" 2>&1 | tee "$BUILD/ctest.log"
count_ctest "$BUILD/ctest.log"

# One pass or fail: about 15 s with its image cache (/var/cache/fogm2m),
# about 1 min cold (docker/README.md).
if [ "${FOGM2M_SKIP_CONTAINERS:-0}" != 1 ]; then
  stage "containers"
  if FOGM2M_BIN="$BUILD/cli/fogm2m" bash scripts/container-test.sh; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
  # The runner's container backend end to end (a 2-point scenario on podman,
  # about 30 s with the same image cache).
  if FOGM2M_BIN="$BUILD/cli/fogm2m" bash scripts/container-backend-test.sh; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
fi

# The performance gate's deterministic half (README, "Performance gate"):
# instructions of the hot paths against bench/baseline/baseline.json.
stage "performance gate: instructions ($BUILD)"
if /usr/bin/python3 gate/perf_gate.py --build "$BUILD" --out "$BUILD/perf-gate"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi

if [ "${FOGM2M_SKIP_SANITIZE:-0}" != 1 ]; then
  stage "sanitizer + fuzz build ($SAN_BUILD)"
  fuzzers=$(ls tests/fuzz/*_fuzz.cc 2>/dev/null | xargs -rn1 basename | sed 's/\.cc$//')
  if CC=clang CXX=clang++ FOGM2M_TARGETS="lwm2m_tests io_tests store_tests bus_tests server_tests gateway_tests emulated_clients_tests $fuzzers" \
     fogm2m_build "$SAN_BUILD" -DFOGM2M_SANITIZE=ON -DFOGM2M_FUZZ=ON -DFOGM2M_BENCH=OFF -DFOGM2M_UNITY_BUILD_HOT_PATH=ON \
       -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG"; then
    stage "ctest under ASan/UBSan"
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      ctest --test-dir "$SAN_BUILD" --output-on-failure -j"$FOGM2M_JOBS" -L '^(lwm2m|io|store|bus|server|gateway|emulated_clients)$' 2>&1 \
      | tee "$SAN_BUILD/ctest.log"
    count_ctest "$SAN_BUILD/ctest.log"
    for f in $fuzzers; do
      name=${f%_fuzz}
      work=$(mktemp -d)
      seeds="tests/fuzz/corpus/$name"
      echo "== fuzz $f: its corpus, then ${FUZZ_RUNS} inputs from seed 1"
      if "$SAN_BUILD/tests/fuzz/$f" -seed=1 -runs="$FUZZ_RUNS" -print_final_stats=1 \
           -artifact_prefix="$SAN_BUILD/$f-" "$work" $( [ -d "$seeds" ] && echo "$seeds" ) \
           >"$SAN_BUILD/$f.log" 2>&1; then
        passed=$((passed + 1))
        grep -E "stat::number_of_executed_units" "$SAN_BUILD/$f.log" | sed "s/^/  $f: /"
      else
        failed=$((failed + 1))
        tail -40 "$SAN_BUILD/$f.log"
        echo "  $f FAILED: reproducer in $SAN_BUILD/$f-*"
      fi
      rm -rf "$work"
    done
  else
    failed=$((failed + 1))
  fi
fi

stage "done"
echo "fogm2m-tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
