"""The baseline the gate compares against, kept in the repository
(bench/baseline/baseline.json), and the baseline commit's own build.

The file names the commit whose code it measured, why it was accepted, the
toolchain it was measured with, and the instruction counts of the gate's
microbenchmarks. Instruction counts are exact but belong to one toolchain:
another compiler, library or CPU feature level (glibc picks memcpy and
strlen by CPU) moves them. When the toolchain here differs, the stored
counts are not used: the gate builds the baseline commit and counts it here.
The statistical measure always runs the baseline commit's build, interleaved
with this tree's.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

FILE = Path("bench") / "baseline" / "baseline.json"
# Debian packages whose versions decide the instructions the gate counts.
PACKAGES = ("g++-12", "libc6", "libstdc++6", "libboost-json1.81-dev", "libboost1.81-dev",
            "libcoap3-dev", "libhiredis-dev", "libprotobuf-dev", "libbenchmark-dev",
            "libspdlog-dev", "libfmt-dev", "valgrind")
# CPU features glibc chooses string and memory routines by.
CPU_FEATURES = ("sse4_2", "avx", "avx2", "bmi2", "erms", "fsrm", "avx512f", "avx512bw")


@dataclass
class Baseline:
    commit: str
    reason: str
    accepted_unix_s: float
    toolchain: dict[str, str]
    instructions: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"commit": self.commit, "reason": self.reason,
                "accepted_unix_s": self.accepted_unix_s, "toolchain": self.toolchain,
                "instructions": self.instructions}


def load(path: Path) -> Baseline:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise SystemExit(f"perf-gate: no baseline at {path}; make one with --update-baseline")
    except json.JSONDecodeError as e:
        raise SystemExit(f"perf-gate: {path}:{e.lineno}: {e.msg}")
    try:
        return Baseline(commit=str(data["commit"]), reason=str(data["reason"]),
                        accepted_unix_s=float(data["accepted_unix_s"]),
                        toolchain=dict(data["toolchain"]),
                        instructions={k: float(v) for k, v in data["instructions"].items()})
    except (KeyError, TypeError, ValueError) as e:
        raise SystemExit(f"perf-gate: {path}: malformed baseline ({e!r})")


def save(path: Path, baseline: Baseline) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(baseline.to_json(), indent=2, sort_keys=True) + "\n")
    return path


def _run(command: list[str], cwd: Path | None = None) -> str:
    out = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    return out.stdout.strip() if out.returncode == 0 else ""


def _cmake_cache(build_dir: Path) -> dict[str, str]:
    """NAME -> value of build_dir/CMakeCache.txt (empty when there is none)."""
    cache = {}
    try:
        for line in (build_dir / "CMakeCache.txt").read_text().splitlines():
            if "=" in line and ":" in line.split("=", 1)[0]:
                key, value = line.split("=", 1)
                cache[key.split(":", 1)[0]] = value
    except FileNotFoundError:
        pass
    return cache


def _configuration(cache: dict[str, str]) -> dict[str, str]:
    """The cache entries a build's code depends on: build type, compiler,
    C++ flags (general and of the build type), warnings as errors."""
    build_type = cache.get("CMAKE_BUILD_TYPE", "")
    names = ["CMAKE_BUILD_TYPE", "CMAKE_CXX_COMPILER", "CMAKE_CXX_FLAGS",
             f"CMAKE_CXX_FLAGS_{build_type.upper()}", "FOGM2M_WERROR"]
    return {name: cache[name] for name in names if name in cache}


def toolchain(build_dir: Path) -> dict[str, str]:
    """What the instruction counts of `build_dir`'s binaries depend on."""
    cache = _cmake_cache(build_dir)
    build_type = cache.get("CMAKE_BUILD_TYPE", "")
    flags = " ".join(x for x in (cache.get("CMAKE_CXX_FLAGS", ""),
                                 cache.get(f"CMAKE_CXX_FLAGS_{build_type.upper()}", "")) if x)
    compiler = cache.get("CMAKE_CXX_COMPILER", "c++")
    version = _run([compiler, "--version"])
    features = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                features = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    result = {
        "compiler": version.splitlines()[0] if version else compiler,
        "build_type": build_type,
        "cxx_flags": flags,
        "cpu_features": " ".join(f for f in CPU_FEATURES if f in features),
    }
    for package in PACKAGES:
        result[package] = _run(["dpkg-query", "-W", "-f=${Version}", package]) or "absent"
    return result


def toolchain_differences(a: dict[str, str], b: dict[str, str]) -> list[str]:
    return [f"{k}: {a.get(k, 'absent')!r} vs {b.get(k, 'absent')!r}"
            for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def head_commit(root: Path) -> str:
    commit = _run(["git", "rev-parse", "HEAD"], cwd=root)
    if not commit:
        raise SystemExit(f"perf-gate: {root} is not a git checkout")
    return commit


def dirty_sources(root: Path) -> list[str]:
    """Changed or untracked files outside the baseline folder and out/."""
    out = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True,
                         text=True, check=False).stdout
    paths = [line[3:] for line in out.splitlines() if len(line) > 3]
    return [p for p in paths if not p.startswith(("bench/baseline/", "out/", "build"))]


def build_commit(root: Path, commit: str, like: Path, targets: tuple[str, ...],
                 progress=print) -> Path:
    """Builds `targets` of `commit` configured as the build `like` is (build
    type, compiler, flags), in a git worktree under <like>/gate-baseline kept
    as a cache for the next gate run; returns its build directory."""
    work_dir = like / "gate-baseline"
    cmake_args = [f"-D{name}={value}" for name, value in _configuration(_cmake_cache(like)).items()]
    source = work_dir / f"baseline-{commit[:12]}"
    build = work_dir / f"baseline-{commit[:12]}-build"
    if not (source / ".git").exists():
        work_dir.mkdir(parents=True, exist_ok=True)
        # One cached baseline at a time: the older ones go.
        for old in work_dir.glob("baseline-*"):
            if old.is_dir() and not old.name.endswith("-build"):
                subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=root,
                               capture_output=True, check=False)
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
            elif old.exists():
                old.unlink()
        subprocess.run(["git", "worktree", "prune"], cwd=root, check=False)
        out = subprocess.run(["git", "worktree", "add", "--detach", "--force", str(source), commit],
                             cwd=root, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise SystemExit(f"perf-gate: cannot check out baseline {commit}: {out.stderr.strip()}")
    started = time.monotonic()
    progress(f"  building baseline {commit[:12]} ({' '.join(targets)}) in {build}")
    log = work_dir / f"baseline-{commit[:12]}-build.log"
    jobs = os.environ.get("FOGM2M_JOBS", str(os.cpu_count() or 1))
    with open(log, "w") as out:
        ok = subprocess.run(["cmake", "-S", str(source), "-B", str(build), *cmake_args],
                            stdout=out, stderr=subprocess.STDOUT, check=False).returncode == 0
        for target in targets if ok else ():
            ok = subprocess.run(["cmake", "--build", str(build), "-j", jobs, "--target", target],
                                stdout=out, stderr=subprocess.STDOUT,
                                check=False).returncode == 0
            if not ok:
                break
    if not ok:
        raise SystemExit(f"perf-gate: building baseline {commit[:12]} failed; see {log}")
    progress(f"  baseline built in {time.monotonic() - started:.0f} s "
             f"({shlex.join(['cmake', '--build', str(build)])})")
    return build
