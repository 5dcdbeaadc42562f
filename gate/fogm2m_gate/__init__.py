"""The CI performance-regression gate: deterministic instruction counts and
statistical A/B scenario runs, compared against a baseline kept in
bench/baseline/.

Modules:
  mann_whitney  the two-sided Mann-Whitney U test (exact or normal)
  page          the comparison as an HTML page with plots
"""
