#!/usr/bin/env python3
"""Writes the report fixture tests/data/report/ (records.csv, metadata.json,
latency/*.u32): result records whose latency curves have known knees.

The files are checked in; run this only to change them, then update
EXPECTED_KNEES in test_report.py to match:
    python3 tests/analysis/make_report_fixture.py tests/data/report

Curves (mean latency below p95, ms, at 25, 50, 100, 150, 200 req/s; knee =
first rate above 2x the value at 25 req/s):
  emulate 50 devices 1 node CoAP   3 3.2 3.5 5 12     knee 200 (2 repetitions: 0.9x and 1.1x)
  emulate 50 devices 2 nodes CoAP  3 3 3.1 3.2 3.3    none (a failed repetition at 25 req/s
                                                      holds 100 ms: included, the knee would move)
  emulate 50 devices 1 node DTLS   5 5.5 6 15 40      knee 150
  emulate 50 devices 2 nodes DTLS  5 5 5.2 5.5 6      none
  emulate 100 devices 1 node CoAP  4 9 30 200 900     knee 50
  emulate 100 devices 2 nodes CoAP 3.5 3.6 4 7 20     knee 200 (7.0 is not above 7.0)
  emulate 100 devices 1 node DTLS  6 14 60 400 1500   knee 50
  emulate 100 devices 2 nodes DTLS 5.5 5.6 6 8 11.2   knee 200
  sim     50 devices 1 node CoAP   2.8 3 3.3 4.8 6    knee 200
  sim     50 devices 2 nodes CoAP  2.9 2.9 3 3.1 3.2  none
"""

import csv
import json
import sys
from pathlib import Path

import numpy as np

RATES = [25, 50, 100, 150, 200]
CURVES = {
    # (mode, devices, nodes, dtls): latencies at RATES
    ("emulate", 50, 1, 0): [3, 3.2, 3.5, 5, 12],
    ("emulate", 50, 2, 0): [3, 3, 3.1, 3.2, 3.3],
    ("emulate", 50, 1, 1): [5, 5.5, 6, 15, 40],
    ("emulate", 50, 2, 1): [5, 5, 5.2, 5.5, 6],
    ("emulate", 100, 1, 0): [4, 9, 30, 200, 900],
    ("emulate", 100, 2, 0): [3.5, 3.6, 4, 7, 20],
    ("emulate", 100, 1, 1): [6, 14, 60, 400, 1500],
    ("emulate", 100, 2, 1): [5.5, 5.6, 6, 8, 11.2],
    ("sim", 50, 1, 0): [2.8, 3, 3.3, 4.8, 6],
    ("sim", 50, 2, 0): [2.9, 2.9, 3, 3.1, 3.2],
}
REPEATED = ("emulate", 50, 1, 0)  # two repetitions, 0.9x and 1.1x the curve
SAMPLE_FILES = [("emulate", 50, 1, 0, 25), ("emulate", 50, 1, 0, 200), ("sim", 50, 1, 0, 200)]
WINDOW_S = 60.0

COLUMNS = ("scenario,mode,point_index,repetition,devices,nodes,request_rate,dtls,cpu_quota_us,cpu_period_us,"
           "memory_limit_mb,fleets,sampling_interval_ms,lifetime_s,fleet_cpu_quota_us,fleet_memory_limit_mb,"
           "window_s,requests_sent,requests_answered,requests_errored,requests_timed_out,achieved_rate,"
           "latency_mean_ms,latency_mean_below_p95_ms,latency_p50_ms,latency_p90_ms,latency_p99_ms,"
           "latency_p999_ms,latency_max_ms,node_throttling_ratio_mean,node_throttling_ratio_max,node_cpu_s_mean,"
           "node_memory_mean_bytes_mean,node_memory_peak_bytes_max,node_rx_bytes_mean,node_tx_bytes_mean,"
           "node_rx_packets_mean,node_tx_packets_mean,node_wakeups_mean,fleet_registered,fleet_notifications_sent,fleet_cpu_s,"
           "fleet_memory_peak_bytes,redis_cpu_s,redis_memory_peak_bytes,host_steal_ratio,host_speed_probe_us,"
           "notifications_received,latency_file,"
           "error").split(",")


def record(mode, point_index, repetition, devices, nodes, rate, dtls, latency, latency_file="", error=""):
    sent = int(rate * WINDOW_S)
    load = min(1.0, latency / 40.0)  # throttling grows with latency, saturating
    mb = 2**20
    return {
        "scenario": "report-fixture", "mode": mode, "point_index": point_index, "repetition": repetition,
        "devices": devices, "nodes": nodes, "request_rate": rate, "dtls": dtls, "cpu_quota_us": 25000,
        "cpu_period_us": 100000, "memory_limit_mb": 512, "fleets": 1, "sampling_interval_ms": 50,
        "lifetime_s": 300, "fleet_cpu_quota_us": 0, "fleet_memory_limit_mb": 0, "window_s": WINDOW_S,
        "requests_sent": sent, "requests_answered": sent, "requests_errored": 0, "requests_timed_out": 0,
        "achieved_rate": rate, "latency_mean_ms": round(latency * 1.1, 4), "latency_mean_below_p95_ms": latency,
        "latency_p50_ms": round(latency * 0.9, 4), "latency_p90_ms": round(latency * 1.5, 4),
        "latency_p99_ms": round(latency * 3, 4), "latency_p999_ms": round(latency * 5, 4),
        "latency_max_ms": round(latency * 8, 4), "node_throttling_ratio_mean": round(load, 4),
        "node_throttling_ratio_max": round(min(1.0, load * 1.2), 4), "node_cpu_s_mean": round(15 * load, 4),
        "node_memory_mean_bytes_mean": int((20 + 0.8 * devices / nodes + 2 * dtls) * mb),
        "node_memory_peak_bytes_max": int((24 + 0.9 * devices / nodes + 2 * dtls) * mb),
        "node_rx_bytes_mean": int(rate * WINDOW_S * 180 / nodes), "node_tx_bytes_mean": int(rate * WINDOW_S * 220 / nodes),
        "node_rx_packets_mean": int(rate * WINDOW_S * 2 / nodes), "node_tx_packets_mean": int(rate * WINDOW_S * 2 / nodes),
        "node_wakeups_mean": int(rate * WINDOW_S * 3 / nodes),
        "fleet_registered": devices, "fleet_notifications_sent": devices * 20 * WINDOW_S, "fleet_cpu_s": 3.5,
        "fleet_memory_peak_bytes": 64 * mb, "redis_cpu_s": 1.25, "redis_memory_peak_bytes": 8 * mb,
        "host_steal_ratio": 0 if mode == "sim" else 0.001, "host_speed_probe_us": 0 if mode == "sim" else 110,
        "notifications_received": devices * 20 * WINDOW_S, "latency_file": latency_file, "error": error,
    }


def samples_us(latency_ms: float, count: int, seed: int) -> np.ndarray:
    """Log-normal samples whose mean is about latency_ms."""
    rng = np.random.default_rng(seed)
    sigma = 0.5
    mu = np.log(latency_ms * 1000) - sigma**2 / 2
    return np.clip(rng.lognormal(mu, sigma, count), 1, 2**32 - 1).astype("<u4")


def main(out: Path) -> None:
    (out / "latency").mkdir(parents=True, exist_ok=True)
    rows = []
    next_index = {"emulate": 0, "sim": 1000}  # one results directory: file names must not collide
    for (mode, devices, nodes, dtls), latencies in CURVES.items():
        for rate, latency in zip(RATES, latencies):
            index = next_index[mode]
            next_index[mode] += 1
            reps = [latency * 0.9, latency * 1.1] if (mode, devices, nodes, dtls) == REPEATED else [latency]
            for rep, value in enumerate(reps):
                file = ""
                if (mode, devices, nodes, dtls, rate) in SAMPLE_FILES and rep == 0:
                    file = f"latency/{index}-{rep}.u32"
                    samples_us(value, 2000, seed=index * 10 + rep).tofile(out / file)
                rows.append(record(mode, index, rep, devices, nodes, rate, dtls, round(value, 4), file))
            if (mode, devices, nodes, dtls, rate) == ("emulate", 50, 2, 0, 25):
                rows.append(record(mode, index, 1, devices, nodes, rate, dtls, 100.0,
                                   error='deploy: node 2 did not start: "bind: address in use", gave up'))
    with open(out / "records.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

    scenario = {
        "name": "report-fixture", "mode": "MODE_EMULATE",
        "defaults": {"cpu_quota_us": 25000, "cpu_period_us": 100000, "memory_limit_mb": 512, "fleets": 1,
                     "sampling_interval_ms": 50, "lifetime_s": 300},
        "sweep": {"devices": [50, 100], "nodes": [1, 2], "request_rate": RATES, "dtls": [False, True]},
        "warmup_s": 10, "window_s": WINDOW_S, "observe_all": True, "observe_path": "/3313/0",
        "mix": [{"kind": "read", "path": "/3313/0/{xyz}", "weight": 1}], "repetitions": 1, "seed": "1",
        "request_timeout_s": 5,
    }
    metadata = {
        "fogm2m_version": "0.1.0", "git_revision": "fixture", "hostname": "fixture-host",
        "kernel": "Linux 6.1.0 #1 SMP x86_64", "cpu_model": "Fixture CPU @ 2.0GHz", "cpus": 2,
        "memory_bytes": 8 * 2**30, "cgroup_version": "v2", "scenario_file": "scenarios/report-fixture.yaml",
        "scenario_sha256": "0" * 64, "started_unix_s": 1764000000, "scenario": scenario,
    }
    (out / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "data" / "report")
