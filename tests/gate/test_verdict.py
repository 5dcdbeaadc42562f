"""verdict.py: the gate's rules on made-up measures, the table, and
scenario_ab's metrics of a record."""

import sys
import unittest
from pathlib import Path

GATE_DIR = Path(__file__).resolve().parents[2] / "gate"
if str(GATE_DIR) not in sys.path:
    sys.path.insert(0, str(GATE_DIR))

from fogm2m_gate import scenario_ab, verdict  # noqa: E402


class DeterministicRules(unittest.TestCase):
    def test_three_percent_more_instructions_fails_and_less_passes(self):
        self.assertEqual(verdict.deterministic("a", 1000.0, 1029.0)["verdict"], "ok")
        self.assertEqual(verdict.deterministic("a", 1000.0, 1031.0)["verdict"], "regression")
        self.assertEqual(verdict.deterministic("a", 1000.0, 960.0)["verdict"], "improvement")

    def test_a_new_benchmark_passes_and_a_vanished_one_fails(self):
        rows = verdict.compare_instructions({"gone": 5.0, "kept": 7.0}, {"kept": 7.0, "new": 1.0})
        self.assertEqual({r["name"]: r["verdict"] for r in rows},
                         {"gone": "missing", "kept": "ok", "new": "new"})
        self.assertEqual(verdict.overall(rows), "regression")
        self.assertEqual(verdict.overall(rows[1:]), "pass")


class StatisticalRules(unittest.TestCase):
    BASE = [10.0, 10.2, 9.9, 10.1, 10.0, 9.8, 10.3, 10.1, 9.9]

    def test_a_significant_change_over_ten_percent_fails(self):
        slower = [v * 1.2 for v in self.BASE]
        m = verdict.statistical("cpu", "ms", self.BASE, slower)
        self.assertLess(m["p_value"], 0.05)
        self.assertAlmostEqual(m["change"], 0.2, places=6)
        self.assertEqual(m["verdict"], "regression")

    def test_a_significant_change_under_ten_percent_passes(self):
        m = verdict.statistical("cpu", "ms", self.BASE, [v * 1.05 for v in self.BASE])
        self.assertLess(m["p_value"], 0.05)
        self.assertEqual(m["verdict"], "ok")

    def test_a_large_change_that_is_noise_passes(self):
        # Medians 12 % apart, samples overlapping: not significant.
        base = [5.0, 9.0, 13.0, 7.0, 11.0, 6.0, 12.0, 8.0, 10.0]
        now = [5.5, 14.0, 9.5, 11.5, 6.0, 13.5, 10.08, 7.0, 12.5]
        m = verdict.statistical("p99", "ms", base, now)
        self.assertGreater(m["change"], 0.10)
        self.assertGreater(m["p_value"], 0.05)
        self.assertEqual(m["verdict"], "ok")

    def test_faster_is_an_improvement(self):
        m = verdict.statistical("cpu", "ms", self.BASE, [v * 0.8 for v in self.BASE])
        self.assertEqual(m["verdict"], "improvement")
        self.assertEqual(m["spread"]["now"], [min(self.BASE) * 0.8, max(self.BASE) * 0.8])


class Table(unittest.TestCase):
    def test_one_line_per_measure_with_each_column(self):
        rows = [verdict.deterministic("node_path_bench/BM_NodeRequest", 41000.0, 43500.0),
                verdict.statistical("ci.yaml rate=200 latency p99", "ms",
                                    StatisticalRules.BASE, StatisticalRules.BASE)]
        text = verdict.table(rows).splitlines()
        self.assertEqual(len(text), 4)
        self.assertEqual(text[0].split()[:4], ["metric", "baseline", "now", "change"])
        self.assertIn("+6.10%", text[2])
        self.assertTrue(text[2].endswith("REGRESSION"))
        self.assertIn("p=", text[3])
        self.assertTrue(text[3].endswith("ok"))


class ScenarioMetrics(unittest.TestCase):
    RECORD = {"point": {"request_rate": 200}, "requests_answered": 2000,
              "notifications_received": 10000.0, "latency": {"p50_ms": 0.25, "p99_ms": 0.7},
              "nodes": [{"cpu_s": 0.24}, {"cpu_s": 0.12}], "error": ""}

    def test_node_cpu_per_thousand_messages_sums_the_nodes(self):
        m = scenario_ab.record_metrics("ci.yaml", self.RECORD)
        value, unit = m["ci.yaml rate=200 node CPU per 1000 messages"]
        self.assertAlmostEqual(value, 0.36 * 1000 / 12, places=9)
        self.assertEqual(unit, "ms CPU")
        self.assertEqual(m["ci.yaml rate=200 latency p99"], (0.7, "ms"))

    def test_a_failed_point_is_refused(self):
        with self.assertRaisesRegex(scenario_ab.RunFailed, "rate=200: deploy: no"):
            scenario_ab.record_metrics("ci.yaml", dict(self.RECORD, error="deploy: no"))
        with self.assertRaisesRegex(scenario_ab.RunFailed, "no messages"):
            scenario_ab.record_metrics("ci.yaml", dict(self.RECORD, requests_answered=0,
                                                       notifications_received=0))


if __name__ == "__main__":
    unittest.main()
