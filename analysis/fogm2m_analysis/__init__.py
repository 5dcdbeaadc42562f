"""fogm2m analysis: turns a results directory (records.csv, metadata.json,
latency/*.u32; records.jsonl and timeline/*.csv of runs with faults) into
plots in the style of the reference study, a knee table, a side-by-side
table against the study's points, fault timelines and one HTML report.

Modules, in the order data flows through them:
  records          load and check records.csv / metadata.json
  aggregate        curves: average over repetitions, spread
  knee             the knee of a latency curve
  reference        the reference study's points and the side-by-side table
  latency_samples  raw per-request latency files
  panels           panel layout, colours and line styles shared by figures
  figures          the matplotlib figures (PNG + SVG)
  faults           fault runs from records.jsonl and their timeline CSVs
  fault_timeline   the timeline figure of a run with faults
  html_page        index.html
  report           the whole pipeline
"""

import matplotlib

# Files only, never a display: the report runs in CI and over ssh.
matplotlib.use("Agg")
