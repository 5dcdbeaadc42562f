"""Paths the analysis tests share, and the analysis package on sys.path.

unittest discovery (-s tests/analysis) puts this folder on sys.path, so the
test modules import this one first."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ANALYSIS_DIR = REPO / "analysis"
REPORT_SCRIPT = ANALYSIS_DIR / "report.py"
FIXTURE = REPO / "tests" / "data" / "report"

if str(ANALYSIS_DIR) not in sys.path:
    sys.path.insert(0, str(ANALYSIS_DIR))
