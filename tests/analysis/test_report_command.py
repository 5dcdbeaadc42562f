"""`fogm2m report` on the fixture: it finds analysis/report.py and a Python
with matplotlib and pandas, writes the report and prints where index.html
is; a missing script or interpreter is a clear error with a non-zero exit.
The binary comes from $FOGM2M_BINARY_DIR/cli/fogm2m (ctest sets it)."""

import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import analysis_paths

BINARY_DIR = os.environ.get("FOGM2M_BINARY_DIR", "")
FOGM2M = Path(BINARY_DIR) / "cli" / "fogm2m" if BINARY_DIR else None


@unittest.skipUnless(FOGM2M and FOGM2M.is_file(), "set FOGM2M_BINARY_DIR to a build dir with cli/fogm2m built")
class ReportCommandTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="fogm2m-report-cli-"))
        self.env = {k: v for k, v in os.environ.items() if k not in ("FOGM2M_ANALYSIS_DIR", "FOGM2M_PYTHON")}

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_report(self, *args, env=None):
        return subprocess.run([str(FOGM2M), "report", *map(str, args)], capture_output=True, text=True,
                              timeout=600, env=env or self.env)

    def test_writes_the_report_and_prints_where(self):
        out = self.tmp / "out"
        done = self.run_report(analysis_paths.FIXTURE, "--out", out)
        self.assertEqual(done.returncode, 0, done.stderr)
        index = out / "index.html"
        self.assertIn(f"fogm2m report: {index}", done.stdout)
        self.assertTrue(index.is_file())
        self.assertEqual(len(list(out.glob("*.png"))), 8)
        self.assertEqual(len(list(out.glob("*.svg"))), 8)

    def test_default_output_is_results_dir_report(self):
        results = self.tmp / "results"
        shutil.copytree(analysis_paths.FIXTURE, results)
        done = self.run_report(results, "--devices", "50")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn(str(results / "report" / "index.html"), done.stdout)

    def test_unreadable_results_fail_with_the_scripts_message(self):
        done = self.run_report(self.tmp)
        self.assertEqual(done.returncode, 1)
        self.assertIn("records.csv: no such file", done.stderr)
        self.assertIn("no report written", done.stderr)

    def test_missing_python_is_a_clear_error(self):
        env = dict(self.env, FOGM2M_PYTHON=str(self.tmp / "no-python3"))
        done = self.run_report(analysis_paths.FIXTURE, "--out", self.tmp / "out", env=env)
        self.assertEqual(done.returncode, 2)
        self.assertIn("no python3 with matplotlib and pandas", done.stderr)
        self.assertIn("not found", done.stderr)

    def test_python_without_matplotlib_is_a_clear_error(self):
        # An interpreter that starts but cannot import anything beyond the core.
        fake = self.tmp / "python3"
        fake.write_text("#!/bin/sh\nexit 1\n")
        fake.chmod(0o755)
        env = dict(self.env, FOGM2M_PYTHON=str(fake))
        done = self.run_report(analysis_paths.FIXTURE, "--out", self.tmp / "out", env=env)
        self.assertEqual(done.returncode, 2)
        self.assertIn("lacks matplotlib/pandas/numpy", done.stderr)

    def test_analysis_dir_override_is_checked(self):
        env = dict(self.env, FOGM2M_ANALYSIS_DIR=str(self.tmp))
        done = self.run_report(analysis_paths.FIXTURE, env=env)
        self.assertEqual(done.returncode, 2)
        self.assertIn(f"FOGM2M_ANALYSIS_DIR={self.tmp} holds no report.py", done.stderr)

    def test_missing_results_dir_is_rejected(self):
        done = self.run_report(self.tmp / "absent")
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("absent", done.stderr + done.stdout)


if __name__ == "__main__":
    unittest.main()
