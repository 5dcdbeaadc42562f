"""How far the repetitions of one point spread: the median, and a bootstrap
95 % interval of their mean.

A point that ran n times has n values of each metric. Their mean is what a
curve shows; the interval says how far that mean can be trusted: resample
the n values with replacement `RESAMPLES` times, take each resample's mean,
and keep the 2.5th and 97.5th percentiles of those means (the percentile
bootstrap). The generator is seeded, so the same records give the same
interval on every machine. With one repetition there is no spread to
resample: the interval is the value itself.
"""

from __future__ import annotations

import math

import numpy as np

RESAMPLES = 2000
SEED = 20261207

# The metrics issue 20 asks a spread of: latency (mean, below-p95 mean, p99),
# node CPU per message and throttling. Every averaged metric also keeps its
# median, min and max (aggregate.average_points).
INTERVAL_METRICS = [
    "latency_mean_ms", "latency_mean_below_p95_ms", "latency_p99_ms",
    "node_cpu_ms_per_1000_messages", "node_throttling_ratio_mean",
]


def mean_interval(values, resamples: int = RESAMPLES, seed: int = SEED) -> tuple[float, float]:
    """(low, high): the bootstrap 95 % interval of the mean of `values`,
    NaN ignored; (nan, nan) when nothing is left."""
    v = np.asarray([x for x in values if x is not None and not math.isnan(x)], dtype=float)
    if v.size == 0:
        return math.nan, math.nan
    if v.size == 1 or np.all(v == v[0]):
        return float(v[0]), float(v[0])
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(resamples, v.size))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def relative_half_width(low: float, mean: float, high: float) -> float:
    """Half the interval over the mean: 0.05 means "mean ± 5 %"; NaN when
    the mean is 0 or unknown."""
    if any(math.isnan(x) for x in (low, mean, high)) or mean == 0:
        return math.nan
    return (high - low) / 2 / abs(mean)
