"""The knee of a latency curve.

The knee is the lowest request rate whose mean latency exceeds FACTOR times
the curve's low-load value, the latency at the curve's lowest measured rate
(rates are walked upwards, the first one above the threshold is the knee).
A curve that never exceeds it has no knee ("none": the system kept up over
the whole range measured); a curve without a usable low-load value (no
points, or a low-load latency of 0) is "undetermined".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .aggregate import CURVE_KEY, curves
from .records import LATENCY

FACTOR = 2.0


@dataclass(frozen=True)
class Knee:
    status: str  # "knee", "none" or "undetermined"
    base_rate: float | None = None  # lowest rate of the curve
    base_latency_ms: float | None = None  # latency there
    threshold_ms: float | None = None  # FACTOR * base_latency_ms
    rate: float | None = None  # the knee (status "knee")
    latency_ms: float | None = None  # latency at the knee
    max_rate: float | None = None  # highest rate of the curve

    def describe(self) -> str:
        """"175 req/s", "none (up to 300 req/s)" or "undetermined"."""
        if self.status == "knee":
            return f"{self.rate:g} req/s"
        if self.status == "none":
            return f"none (up to {self.max_rate:g} req/s)"
        return "undetermined"


def find_knee(rates, latencies_ms, factor: float = FACTOR) -> Knee:
    """The knee of the curve given by parallel sequences of request rates and
    mean latencies (any order; points without a latency are ignored)."""
    pairs = sorted((float(r), float(l)) for r, l in zip(rates, latencies_ms)
                   if not _missing(r) and not _missing(l))
    if not pairs:
        return Knee(status="undetermined")
    base_rate, base_latency = pairs[0]
    max_rate = pairs[-1][0]
    if base_latency <= 0:
        return Knee(status="undetermined", base_rate=base_rate, base_latency_ms=base_latency, max_rate=max_rate)
    threshold = factor * base_latency
    for rate, latency in pairs[1:]:
        if latency > threshold:
            return Knee(status="knee", base_rate=base_rate, base_latency_ms=base_latency, threshold_ms=threshold,
                        rate=rate, latency_ms=latency, max_rate=max_rate)
    return Knee(status="none", base_rate=base_rate, base_latency_ms=base_latency, threshold_ms=threshold,
                max_rate=max_rate)


def knee_table(points: pd.DataFrame, factor: float = FACTOR) -> pd.DataFrame:
    """One row per curve of `points` (aggregate.average_points output): the
    curve's key, its rates and its knee."""
    rows = []
    for key, curve in curves(points):
        knee = find_knee(curve["request_rate"], curve[LATENCY], factor)
        rows.append({
            **key,
            "transport": "DTLS" if key["dtls"] else "CoAP",
            "rates": len(curve),
            "status": knee.status,
            "base_rate": knee.base_rate,
            "base_latency_ms": knee.base_latency_ms,
            "threshold_ms": knee.threshold_ms,
            "knee_rate": knee.rate,
            "knee_latency_ms": knee.latency_ms,
            "max_rate": knee.max_rate,
            "knee": knee.describe(),
        })
    columns = CURVE_KEY + ["transport", "rates", "status", "base_rate", "base_latency_ms", "threshold_ms",
                           "knee_rate", "knee_latency_ms", "max_rate", "knee"]
    return pd.DataFrame(rows, columns=columns)


def _missing(value) -> bool:
    try:
        return value is None or math.isnan(float(value))
    except (TypeError, ValueError):
        return True
