"""Curves out of records: one value per point, averaged over repetitions.

A curve is what one line of a figure shows: the points of one (mode, dtls,
devices, nodes, variant) at increasing request rates. The variant names the
other sweep parameters (CPU quota, fleets ...) when a sweep varies them, so
points that differ in them are never averaged together; it is "" when they
are constant over the run.
"""

from __future__ import annotations

import pandas as pd

from .records import POINT_COLUMNS
from .spread import INTERVAL_METRICS, mean_interval

CURVE_KEY = ["mode", "dtls", "devices", "nodes", "variant"]
POINT_KEY = CURVE_KEY + ["request_rate"]

# Columns averaged over the repetitions of a point; _median/_min/_max keep the
# spread, and the metrics of spread.INTERVAL_METRICS also _ci_low/_ci_high
# (bootstrap 95 % interval of the mean).
METRICS = [
    "latency_mean_below_p95_ms", "latency_mean_ms", "latency_p50_ms", "latency_p90_ms", "latency_p99_ms",
    "latency_p999_ms", "latency_max_ms", "node_throttling_ratio_mean", "node_throttling_ratio_max",
    "node_cpu_s_mean", "node_cpu_ms_per_1000_messages", "memory_mean_mb", "memory_peak_mb", "throughput_bytes_s", "achieved_rate",
    "requests_sent", "requests_answered", "requests_errored", "requests_timed_out", "notifications_received",
    "memory_limit_mb", "gateway_cpu_ms_per_1000_requests", "gateway_added_p50_ms", "gateway_added_p99_ms",
]

_VARIANT_COLUMNS = [c for c in POINT_COLUMNS if c not in ("devices", "nodes", "request_rate", "dtls")]


def varying_columns(records: pd.DataFrame) -> list[str]:
    """Point parameters besides the four figure axes that take more than one value."""
    return [c for c in _VARIANT_COLUMNS if records[c].nunique(dropna=True) > 1]


def with_variant(records: pd.DataFrame, varying: list[str]) -> pd.DataFrame:
    """`records` with a "variant" column, e.g. "cpu_quota_us=25000, fleets=2"."""
    records = records.copy()
    if not varying or records.empty:
        records["variant"] = ""
        return records

    def label(row: pd.Series) -> str:
        return ", ".join(f"{c}={_number(row[c])}" for c in varying)

    records["variant"] = records.apply(label, axis=1)
    return records


SPREAD_SUFFIXES = ("", "_median", "_min", "_max")
INTERVAL_SUFFIXES = ("_ci_low", "_ci_high")


def point_columns() -> list[str]:
    """The columns of average_points(), in order."""
    return POINT_KEY + ["transport", "repetitions"] + [
        f"{m}{s}" for m in METRICS
        for s in SPREAD_SUFFIXES + (INTERVAL_SUFFIXES if m in INTERVAL_METRICS else ())]


def average_points(records: pd.DataFrame) -> pd.DataFrame:
    """One row per point (POINT_KEY): mean of every metric over the
    repetitions, plus <metric>_median/_min/_max, for INTERVAL_METRICS
    <metric>_ci_low/_ci_high, and `repetitions`. `records` must already have
    the variant column and no failed rows."""
    if records.empty:
        text = {"mode", "variant", "transport"}
        return pd.DataFrame({c: pd.Series(dtype=object if c in text else float) for c in point_columns()})
    grouped = records.groupby(POINT_KEY, sort=True, dropna=False)
    named = {"repetitions": ("repetition", "size"), "transport": ("transport", "first")}
    for m in METRICS:
        named[m] = (m, "mean")
        named[f"{m}_median"] = (m, "median")
        named[f"{m}_min"] = (m, "min")
        named[f"{m}_max"] = (m, "max")
        if m in INTERVAL_METRICS:
            named[f"{m}_ci_low"] = (m, lambda v: mean_interval(v)[0])
            named[f"{m}_ci_high"] = (m, lambda v: mean_interval(v)[1])
    return grouped.agg(**named).reset_index()[point_columns()]


def curves(points: pd.DataFrame):
    """Yields (key dict, curve DataFrame sorted by request rate) per curve."""
    if points.empty:
        return
    for key, curve in points.groupby(CURVE_KEY, sort=True, dropna=False):
        yield dict(zip(CURVE_KEY, key)), curve.sort_values("request_rate")


def _number(value) -> str:
    """12.0 -> "12", 0.5 -> "0.5"."""
    if pd.isna(value):
        return "?"
    return f"{value:g}"
