"""page.write_page: the gate's HTML page of a comparison with deterministic
and statistical measures, its PNG files, new and missing measures, and
escaping."""

import html.parser
import sys
import tempfile
import unittest
from pathlib import Path

GATE_DIR = Path(__file__).resolve().parents[2] / "gate"
if str(GATE_DIR) not in sys.path:
    sys.path.insert(0, str(GATE_DIR))

from fogm2m_gate.page import change_text, p_text, write_page  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BASELINE_CPU = [9.1, 9.4, 8.9, 9.0, 9.3, 9.2, 9.6, 9.1, 9.0]
NOW_CPU = [10.2, 10.4, 10.1, 9.9, 10.6, 10.3, 10.0, 10.5, 10.2]


def deterministic(name, baseline, now, verdict, threshold=0.03):
    return {"name": name, "kind": "deterministic", "unit": "instructions per iteration",
            "baseline": [] if baseline is None else [baseline], "now": [] if now is None else [now],
            "baseline_value": baseline, "now_value": now,
            "change": None if baseline is None or now is None else now / baseline - 1,
            "p_value": None, "spread": None, "threshold": threshold, "verdict": verdict}


def statistical(name, unit, baseline, now, p_value, verdict, threshold=0.10):
    def median(values):
        return sorted(values)[len(values) // 2] if values else None
    spread = {"baseline": [min(baseline), max(baseline)] if baseline else None,
              "now": [min(now), max(now)] if now else None}
    change = median(now) / median(baseline) - 1 if baseline and now else None
    return {"name": name, "kind": "statistical", "unit": unit, "baseline": baseline, "now": now,
            "baseline_value": median(baseline), "now_value": median(now), "change": change,
            "p_value": p_value, "spread": spread, "threshold": threshold, "verdict": verdict}


def comparison(measures, verdict):
    return {"commit": "55c3ec8f00aa", "baseline_commit": "2b6eaf2b11bb", "generated_unix_s": 1796600000.0,
            "verdict": verdict, "measures": measures}


REGRESSION = comparison([
    deterministic("coap_codec_bench/BM_CoapDecode", 12345.0, 12400.0, "ok"),
    deterministic("coap_codec_bench/BM_CoapEncode", 8000.0, 7600.0, "improvement"),
    statistical("ci.yaml rate=200 node CPU per 1000 messages", "ms CPU", BASELINE_CPU, NOW_CPU, 0.0004,
                "regression"),
    statistical("ci.yaml rate=200 p99 latency", "ms", [4.1, 4.3, 4.0, 4.2, 4.4, 4.1, 4.2, 4.3, 4.0],
                [4.2, 4.1, 4.3, 4.0, 4.2, 4.4, 4.1, 4.2, 4.3], 0.71, "ok"),
], "regression")


class Links(html.parser.HTMLParser):
    """The img sources and the text of a page."""

    def __init__(self):
        super().__init__()
        self.images: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])

    def handle_data(self, data):
        self.text.append(data)


def parse(path: Path) -> Links:
    links = Links()
    links.feed(path.read_text(encoding="utf-8"))
    return links


class PageTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.out = Path(self.tmp.name) / "gate"

    def tearDown(self):
        self.tmp.cleanup()

    def assert_pngs(self, page: Path, links: Links, expected: int):
        self.assertEqual(len(links.images), expected)
        self.assertEqual(len(set(links.images)), expected)
        for src in links.images:
            with self.subTest(src=src):
                self.assertNotIn("/", src)
                data = (page.parent / src).read_bytes()
                self.assertGreater(len(data), 1000)
                self.assertEqual(data[:8], PNG_SIGNATURE)

    def test_regression_page(self):
        page = write_page(REGRESSION, self.out)
        self.assertEqual(page, self.out / "index.html")
        self.assertTrue(page.is_file())
        text = page.read_text(encoding="utf-8")
        links = parse(page)
        visible = " ".join(links.text)
        for measure in REGRESSION["measures"]:
            self.assertIn(measure["name"], visible)
        self.assertIn("REGRESSION", visible)
        self.assertIn("fogm2m performance gate", visible)
        self.assertIn("55c3ec8f00aa", visible)
        self.assertIn("2b6eaf2b11bb", visible)
        self.assertIn("2026-12-06 23:33:20 UTC", visible)  # 1796600000 s
        self.assertIn('<tr class="regression">', text)
        self.assertIn('<tr class="improvement">', text)
        self.assertIn("+0.4 %", visible)  # 12400 / 12345 - 1
        self.assertIn("-5.0 %", visible)  # 7600 / 8000 - 1
        self.assertIn("p = 0.0004", visible)
        self.assertNotIn("<script", text)
        self.assertNotIn("http", text)
        # One chart of the deterministic measures, one plot per statistical one.
        self.assert_pngs(page, links, 3)

    def test_pass_page(self):
        passing = comparison([m for m in REGRESSION["measures"] if m["verdict"] != "regression"], "pass")
        page = write_page(passing, self.out)
        visible = " ".join(parse(page).text)
        self.assertIn("PASS", visible)
        self.assertNotIn("REGRESSION", visible)

    def test_new_and_missing_measures(self):
        measures = [
            deterministic("coap_codec_bench/BM_CoapDecode", 12345.0, 12400.0, "ok"),
            deterministic("coap_codec_bench/BM_Fresh", None, 5000.0, "new"),
            deterministic("coap_codec_bench/BM_Gone", 7000.0, None, "missing"),
            statistical("ci.yaml rate=300 node CPU per 1000 messages", "ms CPU", [], NOW_CPU, None, "new"),
            statistical("ci.yaml rate=100 node CPU per 1000 messages", "ms CPU", BASELINE_CPU, [], None, "missing"),
        ]
        page = write_page(comparison(measures, "pass"), self.out)
        text = page.read_text(encoding="utf-8")
        links = parse(page)
        visible = " ".join(links.text)
        for measure in measures:
            self.assertIn(measure["name"], visible)
        self.assertEqual(text.count('<tr class="new">'), 2)
        self.assertEqual(text.count('<tr class="missing">'), 2)
        rows = text.split("<tr")[1:]
        for row in rows:
            if 'class="new"' in row or 'class="missing"' in row:
                self.assertIn('<td class="num">–</td>', row)
        self.assert_pngs(page, links, 3)

    def test_only_deterministic_measures(self):
        measures = [deterministic("a/BM_A", 100.0, 104.0, "regression"), deterministic("a/BM_B", 100.0, 99.0, "ok")]
        page = write_page(comparison(measures, "regression"), self.out)
        self.assert_pngs(page, parse(page), 1)

    def test_no_measures(self):
        page = write_page(comparison([], "pass"), self.out)
        links = parse(page)
        self.assertEqual(links.images, [])
        self.assertIn("PASS", " ".join(links.text))

    def test_everything_is_escaped(self):
        hostile = '<script>alert("x")</script> & "quoted"'
        measures = [deterministic(f"bench/{hostile}", 100.0, 101.0, "ok"),
                    statistical(f"scenario {hostile}", f"ms <{hostile}>", BASELINE_CPU, NOW_CPU, 0.5, "ok")]
        data = comparison(measures, "pass")
        data["commit"] = f"<b>{hostile}</b>"
        page = write_page(data, self.out)
        text = page.read_text(encoding="utf-8")
        self.assertNotIn("<script", text)
        self.assertNotIn("<b>", text)
        self.assertIn("&lt;script&gt;", text)
        links = parse(page)
        self.assertIn(f"bench/{hostile}", " ".join(links.text))
        self.assert_pngs(page, links, 2)


class TextTest(unittest.TestCase):
    def test_change_text(self):
        self.assertEqual(change_text(0.12), "+12.0 %")
        self.assertEqual(change_text(-0.0445), "-4.5 %")
        self.assertEqual(change_text(-0.0001), "+0.0 %")
        self.assertEqual(change_text(None), "–")

    def test_p_text(self):
        self.assertEqual(p_text(0.003), "0.003")
        self.assertEqual(p_text(0.4712), "0.471")
        self.assertEqual(p_text(4.1135e-05), "4.1e-05")


if __name__ == "__main__":
    unittest.main()
