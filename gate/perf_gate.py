#!/usr/bin/env python3
"""fogm2m's performance-regression gate: measures this tree and compares it
with the baseline kept in bench/baseline/baseline.json.

  perf_gate.py                       instructions of the hot-path
                                     microbenchmarks (callgrind; ~1 min)
  perf_gate.py --measure all         and scenarios/ci.yaml on a real
                                     cluster, 9 runs each of the baseline's
                                     build and this one, interleaved
  perf_gate.py --update-baseline --reason "why"
                                     accept this tree's counts as the new
                                     baseline (commit the file, say why)

Prints one table (metric, baseline, now, change, p-value or spread,
verdict), writes comparison.json and index.html (with plots) to --out and
exits 1 on a regression, 2 when it could not measure, 0 otherwise.
scripts/perf-gate.sh builds the tree first; see the README, "Performance gate".
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "gate"))

from fogm2m_gate import baseline as baseline_file  # noqa: E402
from fogm2m_gate import instructions, scenario_ab, verdict  # noqa: E402
from fogm2m_gate.page import write_page  # noqa: E402


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="perf-gate", description=__doc__.split("\n\n")[0])
    p.add_argument("--measure", choices=("instructions", "scenario", "all"),
                   default="instructions",
                   help="instructions (deterministic, default), scenario (statistical) or all")
    p.add_argument("--build", type=Path, default=ROOT / "build",
                   help="the build of this tree (default: build)")
    p.add_argument("--out", type=Path, help="where comparison.json and index.html go "
                   "(default: out/gate-<date>)")
    p.add_argument("--repetitions", type=int, default=9,
                   help="scenario runs per build (default 9; at least 5)")
    p.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "ci.yaml")
    p.add_argument("--baseline", type=Path, default=ROOT / baseline_file.FILE,
                   help="the baseline file (default: bench/baseline/baseline.json)")
    p.add_argument("--update-baseline", action="store_true",
                   help="accept this tree's instruction counts and commit as the baseline")
    p.add_argument("--reason", help="why the new baseline is right (with --update-baseline)")
    p.add_argument("--slowdown", type=float, default=0, metavar="PERCENT",
                   help="test only: measure the builds with the injected slowdown "
                   "(node_path_bench_slowed, fogm2m_slowed) at PERCENT per message")
    p.add_argument("--only", action="append", default=[], metavar="BINARY",
                   help="count only these gate binaries (repeatable), e.g. node_path_bench")
    p.add_argument("--jobs", type=int, default=0, help="callgrind runs at once (default: CPUs)")
    args = p.parse_args(argv)
    if args.update_baseline and not args.reason:
        p.error("--update-baseline needs --reason: the baseline file records why")
    if args.update_baseline and (args.slowdown or args.only):
        p.error("--update-baseline measures the whole, shipped tree: no --slowdown or --only")
    if args.repetitions < 5:
        p.error("--repetitions below 5 cannot reach p < 0.05 with the U test")
    for name in args.only:
        if name not in instructions.GATE_BINARIES:
            p.error(f"--only {name}: not a gate binary ({', '.join(instructions.GATE_BINARIES)})")
    return args


def log(message: str) -> None:
    print(message, flush=True)


def update_baseline(args: argparse.Namespace) -> int:
    dirty = baseline_file.dirty_sources(ROOT)
    if dirty:
        log("perf-gate: the tree has changes that are not committed "
            f"({', '.join(dirty[:5])}{' ...' if len(dirty) > 5 else ''}); a baseline names "
            "the commit it measured: commit first")
        return 2
    log("perf-gate: counting instructions for the new baseline")
    counts = instructions.measure(args.build, jobs=args.jobs, progress=log)
    old = baseline_file.load(args.baseline) if args.baseline.exists() else None
    new = baseline_file.Baseline(commit=baseline_file.head_commit(ROOT), reason=args.reason,
                                 accepted_unix_s=time.time(),
                                 toolchain=baseline_file.toolchain(args.build),
                                 instructions=counts)
    if old:
        log(verdict.table(verdict.compare_instructions(old.instructions, counts)))
    path = baseline_file.save(args.baseline, new)
    log(f"perf-gate: new baseline {path} (commit {new.commit[:12]}); commit it "
        "with a message that says why")
    return 0


def baseline_counts(args: argparse.Namespace, base: baseline_file.Baseline,
                    notes: list[str]) -> dict[str, float]:
    here = baseline_file.toolchain(args.build)
    differences = baseline_file.toolchain_differences(base.toolchain, here)
    if not differences:
        return base.instructions
    notes.append("the baseline's toolchain differs from this one ("
                 + "; ".join(differences) + "): counted the baseline commit's build here")
    log(f"perf-gate: {notes[-1]}")
    build = baseline_file.build_commit(ROOT, base.commit, args.build,
                                       tuple(instructions.GATE_BINARIES), progress=log)
    return instructions.measure(build, only=tuple(args.only), jobs=args.jobs, progress=log)


def compare(args: argparse.Namespace) -> int:
    base = baseline_file.load(args.baseline)
    commit = baseline_file.head_commit(ROOT)
    dirty = bool(baseline_file.dirty_sources(ROOT))
    measures: list[dict] = []
    notes: list[str] = []
    started = time.monotonic()
    if args.measure in ("instructions", "all"):
        log(f"perf-gate: instructions per iteration (callgrind), {args.build}"
            + (f", injected slowdown {args.slowdown:g}%" if args.slowdown else ""))
        now = instructions.measure(args.build, args.slowdown, tuple(args.only), args.jobs,
                                   progress=log)
        before = baseline_counts(args, base, notes)
        if args.only:
            before = {k: v for k, v in before.items() if k.split("/")[0] in args.only}
        measures += verdict.compare_instructions(before, now)
    if args.measure in ("scenario", "all"):
        log(f"perf-gate: {args.scenario.name} on a real cluster, {args.repetitions} runs of "
            f"baseline {base.commit[:12]} and of this tree, interleaved")
        base_build = baseline_file.build_commit(ROOT, base.commit, args.build, ("fogm2m",),
                                                progress=log)
        now_binary = args.build / "cli" / ("fogm2m_slowed" if args.slowdown else "fogm2m")
        if not now_binary.exists():
            log(f"perf-gate: {now_binary} is missing: build it first")
            return 2
        b, n, units = scenario_ab.measure_ab(base_build / "cli" / "fogm2m", now_binary,
                                             args.scenario, args.repetitions,
                                             args.out / "runs", args.slowdown, progress=log)
        for name in sorted(set(b) | set(n)):
            measures.append(verdict.statistical(name, units[name], b.get(name, []),
                                                n.get(name, [])))
    result = verdict.overall(measures)
    comparison = {
        "commit": commit + ("-dirty" if dirty else ""), "baseline_commit": base.commit,
        "baseline_reason": base.reason, "generated_unix_s": time.time(),
        "measure": args.measure, "slowdown_percent": args.slowdown,
        "duration_s": time.monotonic() - started, "notes": notes,
        "verdict": result, "measures": measures,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "comparison.json").write_text(json.dumps(comparison, indent=2) + "\n")
    page = write_page(comparison, args.out)
    log("")
    log(verdict.table(measures))
    log("")
    failing = [m["name"] for m in measures if m["verdict"] in verdict.FAILING]
    log(f"perf-gate: {result.upper()} against baseline {base.commit[:12]} "
        f"({len(measures)} measures, {len(failing)} failing, "
        f"{time.monotonic() - started:.0f} s); {page}")
    return 1 if failing else 0


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.out is None:
        args.out = ROOT / "out" / time.strftime("gate-%Y%m%d-%H%M%S")
    args.build = args.build.resolve()
    args.out = args.out.resolve()
    try:
        return update_baseline(args) if args.update_baseline else compare(args)
    except (instructions.GateError, scenario_ab.RunFailed) as e:
        log(f"perf-gate: cannot measure: {e}")
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
