"""The timeline figure of a run with faults (faults.FaultRun), saved as PNG and
SVG like every figure of the report.

Stacked panels over the seconds since the load started: answered (and sent)
requests/s, notifications/s, p99 latency, failed requests/s (error replies
and timeouts, stacked) and, when the timeline has ownership samples, the
devices each node owned. On every panel a dashed line marks each fault (its
kind and target written above the top panel), a shaded span the duration of
faults that last, short ticks at the bottom the seconds in which the load
balancer's node set changed, and a grey span the warm-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure

from . import panels
from .faults import FaultRun, Timeline, TimelineError, read_timeline
from .figures import FigureOutput

FAULT_COLOUR = "crimson"
LOAD_BALANCER_COLOUR = "0.25"
WARMUP_COLOUR = "0.88"
LOG_RATIO = 30.0  # p99 on a log axis when its values span more than this
PANEL_HEIGHT = 1.9
WIDTH = 10.0


@dataclass
class FaultTimeline:
    """A fault run with its figure; `problem` says why the timeline could not
    be read (the figure then has no files), "" when it was."""

    run: FaultRun
    figure: FigureOutput
    timeline: Timeline | None
    problem: str = ""


def draw_all(runs: list[FaultRun], results_dir: Path, out_dir: Path, warmup_s: float,
             warnings: list[str]) -> list[FaultTimeline]:
    """A FaultTimeline per run; timelines that cannot be read become a
    warning and a figure without files."""
    out, used = [], set()
    for run in runs:
        name = f"timeline-{run.point_index}-{run.repetition}"
        if name in used:  # records of two modes in one directory
            name = f"timeline-{re.sub(r'[^a-z0-9_]', '_', run.mode)}-{run.point_index}-{run.repetition}"
        used.add(name)
        out.append(draw(run, results_dir, out_dir, name, warmup_s, warnings))
    return out


def draw(run: FaultRun, results_dir: Path, out_dir: Path, name: str, warmup_s: float,
         warnings: list[str]) -> FaultTimeline:
    figure = FigureOutput(
        name=name,
        title=_title(run),
        caption=("One value per second since the load started (warm-up included, grey). Panels: requests answered "
                 "and sent per second; notifications received per second; p99 latency of the requests answered in "
                 "that second; failed requests per second (error replies and timeouts, stacked); devices owned by "
                 "each node. Dashed red lines: the faults, at the time they were scheduled; red spans: faults that "
                 "last; short dark ticks at the bottom: the load balancer's node set changed in that second."))
    try:
        timeline = read_timeline(results_dir, run.timeline_file)
    except TimelineError as e:
        problem = str(e)
        figure.note = f"Not drawn: the timeline could not be read: {problem}"
        warnings.append(f"fault timeline of {run.name}: {problem}")
        return FaultTimeline(run=run, figure=figure, timeline=None, problem=problem)
    figure.files, notes = _draw(run, timeline, figure.title, out_dir, name, warmup_s)
    if notes:
        figure.caption += " " + " ".join(notes)
    return FaultTimeline(run=run, figure=figure, timeline=timeline)


def _title(run: FaultRun) -> str:
    point = f"{run.devices} devices, {run.nodes} node{'s' if run.nodes != 1 else ''}, {run.request_rate:g} req/s"
    mode = f", {panels.MODE_LABEL.get(run.mode, run.mode)}" if run.mode else ""
    return f"Timeline of {run.name} ({point}{mode})"


def _draw(run: FaultRun, timeline: Timeline, title: str, out_dir: Path, name: str,
          warmup_s: float) -> tuple[list[str], list[str]]:
    """Draws and saves the figure; (file names, sentences for the caption)."""
    frame = timeline.frame
    owned = [c for c in timeline.owned if frame[c].notna().any()]
    rows = ["requests", "notifications", "p99", "errors"] + (["owned"] if owned else [])
    figure = Figure(figsize=(WIDTH, PANEL_HEIGHT * len(rows) + 1.4), layout="constrained")
    raw = figure.subplots(len(rows), 1, sharex=True, squeeze=False)
    axes = {row: raw[i][0] for i, row in enumerate(rows)}
    notes = []

    _steps(axes["requests"], frame, "sent", color="0.55", linewidth=1, linestyle="--", label="requests sent")
    _steps(axes["requests"], frame, "answered", color="tab:blue", linewidth=1.4, label="requests answered")
    axes["requests"].set_ylabel("requests/s")
    axes["requests"].set_ylim(bottom=0)

    _steps(axes["notifications"], frame, "notifications", color="tab:green", linewidth=1.4,
           label="notifications received")
    axes["notifications"].set_ylabel("notifications/s")
    axes["notifications"].set_ylim(bottom=0)

    p99 = frame["p99_ms"].where(frame["p99_ms"] > 0)  # 0: nothing answered in that second
    _steps(axes["p99"], frame.assign(p99_ms=p99), "p99_ms", color="tab:purple", linewidth=1.4,
           label="p99 latency")
    axes["p99"].set_ylabel("p99 (ms)")
    positive = p99.dropna().to_numpy()
    if positive.size and positive.max() / positive.min() > LOG_RATIO:
        axes["p99"].set_yscale("log")
        notes.append("Logarithmic p99 axis: the values span more than 30x.")

    errors = axes["errors"]
    err, timed_out = frame["err"].fillna(0), frame["timed_out"].fillna(0)
    errors.bar(frame["second"], err, width=1.0, align="edge", color="tab:orange", label="error replies")
    errors.bar(frame["second"], timed_out, width=1.0, align="edge", bottom=err, color="tab:brown",
               label="timed out")
    errors.set_ylabel("failed/s")
    errors.set_ylim(bottom=0)
    if not (err + timed_out).any():
        errors.text(0.5, 0.5, "no failed request", transform=errors.transAxes, ha="center", va="center",
                    color="0.5")

    if owned:
        # Colours the other panels do not use; earlier lines wider, so that
        # nodes owning as many devices do not hide each other.
        palette = colormaps["Dark2"]
        for i, column in enumerate(owned):
            _steps(axes["owned"], frame, column, color=palette(i % palette.N), linewidth=max(1.0, 3.0 - 0.7 * i),
                   label=f"owned by {timeline.node(column)}")
        axes["owned"].set_ylabel("devices owned")
        axes["owned"].set_ylim(bottom=0)
        if frame[owned].isna().any(axis=None):
            notes.append("Gaps in the ownership lines: seconds in which ownership was not sampled.")
    else:
        notes.append("No ownership panel: the timeline has no ownership samples.")

    end = float(frame["second"].max()) + 1
    for row, ax in axes.items():
        ax.grid(True, alpha=0.3)
        ax.set_xlim(0, end)
        if warmup_s > 0:
            ax.axvspan(0, min(warmup_s, end), color=WARMUP_COLOUR, alpha=0.6, linewidth=0, zorder=0,
                       label="warm-up")
        _mark_faults(ax, run)
        for second, _ in timeline.load_balancer_changes():
            ax.axvline(second + 0.5, ymin=0, ymax=0.09, color=LOAD_BALANCER_COLOUR, linewidth=1.6,
                       label="load balancer node set changed")
    _label_faults(axes[rows[0]], run, end)
    axes[rows[-1]].set_xlabel("seconds since the load started (warm-up included)")
    figure.suptitle(title, fontsize=12)
    panels.add_legend(figure)
    return panels.save(figure, out_dir, name), notes


def _steps(ax, frame: pd.DataFrame, column: str, **style):
    """`column` as steps, each second's value over [second, second + 1);
    empty cells leave a gap."""
    x = np.append(frame["second"].to_numpy(dtype=float), frame["second"].iloc[-1] + 1)
    y = frame[column].to_numpy(dtype=float)
    ax.step(x, np.append(y, y[-1]), where="post", **style)


def _mark_faults(ax, run: FaultRun):
    for outcome in run.outcomes:
        if outcome.duration_s > 0:
            ax.axvspan(outcome.at_s, outcome.at_s + outcome.duration_s, color=FAULT_COLOUR, alpha=0.10,
                       linewidth=0, label="fault lasting")
        ax.axvline(outcome.at_s, color=FAULT_COLOUR, linestyle="--", linewidth=1.1, label="fault")


def _label_faults(ax, run: FaultRun, end: float):
    """"kind target" above the top panel at each fault; a label that would run
    into the previous one on its level goes one level up."""
    last_on_level: list[float] = []
    min_gap = 0.2 * end
    for outcome in run.outcomes:
        level = next((i for i, x in enumerate(last_on_level) if outcome.at_s - x >= min_gap), len(last_on_level))
        if level == len(last_on_level):
            last_on_level.append(outcome.at_s)
        else:
            last_on_level[level] = outcome.at_s
        text = outcome.label + (" (injection failed)" if outcome.error else "")
        ax.text(outcome.at_s, 1.03 + 0.16 * level, text, transform=ax.get_xaxis_transform(), fontsize=8,
                color=FAULT_COLOUR, ha="left", va="bottom", clip_on=False)
