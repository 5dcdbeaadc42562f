"""mann_whitney.mann_whitney_u: exact p-values against known values and a
brute-force count of every rank assignment, the normal approximation
against a hand calculation of z, and the edge cases."""

import itertools
import math
import random
import sys
import unittest
from pathlib import Path

GATE_DIR = Path(__file__).resolve().parents[2] / "gate"
if str(GATE_DIR) not in sys.path:
    sys.path.insert(0, str(GATE_DIR))

from fogm2m_gate.mann_whitney import (EXACT_MAX, MannWhitney, mann_whitney_u, midranks,  # noqa: E402
                                      rank_sum_counts)


def brute_force_p(a, b) -> float:
    """Two-sided exact p-value by listing every way to give len(a) of the
    pooled ranks to a (no ties)."""
    ranks = midranks(list(a) + list(b))
    observed = sum(ranks[:len(a)])
    sums = [sum(c) for c in itertools.combinations(ranks, len(a))]
    lower = sum(1 for s in sums if s <= observed)
    upper = sum(1 for s in sums if s >= observed)
    return min(1.0, 2 * min(lower, upper) / len(sums))


class ExactTest(unittest.TestCase):
    def test_five_against_five_fully_separated(self):
        result = mann_whitney_u([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
        self.assertEqual(result, MannWhitney(u=0.0, p_value=result.p_value, method="exact"))
        self.assertAlmostEqual(result.p_value, 2 / 252, places=15)

    def test_nine_against_nine_fully_separated(self):
        result = mann_whitney_u(range(10, 19), range(1, 10))
        self.assertEqual(result.method, "exact")
        self.assertEqual(result.u, 81.0)  # every pair has a > b
        self.assertAlmostEqual(result.p_value, 2 / math.comb(18, 9), places=15)
        self.assertAlmostEqual(result.p_value, 2 / 48620, places=15)

    def test_scipy_documentation_example(self):
        # scipy.stats.mannwhitneyu's example: U = 17, exact p = 0.1111...
        result = mann_whitney_u([19, 22, 16, 29, 24], [20, 11, 17, 12])
        self.assertEqual((result.u, result.method), (17.0, "exact"))
        self.assertAlmostEqual(result.p_value, 14 / 126, places=15)

    def test_matches_brute_force_count(self):
        rng = random.Random(7)
        for n_a, n_b in ((1, 1), (1, 6), (3, 4), (4, 5), (6, 6), (2, 9)):
            for _ in range(5):
                values = rng.sample(range(1000), n_a + n_b)
                a, b = values[:n_a], values[n_a:]
                with self.subTest(a=a, b=b):
                    result = mann_whitney_u(a, b)
                    self.assertEqual(result.method, "exact")
                    self.assertAlmostEqual(result.p_value, brute_force_p(a, b), places=12)

    def test_rank_sum_counts_add_up_and_are_symmetric(self):
        counts = rank_sum_counts(4, 9)
        self.assertEqual(int(counts.sum()), math.comb(9, 4))
        nonzero = counts[counts > 0]
        self.assertEqual(list(nonzero), list(nonzero[::-1]))
        self.assertEqual(len(nonzero), 4 * 5 + 1)  # rank sums 10..30
        self.assertEqual(list(rank_sum_counts(1, 3)), [0, 1, 1, 1, 0, 0, 0])

    def test_largest_exact_size(self):
        a = [float(x) for x in range(EXACT_MAX)]
        b = [x + 0.5 for x in a]
        result = mann_whitney_u(a, b)
        self.assertEqual(result.method, "exact")
        self.assertGreater(result.p_value, 0.5)


class NormalTest(unittest.TestCase):
    def test_ties_by_hand(self):
        # Pooled, sorted: 1, 2 2 2, 3 3 3, 4, 5 -> ranks 1, 3 3 3, 6 6 6, 8, 9.
        # a = 1, 2, 2, 3 has rank sum 1 + 3 + 3 + 6 = 13, U = 13 - 4*5/2 = 3.
        # Mean 4*5/2 = 10; two tie groups of 3: sum(t^3 - t) = 48;
        # variance 20/12 * (10 - 48/(9*8)) = 5/3 * 28/3 = 140/9;
        # z = (|3 - 10| - 0.5) / sqrt(140/9) = 19.5 / sqrt(140) = 1.64805.
        result = mann_whitney_u([1, 2, 2, 3], [2, 3, 3, 4, 5])
        self.assertEqual((result.u, result.method), (3.0, "normal"))
        z = 19.5 / math.sqrt(140)
        self.assertAlmostEqual(z, 1.64805, places=5)
        self.assertAlmostEqual(result.p_value, math.erfc(z / math.sqrt(2)), places=14)
        self.assertAlmostEqual(result.p_value, 0.0993, delta=1e-4)  # 2 * (1 - Phi(1.648)) from a table

    def test_identical_samples_with_ties(self):
        result = mann_whitney_u(range(1, 10), range(1, 10))
        self.assertEqual((result.u, result.method), (40.5, "normal"))
        self.assertEqual(result.p_value, 1.0)

    def test_one_value_everywhere(self):
        self.assertEqual(mann_whitney_u([3.0, 3.0, 3.0], [3.0, 3.0]).p_value, 1.0)
        self.assertEqual(mann_whitney_u([3.0], [3.0]).p_value, 1.0)

    def test_large_samples_without_ties(self):
        # 26 against 26, fully separated: U = 0, mean 338, variance
        # 26*26/12 * 53 = 2985.67, z = (338 - 0.5) / sqrt(2985.67).
        a = list(range(26))
        b = list(range(100, 126))
        result = mann_whitney_u(a, b)
        self.assertEqual((result.u, result.method), (0.0, "normal"))
        z = 337.5 / math.sqrt(26 * 26 / 12 * 53)
        self.assertAlmostEqual(result.p_value, math.erfc(z / math.sqrt(2)), places=14)

    def test_exact_is_close_to_normal_at_the_exact_limit(self):
        # 25 against 25 without ties: the exact count, next to the normal
        # approximation of the same U worked out here.
        rng = random.Random(3)
        for shift in (0, 1500, 3000, 5000):
            values = rng.sample(range(10000), 2 * EXACT_MAX)
            a, b = values[:EXACT_MAX], [v + shift + 0.5 for v in values[EXACT_MAX:]]
            result = mann_whitney_u(a, b)
            self.assertEqual(result.method, "exact")
            z = (abs(result.u - 312.5) - 0.5) / math.sqrt(25 * 25 * 51 / 12)
            with self.subTest(shift=shift, p=result.p_value):
                self.assertAlmostEqual(result.p_value, math.erfc(z / math.sqrt(2)), delta=0.005)


class PropertiesTest(unittest.TestCase):
    def test_swapping_samples(self):
        rng = random.Random(11)
        for n_a, n_b in ((4, 7), (9, 9), (30, 12)):
            a = [rng.gauss(0, 1) for _ in range(n_a)]
            b = [rng.gauss(0.5, 1) for _ in range(n_b)]
            ab, ba = mann_whitney_u(a, b), mann_whitney_u(b, a)
            self.assertEqual(ab.u + ba.u, n_a * n_b)
            self.assertAlmostEqual(ab.p_value, ba.p_value, places=14)
            self.assertTrue(0 < ab.p_value <= 1)

    def test_u_counts_pairs(self):
        a, b = [1, 4, 4, 9], [2, 4, 7]
        pairs = sum(1.0 if x > y else 0.5 if x == y else 0.0 for x in a for y in b)
        self.assertEqual(mann_whitney_u(a, b).u, pairs)

    def test_midranks(self):
        self.assertEqual(midranks([10, 20, 20, 5, 20]), [2.0, 4.0, 4.0, 1.0, 4.0])

    def test_empty_or_nan_sample_is_an_error(self):
        with self.assertRaises(ValueError):
            mann_whitney_u([], [1.0, 2.0])
        with self.assertRaises(ValueError):
            mann_whitney_u([1.0], [])
        with self.assertRaises(ValueError):
            mann_whitney_u([1.0, math.nan], [2.0])


if __name__ == "__main__":
    unittest.main()
