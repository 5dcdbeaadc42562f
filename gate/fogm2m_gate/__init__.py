"""The CI performance-regression gate: deterministic instruction counts and
statistical A/B scenario runs, compared against a baseline kept in
bench/baseline/.

Modules:
  mann_whitney  the two-sided Mann-Whitney U test (exact or normal)
  page          the comparison as an HTML page with plots
"""

import sys
from pathlib import Path

# The report's package (analysis/fogm2m_analysis): the record measures the
# gate shares with it are defined there once.
_ANALYSIS = str(Path(__file__).resolve().parents[2] / "analysis")
if _ANALYSIS not in sys.path:
    sys.path.append(_ANALYSIS)
