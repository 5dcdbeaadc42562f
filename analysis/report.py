#!/usr/bin/env python3
"""Writes the HTML report of a fogm2m results directory.

    python3 analysis/report.py RESULTS_DIR [--out DIR] [--devices 50,100,...]

RESULTS_DIR holds records.csv, metadata.json and latency/ as the testbed
runner and the simulator write them (and, for scenarios with faults,
records.jsonl and timeline/). The report (index.html, every figure as PNG
and SVG, knees.csv, comparison.csv) goes to DIR, by default
RESULTS_DIR/report. `fogm2m report` runs this script.

Exit status: 0 written; 1 the results cannot be read; 2 bad arguments;
3 matplotlib, pandas or numpy is missing.
"""

import argparse
import sys
from pathlib import Path

EXIT_BAD_RESULTS = 1
EXIT_MISSING_MODULES = 3


def parse_devices(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated device counts, got {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive device counts, got {text!r}")
    return values


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Write the HTML report of a fogm2m results directory.")
    parser.add_argument("results_dir", help="directory with records.csv, metadata.json and latency/")
    parser.add_argument("--out", help="report directory (default: RESULTS_DIR/report)")
    parser.add_argument("--devices", type=parse_devices,
                        help="device counts that get a panel, e.g. 50,100,150,200 (default: those present, "
                             "or 50,100,150,200 when more than four are)")
    args = parser.parse_args(argv)

    try:
        import matplotlib  # noqa: F401
        import numpy  # noqa: F401
        import pandas  # noqa: F401
    except ImportError as e:
        print(f"report: {e.name} is missing for {sys.executable}: install python3-matplotlib and "
              "python3-pandas (scripts/install-deps.sh)", file=sys.stderr)
        return EXIT_MISSING_MODULES

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from fogm2m_analysis.records import ResultsError
    from fogm2m_analysis.report import build_report

    try:
        report = build_report(args.results_dir, args.out, devices=args.devices)
    except ResultsError as e:
        print(f"report: {e}", file=sys.stderr)
        return EXIT_BAD_RESULTS
    except OSError as e:
        print(f"report: {e}", file=sys.stderr)
        return EXIT_BAD_RESULTS
    for warning in report.warnings:
        print(f"report: warning: {warning}", file=sys.stderr)
    drawn = sum(1 for f in report.figures if f.files)
    timelines = ""
    if report.fault_timelines:
        read = sum(1 for t in report.fault_timelines if t.figure.files)
        timelines = f", {read} of {len(report.fault_timelines)} fault timelines"
    print(f"report: {drawn} of {len(report.figures)} figures, {len(report.knees)} curves{timelines}; "
          f"wrote {report.index.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
