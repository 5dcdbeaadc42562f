"""Loading a results directory written by the testbed runner or the simulator.

A results directory holds records.csv (one row per point and repetition, the
columns below, written by results/record_csv.cc), metadata.json (RunMetadata
of schema/result.proto, protobuf JSON with proto field names) and latency/
with raw samples. load_results() reads and checks them and adds the derived
columns every figure uses; it raises ResultsError with a message that names
the file and the problem, never a bare pandas traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

# records.csv columns, in the order results/record_csv.cc writes them.
COLUMNS = [
    "scenario", "mode", "point_index", "repetition", "devices", "nodes", "request_rate", "dtls",
    "cpu_quota_us", "cpu_period_us", "memory_limit_mb", "fleets", "sampling_interval_ms", "lifetime_s",
    "fleet_cpu_quota_us", "fleet_memory_limit_mb", "window_s", "requests_sent", "requests_answered",
    "requests_errored", "requests_timed_out", "achieved_rate", "latency_mean_ms", "latency_mean_below_p95_ms",
    "latency_p50_ms", "latency_p90_ms", "latency_p99_ms", "latency_p999_ms", "latency_max_ms",
    "node_throttling_ratio_mean", "node_throttling_ratio_max", "node_cpu_s_mean", "node_memory_mean_bytes_mean",
    "node_memory_peak_bytes_max", "node_rx_bytes_mean", "node_tx_bytes_mean", "node_rx_packets_mean",
    "node_tx_packets_mean", "node_wakeups_mean", "fleet_registered", "fleet_notifications_sent", "fleet_cpu_s",
    "fleet_memory_peak_bytes", "redis_cpu_s", "redis_memory_peak_bytes", "host_steal_ratio", "host_speed_probe_us",
    "notifications_received", "gateway_cpu_s", "gateway_cpu_ms_per_1000_requests", "gateway_memory_peak_bytes",
    "gateway_added_mean_ms", "gateway_added_p50_ms", "gateway_added_p99_ms",
    "latency_file", "error",
]
TEXT_COLUMNS = ["scenario", "mode", "latency_file", "error"]
# Columns added after the first results were written: older records.csv
# files lack them and read as empty there.
# The gateway_* columns are empty unless the load went through the gateway
# (`via: gateway`).
GATEWAY_COLUMNS = ["gateway_cpu_s", "gateway_cpu_ms_per_1000_requests", "gateway_memory_peak_bytes",
                   "gateway_added_mean_ms", "gateway_added_p50_ms", "gateway_added_p99_ms"]
LATER_COLUMNS = ["node_wakeups_mean", "host_steal_ratio", "host_speed_probe_us"] + GATEWAY_COLUMNS
NUMERIC_COLUMNS = [c for c in COLUMNS if c not in TEXT_COLUMNS]

# The fields of a sweep point (schema Point); the first four are the axes of
# the reference study's figures, the others become a curve's "variant" when
# a sweep varies them.
POINT_COLUMNS = [
    "devices", "nodes", "request_rate", "dtls", "cpu_quota_us", "cpu_period_us", "memory_limit_mb", "fleets",
    "sampling_interval_ms", "lifetime_s", "fleet_cpu_quota_us", "fleet_memory_limit_mb",
]
MODES = ("emulate", "sim")

# The reference study's latency figure is the mean of the samples below the
# 95th percentile; that is "the" latency of a point everywhere in the report.
LATENCY = "latency_mean_below_p95_ms"


class ResultsError(Exception):
    """A results directory that cannot be reported on; the message says why."""


@dataclass
class Results:
    """Everything read from one results directory."""

    directory: Path
    records: pd.DataFrame  # every row of records.csv plus derived columns
    metadata: dict | None  # metadata.json, None when absent
    warnings: list[str] = field(default_factory=list)  # problems that did not stop the report

    @property
    def ok(self) -> pd.DataFrame:
        """Rows of points that ran (empty error column): these are plotted."""
        return self.records[~self.records["failed"]]

    @property
    def failed(self) -> pd.DataFrame:
        """Rows with an error: tabulated, never plotted."""
        return self.records[self.records["failed"]]


def load_results(directory: str | Path) -> Results:
    """Reads records.csv and metadata.json of `directory`.

    Raises ResultsError when the directory or records.csv is missing or
    records.csv lacks a column. Cells that are not numbers where numbers
    belong, unknown modes and an unreadable metadata.json become warnings.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ResultsError(f"{directory}: not a directory")
    warnings: list[str] = []
    records = read_records_csv(directory / "records.csv", warnings)
    metadata = read_metadata(directory / "metadata.json", warnings)
    return Results(directory=directory, records=records, metadata=metadata, warnings=warnings)


def read_records_csv(path: Path, warnings: list[str]) -> pd.DataFrame:
    """records.csv as a DataFrame with typed and derived columns."""
    if not path.is_file():
        raise ResultsError(f"{path}: no such file (a results directory holds records.csv)")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise ResultsError(f"{path}: empty file (expected a header line)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise ResultsError(f"{path}: not a CSV file: {e}") from None
    for column in LATER_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ResultsError(f"{path}: missing column(s): {', '.join(missing)}")

    for column in NUMERIC_COLUMNS:
        text = frame[column].str.strip()
        numbers = pd.to_numeric(text, errors="coerce")
        bad = numbers.isna() & (text != "")
        if bad.any():
            lines = ", ".join(str(i + 2) for i in frame.index[bad][:5])
            warnings.append(f"{path.name}: column {column}: cells that are not numbers (line {lines}) read as empty")
        frame[column] = numbers.astype(float)
    for column in TEXT_COLUMNS:
        frame[column] = frame[column].fillna("").astype(str)

    unknown = ~frame["mode"].isin(MODES)
    if unknown.any():
        names = sorted(set(frame.loc[unknown, "mode"]))
        warnings.append(f"{path.name}: unknown mode(s) {names} treated as failed rows")
        frame.loc[unknown & (frame["error"] == ""), "error"] = "unknown mode"
    slowed = slowed_machine_rows(frame)
    if slowed.any():
        rows = ", ".join(f"point {int(p)} rep {int(r)}" for p, r in
                         frame.loc[slowed, ["point_index", "repetition"]].fillna(-1).itertuples(index=False))
        warnings.append(f"{path.name}: measured while the whole machine was slowed (speed probe above "
                        f"{SLOWED_PROBE_FACTOR}x its median, or steal above {SLOWED_STEAL_RATIO:.0%}): {rows}; "
                        f"sim calibrate and validate leave these out")
    missing_axes = frame[["devices", "nodes", "request_rate"]].isna().any(axis=1)
    if missing_axes.any():
        frame.loc[missing_axes & (frame["error"] == ""), "error"] = "no devices, nodes or request_rate value"

    return add_derived_columns(frame)


# The thresholds of results/slowed_machine.h (a test holds them equal).
SLOWED_PROBE_FACTOR = 1.25
SLOWED_STEAL_RATIO = 0.05


def slowed_machine_rows(frame: pd.DataFrame) -> pd.Series:
    """Rows measured on a slowed machine, as results/slowed_machine.h decides:
    steal above SLOWED_STEAL_RATIO, or a speed probe above SLOWED_PROBE_FACTOR
    times the median probe; rows without host figures are never flagged."""
    probe = frame["host_speed_probe_us"].where(frame["host_speed_probe_us"] > 0)
    median = probe.median()
    slow_probe = (probe > SLOWED_PROBE_FACTOR * median) if pd.notna(median) else pd.Series(False, index=frame.index)
    return slow_probe.fillna(False) | (frame["host_steal_ratio"].fillna(0) > SLOWED_STEAL_RATIO)


def add_derived_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns the figures use, computed once:
    failed (bool), transport ("CoAP"/"DTLS"), throughput_bytes_s per node
    ((rx + tx) / window), memory per node in MB, node CPU per 1,000 messages."""
    frame = frame.copy()
    frame["failed"] = frame["error"].str.strip() != ""
    frame["dtls"] = frame["dtls"].fillna(0).astype(int)
    frame["transport"] = np.where(frame["dtls"] != 0, "DTLS", "CoAP")
    for column in ("devices", "nodes"):
        frame[column] = frame[column].fillna(0).astype(int)
    window = frame["window_s"].where(frame["window_s"] > 0)
    frame["throughput_bytes_s"] = (frame["node_rx_bytes_mean"] + frame["node_tx_bytes_mean"]) / window
    frame["memory_mean_mb"] = frame["node_memory_mean_bytes_mean"] / 2**20
    frame["memory_peak_mb"] = frame["node_memory_peak_bytes_max"] / 2**20
    frame["node_cpu_ms_per_1000_messages"] = node_cpu_ms_per_1000_messages(
        frame["node_cpu_s_mean"] * frame["nodes"], frame["requests_answered"].fillna(0),
        frame["notifications_received"].fillna(0))
    return frame


def node_cpu_ms_per_1000_messages(node_cpu_s, requests_answered, notifications_received):
    """All nodes' CPU over the window (seconds) per 1,000 messages they handled
    (answered requests + forwarded notifications), in ms; NaN without
    messages. The performance gate's measure too (gate/fogm2m_gate/
    scenario_ab.py). Numbers or pandas Series alike."""
    messages = requests_answered + notifications_received
    cpu_ms = node_cpu_s * 1e3
    if isinstance(messages, pd.Series):
        return cpu_ms / (messages.where(messages > 0) / 1e3)
    return cpu_ms / (messages / 1e3) if messages > 0 else float("nan")


def read_metadata(path: Path, warnings: list[str]) -> dict | None:
    """metadata.json as a dict; None (and a warning) when absent or unreadable."""
    if not path.is_file():
        warnings.append(f"{path.name}: not found; the report has no run metadata")
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        warnings.append(f"{path.name}: unreadable ({e}); the report has no run metadata")
        return None
    if not isinstance(data, dict):
        warnings.append(f"{path.name}: not a JSON object; the report has no run metadata")
        return None
    return data
