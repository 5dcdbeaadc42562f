"""spread: the bootstrap 95 % interval of a point's mean over its
repetitions, and the spread columns of aggregate.average_points. The
report's points.csv and points table: test_report.py."""

import math
import unittest

import numpy as np

import analysis_paths
from fogm2m_analysis.aggregate import METRICS, average_points, point_columns
from fogm2m_analysis.spread import INTERVAL_METRICS, mean_interval, relative_half_width


class MeanIntervalTest(unittest.TestCase):
    def test_interval_holds_the_mean_and_lies_within_the_values(self):
        values = [9.0, 10.0, 11.0, 10.5, 9.5]
        low, high = mean_interval(values)
        self.assertLess(low, np.mean(values))
        self.assertGreater(high, np.mean(values))
        self.assertGreaterEqual(low, min(values))
        self.assertLessEqual(high, max(values))

    def test_same_values_give_the_same_interval_every_time(self):
        values = [3.1, 2.9, 3.4, 3.0, 2.7, 3.3]
        self.assertEqual(mean_interval(values), mean_interval(list(values)))

    def test_wider_spread_gives_a_wider_interval(self):
        narrow = mean_interval([10, 10.1, 9.9, 10.05, 9.95])
        wide = mean_interval([10, 12, 8, 11, 9])
        self.assertLess(narrow[1] - narrow[0], wide[1] - wide[0])

    def test_one_value_or_equal_values_have_no_spread(self):
        self.assertEqual(mean_interval([4.2]), (4.2, 4.2))
        self.assertEqual(mean_interval([7, 7, 7]), (7.0, 7.0))

    def test_nan_is_ignored_and_nothing_gives_nan(self):
        self.assertEqual(mean_interval([math.nan, 5.0]), (5.0, 5.0))
        low, high = mean_interval([math.nan])
        self.assertTrue(math.isnan(low) and math.isnan(high))

    def test_relative_half_width(self):
        self.assertAlmostEqual(relative_half_width(9, 10, 11), 0.1)
        self.assertTrue(math.isnan(relative_half_width(0, 0, 0)))


def _records(latencies):
    import pandas as pd
    rows = []
    for rep, latency in enumerate(latencies):
        row = {"mode": "emulate", "dtls": 0, "devices": 50, "nodes": 1, "variant": "", "request_rate": 100,
               "repetition": rep, "transport": "CoAP"}
        for m in METRICS:
            row[m] = 1.0
        row["latency_mean_ms"] = latency
        rows.append(row)
    return pd.DataFrame(rows)


class AveragePointsSpreadTest(unittest.TestCase):
    def test_a_point_carries_median_min_max_and_interval(self):
        p = average_points(_records([2.0, 3.0, 4.0, 10.0])).iloc[0]
        self.assertEqual(p["repetitions"], 4)
        self.assertAlmostEqual(p["latency_mean_ms"], 4.75)
        self.assertAlmostEqual(p["latency_mean_ms_median"], 3.5)
        self.assertEqual((p["latency_mean_ms_min"], p["latency_mean_ms_max"]), (2.0, 10.0))
        self.assertLess(p["latency_mean_ms_ci_low"], 4.75)
        self.assertGreater(p["latency_mean_ms_ci_high"], 4.75)
        self.assertEqual((p["latency_mean_ms_ci_low"], p["latency_mean_ms_ci_high"]),
                         mean_interval([2.0, 3.0, 4.0, 10.0]))

    def test_every_interval_metric_has_its_interval_columns(self):
        columns = set(point_columns())
        for m in INTERVAL_METRICS:
            self.assertIn(f"{m}_ci_low", columns)
            self.assertIn(f"{m}_ci_high", columns)
        self.assertNotIn("memory_mean_mb_ci_low", columns)
        self.assertIn("memory_mean_mb_median", columns)

    def test_no_records_give_the_same_columns(self):
        import pandas as pd
        self.assertEqual(list(average_points(pd.DataFrame()).columns), point_columns())


if __name__ == "__main__":
    unittest.main()
