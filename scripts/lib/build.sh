# Shared by the top-level scripts: configure and build one build tree.
# Usage: fogm2m_build DIR [cmake args...]   (builds every target)
#        FOGM2M_TARGETS="a b" fogm2m_build DIR ...   (builds only those)

FOGM2M_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FOGM2M_JOBS="${FOGM2M_JOBS:-$(nproc)}"
# How CI builds (scripts/test.sh) and what the performance gate measures
# (scripts/perf-gate.sh): optimised as shipped (-O2, NDEBUG) but without
# debug info, a quarter less compile time; warnings are errors.
FOGM2M_CI_CMAKE_ARGS=(-DFOGM2M_WERROR=ON "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG")

fogm2m_build() {
  local dir="$1"; shift
  # A new build tree uses Ninja (finer-grained scheduling than make on 2
  # cores); an existing one keeps the generator it was made with.
  local generator=()
  if [ ! -f "$dir/CMakeCache.txt" ] && command -v ninja >/dev/null 2>&1; then
    generator=(-G Ninja)
  fi
  cmake -S "$FOGM2M_ROOT" -B "$dir" "${generator[@]}" -DCMAKE_BUILD_TYPE="${FOGM2M_BUILD_TYPE:-RelWithDebInfo}" "$@" >"$dir.configure.log" 2>&1 \
    || { cat "$dir.configure.log" >&2; echo "configure of $dir failed" >&2; return 1; }
  local targets=()
  for t in ${FOGM2M_TARGETS:-}; do targets+=(--target "$t"); done
  cmake --build "$dir" -j"$FOGM2M_JOBS" "${targets[@]}"
}
