"""The two-sided Mann-Whitney U test, for the gate's A/B scenario runs.

The test asks whether values of one sample tend to be larger than those of
the other, without assuming any distribution: pool both samples, rank them
(tied values share the mean of their ranks) and count, through the rank sum
R of sample a, U = R - n_a (n_a + 1) / 2, the number of (a, b) pairs with
a > b (a tie counts a half). Under the null hypothesis every assignment of
the pooled ranks to the two samples is equally likely.

Small samples without ties (both at most EXACT_MAX values) get the exact
p-value: a dynamic program counts, for every rank sum, the subsets of
n_a ranks out of 1..n_a+n_b that have it. Otherwise U is taken as normal,
mean n_a n_b / 2 and variance n_a n_b / 12 ((n + 1) - sum(t^3 - t) /
(n (n - 1))) over the tie groups of size t, with a continuity correction of
0.5 towards the mean: the same p-value as scipy.stats.mannwhitneyu(a, b,
method="asymptotic", use_continuity=True). The two-sided p-value is twice
the smaller tail, at most 1. Samples whose values are all the same carry no
evidence either way: p = 1.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np

EXACT_MAX = 25  # largest sample size of the exact test (both samples)


@dataclass(frozen=True)
class MannWhitney:
    u: float  # U of sample a: pairs with a > b, ties counting a half
    p_value: float  # two-sided
    method: str  # "exact" or "normal"


def mann_whitney_u(a: Sequence[float], b: Sequence[float]) -> MannWhitney:
    """The two-sided Mann-Whitney U test of samples a and b. Raises
    ValueError when a sample is empty or holds a NaN."""
    a = _sample(a, "a")
    b = _sample(b, "b")
    ranks = midranks(a + b)
    rank_sum = sum(ranks[:len(a)])
    u = rank_sum - len(a) * (len(a) + 1) / 2
    tie_sizes = [t for t in Counter(a + b).values() if t > 1]
    if len(a) <= EXACT_MAX and len(b) <= EXACT_MAX and not tie_sizes:
        return MannWhitney(u=u, p_value=_exact_p(round(rank_sum), len(a), len(b)), method="exact")
    return MannWhitney(u=u, p_value=_normal_p(u, len(a), len(b), tie_sizes), method="normal")


def midranks(values: Sequence[float]) -> list[float]:
    """The rank of each value (1 for the smallest), tied values sharing the
    mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def rank_sum_counts(n_a: int, n: int) -> np.ndarray:
    """counts[s]: how many subsets of n_a ranks out of 1..n have rank sum s
    (exact in int64 for n up to 60, well beyond EXACT_MAX twice)."""
    counts = np.zeros((n_a + 1, n * (n + 1) // 2 + 1), dtype=np.int64)
    counts[0, 0] = 1
    for rank in range(1, n + 1):
        # Largest subset size first, so each rank joins a subset at most once.
        for size in range(min(rank, n_a), 0, -1):
            counts[size, rank:] += counts[size - 1, :-rank]
    return counts[n_a]


def _exact_p(rank_sum: int, n_a: int, n_b: int) -> float:
    counts = rank_sum_counts(n_a, n_a + n_b)
    total = math.comb(n_a + n_b, n_a)
    lower = int(counts[:rank_sum + 1].sum())
    upper = int(counts[rank_sum:].sum())
    return min(1.0, 2 * min(lower, upper) / total)


def _normal_p(u: float, n_a: int, n_b: int, tie_sizes: list[int]) -> float:
    n = n_a + n_b
    tie_term = sum(t ** 3 - t for t in tie_sizes)
    variance = n_a * n_b / 12 * ((n + 1) - tie_term / (n * (n - 1)))
    if variance <= 0:  # every value the same
        return 1.0
    mean = n_a * n_b / 2
    z = (abs(u - mean) - 0.5) / math.sqrt(variance)
    return min(1.0, 2 * normal_upper_tail(z))


def normal_upper_tail(z: float) -> float:
    """P(Z >= z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def _sample(values: Sequence[float], name: str) -> list[float]:
    sample = [float(v) for v in values]
    if not sample:
        raise ValueError(f"sample {name} is empty")
    if any(math.isnan(v) for v in sample):
        raise ValueError(f"sample {name} holds a NaN")
    return sample
