"""The report of runs with faults: records.jsonl records with `faults`
(FaultStats) and their timeline CSVs become a timeline figure per run and a
Faults section on the page; a timeline that cannot be read leaves the tables
and says why; results without faults get no such section."""

import csv
import json
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import matplotlib.image
import numpy as np

import analysis_paths
from fogm2m_analysis.faults import TimelineError, load_fault_runs, read_timeline
from fogm2m_analysis.records import COLUMNS
from fogm2m_analysis.report import build_report

from test_report import PageLinks

WARMUP_S = 5
SECONDS = 45
NODES = ["node1", "node2", "node3"]
EVENTS = {
    10: "kill_node node2; load balancer: node1 node3",
    20: "restart_redis",
    28: "partition_node node3; load balancer: node1 node2",
    34: "end of partition_node node3",
    35: "load balancer: node1 node2 node3",
}
REDIS_AWAY = range(20, 23)  # ownership not sampled: empty owned_ cells


def fault(at_s, kind, target="", duration_s=0.0, **outcome):
    """A FaultOutcome as protobuf JSON writes it: zero fields left out."""
    entry = {k: v for k, v in {"at_s": at_s, "kind": kind, "target": target, "duration_s": duration_s}.items() if v}
    return {"fault": entry, **{k: v for k, v in outcome.items() if v != 0}}


FAULTS = [
    fault(10, "kill_node", "node-2", requests_sent=200, requests_err=16, recovery_s=0.99, lb_removed_after_s=0.47),
    fault(20, "restart_redis", requests_sent=4400, requests_err=30, requests_timed_out=5, recovery_s=-1,
          lb_removed_after_s=-1),
    fault(28, "partition_node", "node-3", duration_s=6, requests_sent=1400, requests_timed_out=80,
          recovery_s=7.5, lb_removed_after_s=1.2, error="ip link: <b>busy</b> & gave up"),
]
RUN_STATS = {"registrations_before": 300, "registrations_after": 298, "registrations_lost": 2,
             "observed_devices": 300, "observations_reestablished": 95, "observations_lost": 3,
             "notifications_lost": 1070, "notification_gap_max_s": 6.75, "notification_gap_p99_s": 6.5}


def result_record(point_index, timeline_file, faults=True):
    record = {"scenario": "faults", "mode": "MODE_EMULATE", "point_index": point_index, "repetition": 0,
              "point": {"devices": 300, "nodes": 3, "request_rate": 200}, "window_s": 40, "requests_sent": 8000,
              "error": ""}
    if point_index == 0:
        del record["point_index"]  # protobuf JSON leaves zeros out
    if faults:
        record["faults"] = {"faults": FAULTS, **RUN_STATS, "timeline_file": timeline_file}
    return record


def csv_row(point_index):
    row = {c: "" for c in COLUMNS}
    row.update({"scenario": "faults", "mode": "emulate", "point_index": point_index, "repetition": 0,
                "devices": 300, "nodes": 3, "request_rate": 200, "dtls": 0, "window_s": 40,
                "requests_sent": 8000, "requests_answered": 7900, "latency_mean_below_p95_ms": 0.4,
                "latency_p50_ms": 0.38, "latency_p99_ms": 1.1, "latency_p999_ms": 3500,
                "node_throttling_ratio_mean": 0, "node_memory_mean_bytes_mean": 3e6, "node_rx_bytes_mean": 1e7,
                "node_tx_bytes_mean": 4e7})
    return row


def timeline_rows():
    """Steady 200 req/s and 6000 notifications/s; the faults dent them."""
    rows = []
    for s in range(SECONDS):
        err = {10: 16, 20: 20, 21: 10}.get(s, 0)
        timed_out = 5 if s == 21 else (15 if 28 <= s < 34 else 0)
        p99 = 3500.8 if s in (10, 21) else (900.0 if 28 <= s < 34 else 0.8)
        notifications = 4977 if s == 10 else (4000 if 28 <= s < 34 else 6000)
        row = [s, 200, 200 - err - timed_out, err, timed_out, p99, notifications, EVENTS.get(s, "")]
        if s in REDIS_AWAY:
            owned = ["", "", ""]
        elif s < 11:
            owned = [100, 100, 100]
        elif s < 29 or s >= 36:
            owned = [150, 0, 150]
        else:
            owned = [300, 0, 0]
        rows.append(row + owned)
    return rows


def write_results(directory: Path, records: list[dict], timelines: dict[str, list]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "records.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(csv_row(r.get("point_index", 0)) for r in records)
    (directory / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    metadata = {"fogm2m_version": "0.1.0", "hostname": "fixture-host",
                "scenario": {"name": "faults", "mode": "MODE_EMULATE", "warmup_s": WARMUP_S, "window_s": 40}}
    (directory / "metadata.json").write_text(json.dumps(metadata, indent=1))
    for name, rows in timelines.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="") as f:
            f.write("second,sent,answered,err,timed_out,p99_ms,notifications,events,"
                    + ",".join(f"owned_{n}" for n in NODES) + "\n")
            for row in rows:
                # events always quoted, as runner/fault_stats.cc writes them
                f.write(",".join(map(str, row[:7])) + f',"{row[7]}",' + ",".join(map(str, row[8:])) + "\n")


def setUpModule():
    global TMP, RESULTS, REPORT, PAGE_TEXT, PAGE
    TMP = Path(tempfile.mkdtemp(prefix="fogm2m-fault-report-"))
    RESULTS = TMP / "results"
    # Point 0 has its timeline; point 1's timeline file is missing.
    write_results(RESULTS, [result_record(0, "timeline/0-0.csv"), result_record(1, "timeline/1-0.csv")],
                  {"timeline/0-0.csv": timeline_rows()})
    REPORT = build_report(RESULTS)
    PAGE_TEXT = REPORT.index.read_text(encoding="utf-8")
    PAGE = PageLinks()
    PAGE.feed(PAGE_TEXT)


def tearDownModule():
    shutil.rmtree(TMP, ignore_errors=True)


def table(css_id: str) -> list[dict]:
    rows = PAGE.tables[css_id]
    return [dict(zip(rows[0], r)) for r in rows[1:]]


class FaultReportTest(unittest.TestCase):
    def test_timeline_figure_is_a_real_image(self):
        timeline = REPORT.fault_timelines[0]
        self.assertEqual(timeline.figure.files, ["timeline-0-0.png", "timeline-0-0.svg"])
        png = REPORT.index.parent / "timeline-0-0.png"
        self.assertEqual(png.read_bytes()[:8], b"\x89PNG\r\n\x1a\n")
        self.assertGreater(png.stat().st_size, 30_000)
        pixels = matplotlib.image.imread(png)
        height, width = pixels.shape[:2]
        self.assertGreater(width, 1000)
        self.assertGreater(height, width)  # five stacked panels, ownership included
        self.assertGreater(float(np.var(pixels[..., :3])), 0.001)
        self.assertIn("<svg", (REPORT.index.parent / "timeline-0-0.svg").read_text(encoding="utf-8")[:2000])

    def test_caption_names_the_ownership_gaps_and_the_log_axis(self):
        caption = REPORT.fault_timelines[0].figure.caption
        self.assertIn("Gaps in the ownership lines", caption)
        self.assertIn("Logarithmic p99 axis", caption)
        self.assertNotIn("No ownership panel", caption)

    def test_faults_section_and_contents_link(self):
        self.assertIn('<h2 id="faults">Faults</h2>', PAGE_TEXT)
        self.assertIn("#faults", PAGE.links)
        self.assertIn("timeline-0-0.png", PAGE.images)
        self.assertIn("runs with faults", PAGE_TEXT)

    def test_fault_table_rows(self):
        rows = {r["fault"]: r for r in table("faults-emulate-0-0-table")}
        self.assertEqual(list(rows), ["kill_node", "restart_redis", "partition_node"])
        kill = rows["kill_node"]
        self.assertEqual((kill["target"], kill["at (s)"], kill["lasting (s)"]), ("node-2", "10", "—"))
        self.assertEqual((kill["requests sent"], kill["error replies"], kill["timed out"]), ("200", "16", "0"))
        self.assertEqual(kill["recovered after (s)"], "0.99")
        self.assertEqual(kill["out of the load balancer after (s)"], "0.47")
        redis = rows["restart_redis"]
        self.assertEqual(redis["recovered after (s)"], "not within the run")
        self.assertEqual(redis["out of the load balancer after (s)"], "—")
        self.assertEqual(redis["timed out"], "5")
        partition = rows["partition_node"]
        self.assertEqual((partition["lasting (s)"], partition["recovered after (s)"]), ("6", "7.5"))
        self.assertEqual(partition["injection error"], "ip link: <b>busy</b> & gave up")

    def test_text_from_the_records_is_escaped(self):
        self.assertIn("ip link: &lt;b&gt;busy&lt;/b&gt; &amp; gave up", PAGE_TEXT)
        self.assertNotIn("<b>busy", PAGE_TEXT)

    def test_run_level_figures(self):
        rows = dict(PAGE.tables["faults-emulate-0-0-run"])
        self.assertEqual(rows["registrations before the load"], "300")
        self.assertEqual(rows["registrations lost"], "2")
        self.assertEqual(rows["observations re-established (after a gap over 2 s)"], "95")
        self.assertEqual(rows["notifications lost (sent by the fleets, not received)"], "1,070")
        self.assertEqual(rows["longest notification gap (s)"], "6.75")

    def test_events_are_listed(self):
        events = table("faults-emulate-0-0-events")
        self.assertEqual([e["second"] for e in events], ["10", "20", "28", "34", "35"])
        self.assertEqual(events[0]["events"], "kill_node node2; load balancer: node1 node3")

    def test_missing_timeline_keeps_the_tables_and_says_why(self):
        missing = REPORT.fault_timelines[1]
        self.assertEqual(missing.figure.files, [])
        self.assertEqual(missing.problem, "timeline/1-0.csv: no such file")
        self.assertIn("The timeline could not be read: timeline/1-0.csv: no such file", PAGE_TEXT)
        self.assertIn("faults-emulate-1-0-table", PAGE.tables)
        self.assertIn("fault timeline of point 1, repetition 0: timeline/1-0.csv: no such file", REPORT.warnings)
        self.assertFalse((REPORT.index.parent / "timeline-1-0.png").exists())


class TimelineFileTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="fogm2m-timeline-"))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_owned_columns_with_empty_cells_and_load_balancer_changes(self):
        write_results(self.tmp, [], {"timeline/0-0.csv": timeline_rows()})
        timeline = read_timeline(self.tmp, "timeline/0-0.csv")
        self.assertEqual(timeline.owned, ["owned_node1", "owned_node2", "owned_node3"])
        self.assertEqual(int(timeline.frame["owned_node1"].isna().sum()), len(REDIS_AWAY))
        self.assertEqual(timeline.frame.loc[40, "owned_node1"], 150)
        self.assertEqual([s for s, _ in timeline.load_balancer_changes()], [10, 28, 35])

    def test_unusable_timelines_raise_with_the_reason(self):
        (self.tmp / "bad.csv").write_text("second,sent\n0,1\n")
        (self.tmp / "empty.csv").write_text("")
        cases = [("", "names no timeline file"), ("../x.csv", "outside the results directory"),
                 ("absent.csv", "absent.csv: no such file"), ("bad.csv", "missing column(s): answered, err"),
                 ("empty.csv", "empty file")]
        for name, message in cases:
            with self.subTest(name=name), self.assertRaises(TimelineError) as caught:
                read_timeline(self.tmp, name)
            self.assertIn(message, str(caught.exception))

    def test_records_without_faults_and_broken_lines(self):
        self.tmp.mkdir(exist_ok=True)
        (self.tmp / "records.jsonl").write_text(json.dumps(result_record(2, "", faults=False)) + "\n{oops\n\n")
        warnings = []
        self.assertEqual(load_fault_runs(self.tmp, warnings), [])
        self.assertEqual(warnings, ["records.jsonl: line(s) 2 are not JSON objects and were skipped"])

    def test_fields_left_out_read_as_zero(self):
        record = result_record(3, "")
        record["faults"]["faults"] = [{"fault": {"kind": "restart_redis"}}]
        (self.tmp / "records.jsonl").write_text(json.dumps(record) + "\n")
        run, = load_fault_runs(self.tmp, [])
        self.assertEqual((run.mode, run.point_index, run.repetition, run.devices), ("emulate", 3, 0, 300))
        outcome, = run.outcomes
        self.assertEqual((outcome.at_s, outcome.recovery_s, outcome.lb_removed_after_s, outcome.requests_sent),
                         (0, 0, 0, 0))

    def test_report_without_timeline_file_name(self):
        record = result_record(0, "")
        del record["faults"]["timeline_file"]
        write_results(self.tmp, [record], {})
        report = build_report(self.tmp)
        page = report.index.read_text(encoding="utf-8")
        self.assertIn("The timeline could not be read: the record names no timeline file", page)
        self.assertIn("kill_node", page)


class NoFaultsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="fogm2m-no-faults-"))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_results_without_faults_have_no_faults_section(self):
        for name, results in (("fixture", analysis_paths.FIXTURE), ("jsonl", self.tmp / "jsonl")):
            if name == "jsonl":
                write_results(results, [result_record(0, "", faults=False)], {})
            with self.subTest(results=name):
                report = build_report(results, self.tmp / f"report-{name}")
                page = report.index.read_text(encoding="utf-8")
                self.assertEqual(report.fault_timelines, [])
                self.assertNotIn('id="faults"', page)
                self.assertNotIn("#faults", page)
                self.assertNotIn("runs with faults", page)
                self.assertEqual(list((self.tmp / f"report-{name}").glob("timeline*")), [])

    def test_script_counts_the_timelines(self):
        results = self.tmp / "results"
        write_results(results, [result_record(0, "timeline/0-0.csv"), result_record(1, "timeline/1-0.csv")],
                      {"timeline/0-0.csv": timeline_rows()})
        done = subprocess.run([sys.executable, str(analysis_paths.REPORT_SCRIPT), str(results)],
                              capture_output=True, text=True, timeout=300)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("1 of 2 fault timelines", done.stdout)
        self.assertIn("warning: fault timeline of point 1, repetition 0: timeline/1-0.csv: no such file",
                      done.stderr)


if __name__ == "__main__":
    unittest.main()
