"""The statistical measure: scenarios/ci.yaml run on a real cluster, again and
again, alternating the baseline's build and this tree's on the same machine
in the same gate run, so both see the same machine, load and drift. The
pairs alternate their order too (A B, B A, A B ...): a first gate run with
A always first came out 9-14 % in favour of B at p = 0.05, for the same
code.

From each run's records, per sweep point: the node's CPU per 1,000 messages
(cgroup cpuacct over the window, divided by the requests answered plus the
notifications forwarded) and the latency percentiles of the answered
requests. Each build gets `repetitions` runs; mann_whitney.py compares the
two samples.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from fogm2m_analysis.records import node_cpu_ms_per_1000_messages

from .instructions import SLOWDOWN_ENV


class RunFailed(Exception):
    pass


def point_label(record: dict) -> str:
    point = record.get("point", {})
    return f"rate={point.get('request_rate', 0):g}"


def record_metrics(scenario: str, record: dict) -> dict[str, tuple[float, str]]:
    """Metric name -> (value, unit) of one record; RunFailed for a failed point."""
    label = f"{scenario} {point_label(record)}"
    if record.get("error"):
        raise RunFailed(f"{label}: {record['error']}")
    answered = record.get("requests_answered", 0)
    notifications = record.get("notifications_received", 0)
    cpu_s = sum(n.get("cpu_s", 0.0) for n in record.get("nodes", []))
    if answered + notifications <= 0 or cpu_s <= 0:
        raise RunFailed(f"{label}: no messages or no node CPU measured")
    latency = record.get("latency", {})
    cpu = node_cpu_ms_per_1000_messages(cpu_s, answered, notifications)
    return {
        f"{label} node CPU per 1000 messages": (cpu, "ms CPU"),
        f"{label} latency p50": (float(latency.get("p50_ms", 0.0)), "ms"),
        f"{label} latency p99": (float(latency.get("p99_ms", 0.0)), "ms"),
    }


def run_once(binary: Path, scenario_file: Path, out_dir: Path,
             slowdown_percent: float = 0) -> dict[str, tuple[float, str]]:
    env = dict(os.environ)
    env.pop(SLOWDOWN_ENV, None)
    if slowdown_percent:
        env[SLOWDOWN_ENV] = f"{slowdown_percent:g}"
    log = out_dir.with_suffix(".log")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        code = subprocess.run([str(binary), "run", str(scenario_file), "--out", str(out_dir)],
                              env=env, stdout=out, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, check=False).returncode
    if code != 0:
        raise RunFailed(f"{binary} run {scenario_file} exited {code}; see {log}")
    metrics = {}
    scenario = scenario_file.name
    for line in (out_dir / "records.jsonl").read_text().splitlines():
        if line.strip():
            metrics.update(record_metrics(scenario, json.loads(line)))
    return metrics


def measure_ab(baseline_binary: Path, now_binary: Path, scenario_file: Path, repetitions: int,
               out_dir: Path, slowdown_percent: float = 0,
               progress=print) -> tuple[dict[str, list[float]], dict[str, list[float]],
                                        dict[str, str]]:
    """(baseline samples, this tree's samples, unit) by metric name."""
    samples = {"baseline": {}, "now": {}}
    units = {}
    started = time.monotonic()
    order = (("baseline", baseline_binary, 0), ("now", now_binary, slowdown_percent))
    for rep in range(repetitions):
        # A B, B A, A B ...: neither build always goes first after the other.
        for side, binary, slowdown in order if rep % 2 == 0 else order[::-1]:
            metrics = run_once(binary, scenario_file, out_dir / f"{side}-{rep + 1}", slowdown)
            for name, (value, unit) in metrics.items():
                samples[side].setdefault(name, []).append(value)
                units[name] = unit
            cpu = ", ".join(f"{v:.2f}" for k, (v, _) in sorted(metrics.items()) if "CPU" in k)
            progress(f"  {side:8} run {rep + 1}/{repetitions}: node CPU ms per 1000 messages "
                     f"{cpu} ({time.monotonic() - started:.0f} s)")
    return samples["baseline"], samples["now"], units
