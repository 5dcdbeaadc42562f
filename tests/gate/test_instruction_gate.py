"""The deterministic gate on the real node path (node_path_bench under
callgrind): counts repeat, and the build with the injected slowdown
(node_path_bench_slowed, server/injected_slowdown.h) is caught at +5 %
while the unslowed build passes, through perf_gate.py's exit status.

Needs FOGM2M_BINARY_DIR (ctest sets it) with both benches built, and
valgrind."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GATE_DIR = ROOT / "gate"
if str(GATE_DIR) not in sys.path:
    sys.path.insert(0, str(GATE_DIR))

from fogm2m_gate import baseline, instructions  # noqa: E402

BUILD = Path(os.environ.get("FOGM2M_BINARY_DIR", ROOT / "build"))
HAVE = shutil.which("valgrind") and (BUILD / "bench" / "node_path_bench_slowed").exists()


@unittest.skipUnless(HAVE, "needs valgrind and node_path_bench(_slowed) in FOGM2M_BINARY_DIR")
class InstructionGate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        only = ("node_path_bench",)
        cls.plain = instructions.measure(BUILD, only=only, progress=lambda _: None)
        cls.slowed = {p: instructions.measure(BUILD, p, only=only, progress=lambda _: None)
                      for p in (5, 20)}

    def test_counts_repeat_to_the_instruction_whatever_the_environment(self):
        # The caller's environment (its size moves the stack's alignment) and
        # the build's path (copied to the heap) must not move the counts.
        os.environ["FOGM2M_GATE_TEST_PADDING"] = "x" * 87
        try:
            with tempfile.TemporaryDirectory() as tmp:
                deeper = Path(tmp) / "a-much-longer-build-folder-name" / "bench"
                deeper.mkdir(parents=True)
                shutil.copy2(BUILD / "bench" / "node_path_bench", deeper / "node_path_bench")
                again = instructions.measure(deeper.parent, only=("node_path_bench",),
                                             progress=lambda _: None)
        finally:
            del os.environ["FOGM2M_GATE_TEST_PADDING"]
        for name, count in self.plain.items():
            self.assertAlmostEqual(again[name], count, delta=count * 1e-4, msg=name)

    def test_the_injected_slowdown_is_what_it_says_on_the_notification_path(self):
        notification = "node_path_bench/BM_NodeNotification"
        for percent, counts in self.slowed.items():
            change = counts[notification] / self.plain[notification] - 1
            self.assertAlmostEqual(change * 100, percent, delta=max(0.5, percent * 0.1),
                                   msg=f"+{percent}%")
        # A read is one message into the node (the bus request; the device's
        # answer completes it): it pays the spin once.
        request = "node_path_bench/BM_NodeRequest"
        self.assertGreater(self.slowed[5][request], self.plain[request] * 1.01)

    def test_perf_gate_fails_the_slowed_build_and_passes_the_plain_one(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            file = tmp / "baseline.json"
            baseline.save(file, baseline.Baseline(
                commit=baseline.head_commit(ROOT), reason="test", accepted_unix_s=0,
                toolchain=baseline.toolchain(BUILD), instructions=self.plain))
            gate = [sys.executable, str(GATE_DIR / "perf_gate.py"), "--build", str(BUILD),
                    "--baseline", str(file), "--only", "node_path_bench"]
            plain = subprocess.run(gate + ["--out", str(tmp / "plain")],
                                   capture_output=True, text=True)
            self.assertEqual(plain.returncode, 0, plain.stdout + plain.stderr)
            self.assertIn("perf-gate: PASS", plain.stdout)
            slowed = subprocess.run(gate + ["--slowdown", "5", "--out", str(tmp / "slowed")],
                                    capture_output=True, text=True)
            self.assertEqual(slowed.returncode, 1, slowed.stdout + slowed.stderr)
            self.assertIn("perf-gate: REGRESSION", slowed.stdout)
            comparison = json.loads((tmp / "slowed" / "comparison.json").read_text())
            verdicts = {m["name"]: m["verdict"] for m in comparison["measures"]}
            self.assertEqual(verdicts["node_path_bench/BM_NodeNotification"], "regression")
            self.assertTrue((tmp / "slowed" / "index.html").exists())


@unittest.skipUnless((BUILD / "cli" / "fogm2m").exists() and shutil.which("nm"),
                     "needs the fogm2m executable and nm")
class ShippedBinary(unittest.TestCase):
    def test_fogm2m_has_only_the_empty_seam(self):
        symbols = subprocess.run(["nm", "-C", str(BUILD / "cli" / "fogm2m")],
                                 capture_output=True, text=True, check=True).stdout
        seam = [line for line in symbols.splitlines() if "injected_slowdown" in line]
        self.assertEqual(len(seam), 1, seam)
        self.assertIn(" W fogm2m::server::injected_slowdown()", seam[0])


if __name__ == "__main__":
    unittest.main()
