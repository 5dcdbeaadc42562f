"""The deterministic measure: instructions per iteration of the gate's
microbenchmarks, counted by valgrind's callgrind.

Each gate benchmark has a fixed iteration count N (bench/gate_iterations.h).
It is run twice under callgrind, with FOGM2M_GATE_SCALE=1 (N iterations) and
=2 (2N); the difference of the two totals divided by N is the instructions
of one iteration, with process start-up, benchmark registration and the
benchmark's own set-up cancelled out. Two runs of the same binary differ by a
few dozen instructions in a hundred million (timing calls of the framework),
so the figure repeats to well under 0.01 %.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# The gate's benchmark binaries (in <build>/bench/); every benchmark in them is
# registered through gate<N>.
GATE_BINARIES = ("lwm2m_codecs_bench", "bus_json_bench", "node_path_bench", "des_kernel_bench")
# The binary with the injected slowdown linked in, by the binary it replaces
# (server/injected_slowdown.h): the power test's slower build.
SLOWED_BINARIES = {"node_path_bench": "node_path_bench_slowed"}
SLOWDOWN_ENV = "FOGM2M_INJECTED_SLOWDOWN_PERCENT"

_LISTED = re.compile(r"^(?P<base>.+)/iterations:(?P<n>\d+)$")
_COLLECTED = re.compile(r"Collected : (\d+)")


class GateError(Exception):
    """The measure could not be taken (missing tool or binary, a benchmark
    without a gate iteration count, valgrind failed)."""


@dataclass(frozen=True)
class GateBenchmark:
    binary: Path
    name: str  # as Google Benchmark names it, without "/iterations:N"
    iterations: int  # N: at FOGM2M_GATE_SCALE=1

    @property
    def metric(self) -> str:
        return f"{self.binary.name.removesuffix('_slowed')}/{self.name}"


def _environment(scale: int, slowdown_percent: float) -> dict[str, str]:
    """Always the same few variables: the environment is copied onto the
    stack before main(), so its size moves the stack's alignment, and with it
    the instructions of SIMD string routines on stack buffers (1,305 / 1,314 /
    1,334 for BM_ParseReplyHead with 0 / 35 / 87 more bytes of environment)."""
    env = {"PATH": "/usr/bin:/bin", "FOGM2M_GATE_SCALE": str(scale)}
    if slowdown_percent:
        env[SLOWDOWN_ENV] = f"{slowdown_percent:g}"
    return env


def list_benchmarks(binary: Path) -> list[GateBenchmark]:
    """The gate benchmarks of `binary`; GateError for one that does not
    follow FOGM2M_GATE_SCALE."""
    names = {}
    for scale in (1, 2):
        out = subprocess.run([str(binary), "--benchmark_list_tests"], env=_environment(scale, 0),
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise GateError(f"{binary} --benchmark_list_tests failed: {out.stderr.strip()}")
        listed = {}
        for line in out.stdout.split():
            m = _LISTED.match(line)
            if not m:
                raise GateError(f"{binary.name}: benchmark {line} has no gate iteration count "
                                "(register it with ->Apply(fogm2m::bench::gate<N>))")
            listed[m["base"]] = int(m["n"])
        names[scale] = listed
    for base, n in names[1].items():
        if names[2].get(base) != 2 * n:
            raise GateError(f"{binary.name}/{base}: iterations do not follow FOGM2M_GATE_SCALE")
    return [GateBenchmark(binary, base, n) for base, n in names[1].items()]


def _collected(bench: GateBenchmark, scale: int, slowdown_percent: float) -> int:
    # The binary runs as a copy in a fresh folder of a fixed-length name: its
    # path and the working directory end up on the heap, and a longer build
    # path shifts every later allocation, which moves the alignment SIMD
    # string routines see (+2 % on a 1,300-instruction benchmark between
    # /work/main/build and /tmp/ci-clean/build, same binary).
    with tempfile.TemporaryDirectory(prefix="fogm2m-gate-", dir="/tmp") as tmp:
        shutil.copy2(bench.binary, Path(tmp) / "bench")
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/callgrind.out",
                   "./bench", f"--benchmark_filter=^{re.escape(bench.name)}/iterations:"]
        out = subprocess.run(command, env=_environment(scale, slowdown_percent), cwd=tmp,
                             capture_output=True, text=True, check=False)
    counts = _COLLECTED.findall(out.stderr)
    if out.returncode != 0 or not counts:
        tail = "\n".join(out.stderr.strip().splitlines()[-5:])
        raise GateError(f"callgrind on {bench.metric} (scale {scale}) failed:\n{tail}")
    return int(counts[-1])


def instructions_per_iteration(bench: GateBenchmark, slowdown_percent: float = 0) -> float:
    one = _collected(bench, 1, slowdown_percent)
    two = _collected(bench, 2, slowdown_percent)
    return (two - one) / bench.iterations


def gate_binaries(build_dir: Path, slowdown_percent: float = 0,
                  only: tuple[str, ...] = ()) -> list[Path]:
    """The gate's binaries in `build_dir`; the slowed twins when a slowdown
    is asked for. `only` keeps those named."""
    binaries = []
    for name in GATE_BINARIES:
        if only and name not in only:
            continue
        if slowdown_percent and name in SLOWED_BINARIES:
            name = SLOWED_BINARIES[name]
        path = (build_dir / "bench" / name).resolve()
        if not os.access(path, os.X_OK):
            raise GateError(f"{path} is missing: build the benchmarks first "
                            f"(cmake --build {build_dir} --target {name})")
        binaries.append(path)
    return binaries


def measure(build_dir: Path, slowdown_percent: float = 0, only: tuple[str, ...] = (),
            jobs: int = 0, progress=print) -> dict[str, float]:
    """Instructions per iteration of every gate benchmark built in
    `build_dir`, by metric name ("node_path_bench/BM_NodeRequest")."""
    if subprocess.run(["valgrind", "--version"], capture_output=True, check=False).returncode:
        raise GateError("valgrind is missing (Debian package valgrind; scripts/install-deps.sh)")
    benches = [b for binary in gate_binaries(build_dir, slowdown_percent, only)
               for b in list_benchmarks(binary)]
    jobs = jobs or os.cpu_count() or 1
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(instructions_per_iteration, b, slowdown_percent): b
                   for b in benches}
        for future in concurrent.futures.as_completed(futures):
            bench = futures[future]
            results[bench.metric] = future.result()
            progress(f"  {bench.metric}: {results[bench.metric]:,.1f} instructions per iteration")
    return dict(sorted(results.items()))
