"""The report of the fixture tests/data/report (see make_report_fixture.py):
images, knees, the reference table, failed points, the HTML's references,
and a headless Chromium rendering of the page. Then reports of partial
sweeps and of results that cannot be read."""

import csv
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import matplotlib.image
import numpy as np

import analysis_paths
from fogm2m_analysis import records
from fogm2m_analysis.records import COLUMNS, LATER_COLUMNS, ResultsError
from fogm2m_analysis.report import build_report

# (mode, transport, devices, nodes) -> knee column of the knee table
EXPECTED_KNEES = {
    ("emulate", "CoAP", 50, 1): "200 req/s",
    ("emulate", "CoAP", 50, 2): "none (up to 200 req/s)",
    ("emulate", "DTLS", 50, 1): "150 req/s",
    ("emulate", "DTLS", 50, 2): "none (up to 200 req/s)",
    ("emulate", "CoAP", 100, 1): "50 req/s",
    ("emulate", "CoAP", 100, 2): "200 req/s",
    ("emulate", "DTLS", 100, 1): "50 req/s",
    ("emulate", "DTLS", 100, 2): "200 req/s",
    ("sim", "CoAP", 50, 1): "200 req/s",
    ("sim", "CoAP", 50, 2): "none (up to 200 req/s)",
}
EXPECTED_FIGURES = [
    "fig4_2_latency_vs_rate", "fig4_3_throttling_vs_rate", "fig4_4a_memory_vs_devices",
    "fig4_4b_throughput_vs_rate", "node_cpu_per_message_vs_rate", "latency_percentiles_coap",
    "latency_percentiles_dtls", "latency_distribution",
]
CHROMIUM = Path("/usr/bin/chromium")


class PageLinks(html.parser.HTMLParser):
    """img src, a href and the text of every table cell, by table id."""

    def __init__(self):
        super().__init__()
        self.images, self.links, self.tables = [], [], {}
        self._table, self._row, self._cell = None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src"))
        elif tag == "a":
            self.links.append(attrs.get("href"))
        elif tag == "table":
            self._table = self.tables.setdefault(attrs.get("id", ""), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def setUpModule():
    global OUT_ROOT, REPORT, PAGE, PAGE_TEXT
    OUT_ROOT = Path(tempfile.mkdtemp(prefix="fogm2m-report-test-"))
    REPORT = build_report(analysis_paths.FIXTURE, OUT_ROOT / "report")
    PAGE_TEXT = REPORT.index.read_text(encoding="utf-8")
    PAGE = PageLinks()
    PAGE.feed(PAGE_TEXT)


def tearDownModule():
    shutil.rmtree(OUT_ROOT, ignore_errors=True)


class FixtureReportTest(unittest.TestCase):
    def test_every_figure_is_drawn_as_png_and_svg(self):
        self.assertEqual([f.name for f in REPORT.figures], EXPECTED_FIGURES)
        for figure in REPORT.figures:
            self.assertEqual(figure.files, [f"{figure.name}.png", f"{figure.name}.svg"], figure.note)
            png = REPORT.index.parent / f"{figure.name}.png"
            svg = REPORT.index.parent / f"{figure.name}.svg"
            self.assertGreater(png.stat().st_size, 10_000, png)
            self.assertEqual(png.read_bytes()[:8], b"\x89PNG\r\n\x1a\n")
            self.assertGreater(svg.stat().st_size, 10_000, svg)
            self.assertIn("<svg", svg.read_text(encoding="utf-8")[:2000])

    def test_pngs_are_not_blank(self):
        for figure in REPORT.figures:
            pixels = matplotlib.image.imread(REPORT.index.parent / f"{figure.name}.png")
            self.assertGreater(float(np.var(pixels[..., :3])), 0.001, figure.name)

    def test_points_csv_has_a_row_per_point_with_its_spread(self):
        with open(OUT_ROOT / "report" / "points.csv", newline="") as f:
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
        self.assertIn("mean 95% CI (ms)", PAGE_TEXT)
        self.assertIn("CPU ms / 1000 msg 95% CI", PAGE_TEXT)

    def test_knee_table_holds_the_known_knees(self):
        knees = {(r["mode"], r["transport"], r["devices"], r["nodes"]): r["knee"] for _, r in REPORT.knees.iterrows()}
        self.assertEqual(knees, EXPECTED_KNEES)

    def test_knees_use_the_mean_over_repetitions_and_skip_failed_rows(self):
        k = REPORT.knees.set_index(["mode", "transport", "devices", "nodes"])
        # Repetitions at 0.9x and 1.1x of 3 ms average to 3 ms.
        self.assertAlmostEqual(k.loc[("emulate", "CoAP", 50, 1), "base_latency_ms"], 3.0)
        # The failed repetition (100 ms) at 25 req/s would have moved this one.
        self.assertAlmostEqual(k.loc[("emulate", "CoAP", 50, 2), "base_latency_ms"], 3.0)

    def test_knee_table_on_the_page(self):
        rows = PAGE.tables["knee-table"]
        header, body = rows[0], rows[1:]
        self.assertEqual(len(body), len(EXPECTED_KNEES))
        col = {name: header.index(name) for name in ("mode", "transport", "devices", "nodes", "knee")}
        on_page = {(r[col["mode"]], r[col["transport"]], int(r[col["devices"]]), int(r[col["nodes"]])): r[col["knee"]]
                   for r in body}
        self.assertEqual(on_page, EXPECTED_KNEES)
        with open(REPORT.index.parent / "knees.csv", newline="") as f:
            written = list(csv.DictReader(f))
        self.assertEqual(len(written), len(EXPECTED_KNEES))

    def test_html_references_every_image(self):
        for figure in EXPECTED_FIGURES:
            self.assertIn(f"{figure}.png", PAGE.images)
            self.assertIn(f"{figure}.svg", PAGE.links)
        for src in PAGE.images + [h for h in PAGE.links if not h.startswith("#")]:
            self.assertTrue((REPORT.index.parent / src).is_file(), src)

    def test_reference_table_sets_ours_next_to_the_study(self):
        rows = PAGE.tables["reference-table"]
        header = rows[0]
        self.assertIn("reference study", header)
        by_config = {}
        for r in rows[1:]:
            row = dict(zip(header, r))
            by_config[(row["quantity"], row["devices"], row["nodes"], row["transport"])] = row
        knee_1_50 = by_config[("knee (request rate)", "50", "1", "CoAP")]
        self.assertEqual(knee_1_50["reference study"], "~175 req/s")
        self.assertEqual(knee_1_50["ours, measured"], "200 req/s")
        self.assertEqual(knee_1_50["ours, simulated"], "200 req/s")
        self.assertEqual(by_config[("knee (request rate)", "50", "1", "DTLS")]["ours, measured"], "150 req/s")
        self.assertEqual(by_config[("knee (request rate)", "200", "1", "CoAP")]["ours, measured"], "not measured")
        latency_2_50 = by_config[("mean latency (below p95)", "50", "2", "CoAP")]
        self.assertEqual(latency_2_50["ours, measured"], "3..3.3 ms over 25..200 req/s")
        self.assertTrue(all(r[header.index("how the reference value was obtained")] for r in rows[1:]))

    def test_failed_points_are_tabulated_with_their_error(self):
        rows = PAGE.tables["failed-table"]
        self.assertEqual(len(rows), 2)
        row = dict(zip(rows[0], rows[1]))
        self.assertEqual(row["error"], 'deploy: node 2 did not start: "bind: address in use", gave up')
        self.assertEqual((row["devices"], row["nodes"], row["rate (req/s)"]), ("50", "2", "25"))

    def test_metadata_and_scenario_are_on_the_page(self):
        self.assertIn("fixture-host", PAGE_TEXT)
        self.assertIn("Fixture CPU @ 2.0GHz", PAGE_TEXT)
        self.assertIn("2025-11-24 16:00:00 UTC", PAGE_TEXT)
        self.assertIn("&quot;observe_path&quot;: &quot;/3313/0&quot;", PAGE_TEXT)
        self.assertEqual(REPORT.warnings, [])

    @unittest.skipUnless(CHROMIUM.exists(), f"{CHROMIUM} absent (Debian package chromium; scripts/install-deps.sh)")
    def test_chromium_renders_the_page_with_every_image(self):
        with tempfile.TemporaryDirectory(prefix="fogm2m-chromium-") as tmp:
            tmp = Path(tmp)
            # A copy of the page with a script that lists images that did not decode.
            check = REPORT.index.parent / "render-check.html"
            probe = ("<script>window.addEventListener('load', () => {"
                     "const broken = [...document.images].filter(i => !i.complete || i.naturalWidth === 0)"
                     ".map(i => i.getAttribute('src'));"
                     "const p = document.createElement('pre'); p.id = 'render-check';"
                     "p.textContent = JSON.stringify({images: document.images.length, broken});"
                     "document.body.appendChild(p); });</script></body>")
            check.write_text(PAGE_TEXT.replace("</body>", probe), encoding="utf-8")
            try:
                dom, _ = run_chromium(tmp / "profile-dom", ["--dump-dom", check.as_uri()])
            finally:
                check.unlink()
            found = re.search(r'<pre id="render-check">(.*?)</pre>', dom)
            self.assertIsNotNone(found, "the load handler did not run")
            state = json.loads(html.unescape(found.group(1)))
            self.assertEqual(state["broken"], [])
            self.assertEqual(state["images"], len(EXPECTED_FIGURES))

    @unittest.skipUnless(CHROMIUM.exists(), f"{CHROMIUM} absent (Debian package chromium; scripts/install-deps.sh)")
    def test_chromium_screenshot_is_the_page_and_the_console_is_quiet(self):
        with tempfile.TemporaryDirectory(prefix="fogm2m-chromium-") as tmp:
            tmp = Path(tmp)
            shot = tmp / "page.png"
            _, log = run_chromium(tmp / "profile-shot", [f"--screenshot={shot}", "--window-size=1280,2000",
                                                         REPORT.index.as_uri()])
            self.assertTrue(shot.is_file(), log[-2000:])
            pixels = matplotlib.image.imread(shot)
            self.assertEqual(pixels.shape[:2], (2000, 1280))
            self.assertGreater(float(np.var(pixels[..., :3])), 0.005)  # text and plots, not a blank page
            console = [line for line in log.splitlines() if ":CONSOLE" in line]
            self.assertEqual(console, [], "the page logged to the console")


def run_chromium(profile: Path, args: list[str]) -> tuple[str, str]:
    """Headless Chromium with a fresh profile and no network; (stdout, stderr)."""
    profile.mkdir()
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0"] + args
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        raise AssertionError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout, done.stderr


def write_records(directory: Path, rows: list[dict]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "records.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n", restval="")
        writer.writeheader()
        writer.writerows(rows)


def quick_row(devices, nodes, rate, latency, error=""):
    return {"scenario": "quick", "mode": "emulate", "point_index": 0, "repetition": 0, "devices": devices,
            "nodes": nodes, "request_rate": rate, "dtls": 0, "window_s": 10, "latency_mean_below_p95_ms": latency,
            "latency_p50_ms": latency, "latency_p99_ms": latency * 2, "latency_p999_ms": latency * 3,
            "node_throttling_ratio_mean": 0, "node_memory_mean_bytes_mean": 30e6, "node_rx_bytes_mean": rate * 1e3,
            "node_tx_bytes_mean": rate * 1e3, "node_cpu_s_mean": 0.3 + rate / 100, "requests_answered": rate * 10,
            "notifications_received": devices * 200, "error": error}


class PartialResultsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="fogm2m-report-partial-"))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_quick_sweep_without_metadata_or_samples(self):
        rows = [quick_row(d, n, r, 2 + r / 10 / n) for d in (25, 50) for n in (1, 2) for r in (10, 20)]
        write_records(self.tmp, rows)
        report = build_report(self.tmp)
        self.assertEqual(report.index, self.tmp / "report" / "index.html")
        drawn = {f.name: f for f in report.figures}
        for name in ("fig4_2_latency_vs_rate", "fig4_3_throttling_vs_rate", "fig4_4a_memory_vs_devices",
                     "fig4_4b_throughput_vs_rate", "node_cpu_per_message_vs_rate", "latency_percentiles_coap"):
            self.assertEqual(len(drawn[name].files), 2, name)
            for file in drawn[name].files:
                self.assertGreater((report.index.parent / file).stat().st_size, 0)
        self.assertEqual(drawn["latency_distribution"].files, [])
        self.assertIn("no record names a raw latency sample file", drawn["latency_distribution"].note)
        self.assertEqual(len(report.knees), 4)
        page = report.index.read_text()
        self.assertIn("metadata.json: not found", page)
        self.assertIn("None: every point ran.", page)

    def test_more_device_counts_than_panels_prefers_the_studys(self):
        rows = [quick_row(d, 1, r, 3) for d in range(25, 250, 25) for r in (25, 50)]
        write_records(self.tmp, rows)
        report = build_report(self.tmp)
        latency = next(f for f in report.figures if f.name == "fig4_2_latency_vs_rate")
        self.assertIn("Panels for 50, 100, 150, 200 devices only", latency.note)

    def test_every_point_failed(self):
        write_records(self.tmp, [quick_row(25, 1, 10, 3, error="redis-server did not start")])
        report = build_report(self.tmp)
        self.assertTrue(all(not f.files and f.note for f in report.figures))
        self.assertTrue(report.knees.empty)
        self.assertIn("redis-server did not start", report.index.read_text())

    def test_records_written_before_the_later_columns_still_load(self):
        rows = [quick_row(25, 1, r, 3) for r in (10, 20)]
        with open(self.tmp / "records.csv", "w", newline="") as f:
            older = [c for c in COLUMNS if c not in LATER_COLUMNS]
            writer = csv.DictWriter(f, fieldnames=older, lineterminator="\n", restval="", extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        report = build_report(self.tmp)
        self.assertEqual(len(report.knees), 1)

    def test_gateway_columns_appear_only_for_loads_through_the_gateway(self):
        rows = [quick_row(25, 1, r, 3) for r in (10, 20)]
        write_records(self.tmp, rows)
        self.assertNotIn("gateway CPU ms / 1000 req", build_report(self.tmp).index.read_text())
        for row in rows:
            row.update(gateway_cpu_s=0.5, gateway_cpu_ms_per_1000_requests=245, gateway_added_p50_ms=0.198,
                       gateway_added_p99_ms=0.479)
        write_records(self.tmp, rows)
        page = build_report(self.tmp).index.read_text()
        for title in ("gateway CPU ms / 1000 req", "gateway added p50 (ms)", "gateway added p99 (ms)"):
            self.assertIn(title, page)
        self.assertIn("<td class=\"num\">0.479</td>", page)

    def test_records_measured_on_a_slowed_machine_are_named_in_a_warning(self):
        rows = [quick_row(25, 1, r, 3) for r in (10, 20, 30)]
        for i, row in enumerate(rows):
            row["point_index"] = i
            row["host_speed_probe_us"] = 110
        rows[1]["host_speed_probe_us"] = 260
        write_records(self.tmp, rows)
        report = build_report(self.tmp)
        self.assertIn("point 1 rep 0; sim calibrate and validate leave these out", report.index.read_text())

    def test_slowed_machine_thresholds_are_those_of_the_cpp_header(self):
        header = (analysis_paths.REPO / "results" / "slowed_machine.h").read_text()
        constants = dict(re.findall(r"inline constexpr double (k\w+) = ([0-9.]+);", header))
        self.assertEqual(float(constants["kSlowedProbeFactor"]), records.SLOWED_PROBE_FACTOR)
        self.assertEqual(float(constants["kSlowedStealRatio"]), records.SLOWED_STEAL_RATIO)

    def test_header_only(self):
        write_records(self.tmp, [])
        report = build_report(self.tmp)
        self.assertTrue(report.index.is_file())

    def test_unreadable_results_raise_a_clear_error(self):
        with self.assertRaisesRegex(ResultsError, "records.csv: no such file"):
            build_report(self.tmp)
        (self.tmp / "records.csv").write_text("scenario,mode\nx,emulate\n")
        with self.assertRaisesRegex(ResultsError, "missing column\\(s\\): point_index, repetition"):
            build_report(self.tmp)

    def test_bad_cells_and_sample_files_are_warnings(self):
        rows = [quick_row(25, 1, 10, 3), quick_row(25, 1, 20, 4)]
        rows[0]["latency_p50_ms"] = "fast"
        rows[0]["latency_file"] = "latency/0-0.u32"
        rows[1]["latency_file"] = "../../etc/passwd"
        write_records(self.tmp, rows)
        (self.tmp / "latency").mkdir()
        (self.tmp / "latency" / "0-0.u32").write_bytes(b"\x01\x02\x03")
        (self.tmp / "metadata.json").write_text("{not json")
        report = build_report(self.tmp)
        text = "\n".join(report.warnings)
        self.assertIn("column latency_p50_ms: cells that are not numbers (line 2)", text)
        self.assertIn("3 bytes is not a whole number", text)
        self.assertIn("outside the results directory", text)
        self.assertIn("metadata.json: unreadable", text)

    def test_script_exit_codes(self):
        done = subprocess.run([sys.executable, str(analysis_paths.REPORT_SCRIPT), str(self.tmp)],
                              capture_output=True, text=True, timeout=300)
        self.assertEqual(done.returncode, 1)
        self.assertIn("records.csv: no such file", done.stderr)


if __name__ == "__main__":
    unittest.main()
