"""knee.find_knee: the lowest rate whose latency exceeds twice the latency at
the lowest rate."""

import math
import unittest

import analysis_paths  # noqa: F401  (sys.path)
from fogm2m_analysis.knee import find_knee


class FindKneeTest(unittest.TestCase):
    def test_first_rate_above_twice_the_low_load_value(self):
        knee = find_knee([25, 50, 100, 150, 200], [3, 3.2, 3.5, 5, 12])
        self.assertEqual(knee.status, "knee")
        self.assertEqual(knee.rate, 200)
        self.assertEqual(knee.latency_ms, 12)
        self.assertEqual(knee.base_rate, 25)
        self.assertEqual(knee.threshold_ms, 6)

    def test_exactly_twice_is_not_above(self):
        self.assertEqual(find_knee([25, 50, 100], [3.5, 7.0, 7.0]).status, "none")
        self.assertEqual(find_knee([25, 50, 100], [3.5, 7.0, 7.01]).rate, 100)

    def test_never_exceeding_has_no_knee(self):
        knee = find_knee([25, 50, 100], [3, 3.1, 3.3])
        self.assertEqual(knee.status, "none")
        self.assertIsNone(knee.rate)
        self.assertEqual(knee.describe(), "none (up to 100 req/s)")

    def test_input_order_does_not_matter(self):
        self.assertEqual(find_knee([200, 25, 100, 50], [40, 5, 6, 5.5]).rate, 200)
        self.assertEqual(find_knee([150, 25, 50], [20, 5, 11]).rate, 50)

    def test_first_crossing_wins_even_if_latency_falls_again(self):
        self.assertEqual(find_knee([10, 20, 30, 40], [2, 5, 3, 9]).rate, 20)

    def test_points_without_latency_are_ignored(self):
        knee = find_knee([25, 50, 100], [math.nan, 4, 9])
        self.assertEqual((knee.base_rate, knee.rate), (50, 100))

    def test_single_point_has_no_knee(self):
        self.assertEqual(find_knee([25], [3]).status, "none")

    def test_empty_or_zero_base_is_undetermined(self):
        self.assertEqual(find_knee([], []).status, "undetermined")
        self.assertEqual(find_knee([25, 50], [math.nan, math.nan]).status, "undetermined")
        self.assertEqual(find_knee([25, 50], [0, 5]).status, "undetermined")
        self.assertEqual(find_knee([25, 50], [0, 5]).describe(), "undetermined")

    def test_factor_is_a_parameter(self):
        self.assertEqual(find_knee([1, 2, 3], [1, 1.6, 2.5], factor=1.5).rate, 2)


if __name__ == "__main__":
    unittest.main()
