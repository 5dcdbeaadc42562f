"""spread: the bootstrap 95 % interval of a point's mean over its
repetitions, and what the report makes of it (points.csv, the points table)."""

import csv
import math
import shutil
import tempfile
import unittest
from pathlib import Path

import numpy as np

import analysis_paths
from fogm2m_analysis.aggregate import METRICS, average_points, point_columns
from fogm2m_analysis.report import build_report
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


class ReportSpreadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = Path(tempfile.mkdtemp(prefix="fogm2m-spread-test-"))
        cls.report = build_report(analysis_paths.FIXTURE, cls.out / "report")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out, ignore_errors=True)

    def test_points_csv_has_a_row_per_point_with_its_spread(self):
        with open(self.out / "report" / "points.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        keys = {(r["mode"], r["dtls"], r["devices"], r["nodes"], r["variant"], r["request_rate"]) for r in rows}
        self.assertEqual(len(keys), len(rows))
        repeated = [r for r in rows if int(r["repetitions"]) > 1]
        self.assertTrue(repeated, "the fixture repeats the 50-device 1-node CoAP curve")
        for r in repeated:
            low, mean, high = (float(r[f"latency_mean_ms{s}"]) for s in ("_ci_low", "", "_ci_high"))
            self.assertLess(low, mean)
            self.assertLess(mean, high)
        single = [r for r in rows if int(r["repetitions"]) == 1 and r["latency_mean_ms"]]
        self.assertTrue(single)
        for r in single:
            self.assertEqual(r["latency_mean_ms_ci_low"], r["latency_mean_ms"])

    def test_points_table_shows_the_interval_of_repeated_points(self):
        page = self.report.index.read_text(encoding="utf-8")
        self.assertIn("mean 95% CI (ms)", page)
        self.assertIn("CPU ms / 1000 msg 95% CI", page)


if __name__ == "__main__":
    unittest.main()
