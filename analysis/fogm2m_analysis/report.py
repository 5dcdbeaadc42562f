"""The whole report: results directory in, one self-contained folder out
(index.html, the figures as PNG and SVG, knees.csv and comparison.csv; for
runs with faults their timeline figures)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import fault_timeline, figures, html_page
from .aggregate import average_points, varying_columns, with_variant
from .faults import load_fault_runs
from .knee import knee_table
from .records import load_results
from .reference import DEFAULT_FILE, ReferenceError, load_reference, side_by_side


@dataclass
class Report:
    index: Path  # index.html
    figures: list[figures.FigureOutput]
    knees: pd.DataFrame
    comparison: pd.DataFrame | None
    warnings: list[str]
    fault_timelines: list[fault_timeline.FaultTimeline]  # records with faults (records.jsonl)


def build_report(results_dir: str | Path, out_dir: str | Path | None = None, devices: list[int] | None = None,
                 reference_file: str | Path = DEFAULT_FILE) -> Report:
    """Writes the report of `results_dir` into `out_dir` (default
    results_dir/report), creating it. Raises records.ResultsError when the
    results cannot be read at all; everything less severe is a warning on the
    page and in Report.warnings."""
    results = load_results(results_dir)
    out = Path(out_dir) if out_dir is not None else results.directory / "report"
    out.mkdir(parents=True, exist_ok=True)
    warnings = list(results.warnings)

    ok = results.ok
    ok = with_variant(ok, varying_columns(ok))
    points = average_points(ok)
    knees = knee_table(points)

    try:
        reference = load_reference(reference_file)
        comparison = side_by_side(reference, points, knees)
        reference_problem = ""
    except ReferenceError as e:
        reference, comparison, reference_problem = None, None, str(e)
        warnings.append(f"reference points: {e}")

    present = sorted(set(points["devices"])) if not points.empty else []
    ctx = figures.Context(points=points, records=ok, reference=reference, results_dir=results.directory,
                          out_dir=out, devices=devices or [], warnings=warnings)
    outputs = figures.build_all(ctx)
    timelines = fault_timeline.draw_all(load_fault_runs(results.directory, warnings), results.directory, out,
                                        _warmup_s(results.metadata), warnings)

    knees.to_csv(out / "knees.csv", index=False)
    # One row per point: the mean of every metric and its spread over the
    # repetitions (median, min, max, bootstrap 95 % interval of the mean).
    points.to_csv(out / "points.csv", index=False)
    if comparison is not None:
        comparison.to_csv(out / "comparison.csv", index=False)

    page = html_page.Page(
        title=_title(results.metadata, results.records),
        results_dir=str(results.directory.resolve()),
        generated_utc=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        summary=_summary(results.records, points, present, timelines),
        figures=outputs,
        knees=knees,
        comparison=comparison,
        reference_problem=reference_problem,
        failed=results.failed,
        points=points,
        metadata=results.metadata,
        warnings=warnings,
        faults=timelines,
    )
    index = out / "index.html"
    index.write_text(html_page.render(page), encoding="utf-8")
    return Report(index=index, figures=outputs, knees=knees, comparison=comparison, warnings=warnings,
                  fault_timelines=timelines)


def _title(metadata: dict | None, records: pd.DataFrame) -> str:
    name = ""
    if metadata and isinstance(metadata.get("scenario"), dict):
        name = str(metadata["scenario"].get("name", ""))
    if not name and not records.empty:
        name = ", ".join(sorted(set(records["scenario"]) - {""}))
    return f"fogm2m report: {name}" if name else "fogm2m report"


def _warmup_s(metadata: dict | None) -> float:
    """The scenario's warm-up (metadata.json), 0 when unknown."""
    scenario = metadata.get("scenario") if metadata else None
    value = scenario.get("warmup_s", 0) if isinstance(scenario, dict) else 0
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return 0.0


def _summary(records: pd.DataFrame, points: pd.DataFrame, devices: list[int],
             timelines: list[fault_timeline.FaultTimeline]) -> list[tuple[str, str]]:
    failed = int(records["failed"].sum()) if not records.empty else 0

    def values(column: str) -> str:
        if points.empty:
            return "none"
        return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in sorted(set(points[column])))

    modes = ", ".join(sorted(set(records["mode"]))) if not records.empty else "none"
    rows = [
        ("records", f"{len(records)} ({failed} failed)"),
        ("points plotted", str(len(points))),
        ("modes", modes),
        ("devices", ", ".join(map(str, devices)) or "none"),
        ("nodes", values("nodes")),
        ("request rates (req/s)", values("request_rate")),
        ("transports", values("transport")),
    ]
    if timelines:
        rows.append(("runs with faults", str(len(timelines))))
    return rows
