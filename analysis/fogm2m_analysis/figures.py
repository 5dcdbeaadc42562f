"""The report's figures, each saved as PNG and SVG.

Modelled on the reference study's Fig. 4.2 (latency vs request rate, a panel
per device count, a line per node count, CoAP and DTLS side by side), 4.3
(CPU throttling ratio per node, same panels) and 4.4 (memory per node vs
devices, network throughput per node vs request rate), plus latency
percentiles and latency distributions, which the study did not show.
Measured points are solid lines, simulated ones dashed; where a point ran more
than once, a shaded band is the min..max over its repetitions and, for the
metrics of spread.INTERVAL_METRICS, an error bar the bootstrap 95 % interval
of their mean. Each builder
returns a FigureOutput; when a figure cannot be drawn from the records at
hand it has no files and a note saying why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import panels
from .knee import FACTOR, find_knee
from .latency_samples import SampleFileError, empirical_cdf, read_samples_ms
from .records import LATENCY

TRANSPORTS = ("CoAP", "DTLS")
PERCENTILES = (("latency_p50_ms", "p50"), ("latency_p99_ms", "p99"), ("latency_p999_ms", "p99.9"))
THROTTLING_QUEUEING = 0.8  # the study saw requests queue above this ratio


@dataclass
class FigureOutput:
    name: str  # file stem
    title: str
    caption: str
    files: list[str] = field(default_factory=list)  # name.png, name.svg; empty when not drawn
    note: str = ""  # why the figure is missing or partial


@dataclass
class Context:
    """What the figure builders share."""

    points: pd.DataFrame  # aggregate.average_points() of the successful records
    records: pd.DataFrame  # the successful records with their variant (for sample files)
    reference: pd.DataFrame | None  # reference.load_reference(), None when unavailable
    results_dir: Path
    out_dir: Path
    devices: list[int]  # device counts that get a panel
    colours: panels.NodeColours = None
    markers: panels.VariantMarkers = None
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.colours = panels.NodeColours(self.points["nodes"] if not self.points.empty else [])
        self.markers = panels.VariantMarkers(self.points["variant"] if not self.points.empty else [])

    def transports(self, frame: pd.DataFrame) -> list[str]:
        return [t for t in TRANSPORTS if (frame["transport"] == t).any()]


def build_all(ctx: Context) -> list[FigureOutput]:
    """Every figure of the report, in the order the page shows them."""
    outputs = [
        latency_vs_rate(ctx),
        throttling_vs_rate(ctx),
        memory_vs_devices(ctx),
        throughput_vs_rate(ctx),
        node_cpu_per_message_vs_rate(ctx),
    ]
    outputs += latency_percentiles(ctx)
    outputs.append(latency_distribution(ctx))
    return outputs


# --- Figures over the request rate (Fig. 4.2, 4.3, 4.4 right) -------------

def latency_vs_rate(ctx: Context) -> FigureOutput:
    out = FigureOutput(
        name="fig4_2_latency_vs_rate",
        title="Mean latency vs request rate (reference study Fig. 4.2)",
        caption=("Mean of the samples below the 95th percentile (the reference study's figure), one panel per "
                 "device count and transport, one line per node count. Crosses and dotted lines: the reference "
                 "study's values (from its text, approximate) where they fall inside our range; dotted verticals: "
                 "its knees. All reference points are in the side-by-side table."))

    def overlay(ax, devices, transport, panel_points):
        _our_knees(ctx, ax, panel_points)
        _reference_latency(ctx, ax, devices, transport, panel_points)

    return _rate_figure(ctx, out, LATENCY, "latency (ms)", overlay=overlay, log_when_wide=True)


def _our_knees(ctx: Context, ax, panel_points: pd.DataFrame):
    """A ring around each curve's knee (knee.find_knee)."""
    for (mode, _, nodes, _), curve in panel_points.groupby(["mode", "dtls", "nodes", "variant"], sort=True):
        knee = find_knee(curve["request_rate"], curve[LATENCY])
        if knee.status == "knee":
            ax.plot([knee.rate], [knee.latency_ms], linestyle="none", marker="o", markersize=11,
                    markerfacecolor="none", markeredgewidth=1.5, color=ctx.colours(nodes),
                    label=f"knee ({FACTOR:g}x low-load latency)")


def throttling_vs_rate(ctx: Context) -> FigureOutput:
    out = FigureOutput(
        name="fig4_3_throttling_vs_rate",
        title="CPU throttling ratio per node vs request rate (reference study Fig. 4.3)",
        caption=("nr_throttled / nr_periods of each node's cgroup over the window, mean over the nodes of a point. "
                 f"Grey line: {THROTTLING_QUEUEING:.0%} of periods throttled, above which the reference study saw "
                 "requests queue and latency reach 1500 ms. Without a CPU quota a node is never throttled (0)."))

    def overlay(ax, devices, transport, panel_points):
        ax.axhline(THROTTLING_QUEUEING, color="0.5", linestyle="--", linewidth=1,
                   label=f"{THROTTLING_QUEUEING:.0%} throttled (study: queueing)")
        ax.set_ylim(-0.02, 1.02)

    return _rate_figure(ctx, out, "node_throttling_ratio_mean", "throttled periods / periods", overlay=overlay)


def throughput_vs_rate(ctx: Context) -> FigureOutput:
    out = FigureOutput(
        name="fig4_4b_throughput_vs_rate",
        title="Network throughput per node vs request rate (reference study Fig. 4.4)",
        caption=("(received + sent bytes of the node's network namespace) / measured window, mean over the nodes "
                 "of a point. The reference study found it about linear in the request rate and barely changed "
                 "by DTLS."))
    return _rate_figure(ctx, out, "throughput_bytes_s", "kB/s per node", scale=1e-3)


def node_cpu_per_message_vs_rate(ctx: Context) -> FigureOutput:
    out = FigureOutput(
        name="node_cpu_per_message_vs_rate",
        title="Node CPU per 1,000 messages vs request rate",
        caption=("CPU time of all nodes' cgroups over the window per 1,000 messages they handled (answered "
                 "requests + forwarded notifications): the cost the performance gate watches. The band spans "
                 "the repetitions of a point (min to max): how far runs of the same point disagree; the error "
                 "bar is the bootstrap 95 % interval of their mean."))
    return _rate_figure(ctx, out, "node_cpu_ms_per_1000_messages", "ms CPU per 1,000 messages")


def latency_percentiles(ctx: Context) -> list[FigureOutput]:
    """One figure per transport: a row per device count, a column per percentile."""
    outputs = []
    usable = _usable(ctx, [c for c, _ in PERCENTILES])
    transports = ctx.transports(usable) if not usable.empty else []
    if not transports:
        return [FigureOutput(name="latency_percentiles", title="Latency percentiles vs request rate",
                             caption="", note="Not drawn: no successful point with latency percentiles.")]
    for transport in transports:
        data = usable[usable["transport"] == transport]
        out = FigureOutput(
            name=f"latency_percentiles_{transport.lower()}",
            title=f"Latency percentiles vs request rate, {transport}",
            caption=("p50, p99 and p99.9 of every answered request's latency (from its scheduled send time), "
                     "which the reference study did not show; one line per node count."))
        devices = _panel_devices(ctx, data, out)
        grid = panels.make_grid(devices, [label for _, label in PERCENTILES],
                                row_title=lambda d: f"{d} devices", column_title=lambda p: p)
        for d in devices:
            for column, label in PERCENTILES:
                ax = grid.axes[(d, label)]
                _draw_curves(ctx, ax, data[data["devices"] == d], column)
        _finish_axes(grid, devices, [label for _, label in PERCENTILES], "request rate (req/s)", "latency (ms)")
        if _log_if_wide(grid, data[[c for c, _ in PERCENTILES]]):
            out.caption += " Logarithmic latency axis: the values span more than 30x."
        grid.figure.suptitle(out.title, fontsize=12)
        panels.add_legend(grid.figure)
        out.files = panels.save(grid.figure, ctx.out_dir, out.name)
        outputs.append(out)
    return outputs


def _rate_figure(ctx: Context, out: FigureOutput, column: str, ylabel: str, scale: float = 1.0, overlay=None,
                 log_when_wide: bool = False) -> FigureOutput:
    """Rows: device counts; columns: transports; x: request rate; y: column."""
    data = _usable(ctx, [column])
    if data.empty:
        out.note = f"Not drawn: no successful point has a value for {column}."
        return out
    devices = _panel_devices(ctx, data, out)
    transports = ctx.transports(data)
    grid = panels.make_grid(devices, transports, row_title=lambda d: f"{d} devices", column_title=lambda t: t)
    for d in devices:
        for t in transports:
            ax = grid.axes[(d, t)]
            panel_points = data[(data["devices"] == d) & (data["transport"] == t)]
            _draw_curves(ctx, ax, panel_points, column, scale)
            if panel_points.empty:
                ax.text(0.5, 0.5, "no points", transform=ax.transAxes, ha="center", va="center", color="0.5")
            if overlay:
                overlay(ax, d, t, panel_points)
    _finish_axes(grid, devices, transports, "request rate (req/s)", ylabel)
    if log_when_wide and _log_if_wide(grid, data[[column]] * scale):
        out.caption += " Logarithmic latency axis: the values span more than 30x."
    grid.figure.suptitle(out.title, fontsize=12)
    panels.add_legend(grid.figure)
    out.files = panels.save(grid.figure, ctx.out_dir, out.name)
    return out


def _draw_curves(ctx: Context, ax, points: pd.DataFrame, column: str, scale: float = 1.0, x: str = "request_rate",
                 band: bool | None = None):
    """One line per (mode, transport, nodes, variant) of `points` over `x`.
    The band is <column>_min..<column>_max: drawn where a point ran more than
    once, or always / never when `band` says so. Error bars are the bootstrap
    95 % interval of the mean (<column>_ci_low.._ci_high) of points that ran
    more than once, for the columns that have one."""
    for (mode, _, nodes, variant), curve in points.groupby(["mode", "dtls", "nodes", "variant"], sort=True):
        curve = curve.dropna(subset=[column]).sort_values(x)
        if curve.empty:
            continue
        colour = ctx.colours(nodes)
        ax.plot(curve[x], curve[column] * scale, linestyle=panels.MODE_STYLE.get(mode, "-"),
                marker=ctx.markers(variant), markersize=4, color=colour,
                label=panels.curve_label(nodes, mode, variant))
        if band if band is not None else (curve["repetitions"] > 1).any():
            ax.fill_between(curve[x], curve[f"{column}_min"] * scale, curve[f"{column}_max"] * scale,
                            color=colour, alpha=0.15, linewidth=0)
        repeated = curve[curve["repetitions"] > 1] if "repetitions" in curve else curve.iloc[0:0]
        if f"{column}_ci_low" in curve and not repeated.empty:
            y = repeated[column] * scale
            below = (y - repeated[f"{column}_ci_low"] * scale).clip(lower=0)
            above = (repeated[f"{column}_ci_high"] * scale - y).clip(lower=0)
            ax.errorbar(repeated[x], y, yerr=[below, above], fmt="none", ecolor=colour, elinewidth=1,
                        capsize=2.5)


def _reference_latency(ctx: Context, ax, devices: int, transport: str, panel_points: pd.DataFrame):
    """The reference study's latency values and knees of this panel, where
    they fall inside the panel's measured rate range."""
    if ctx.reference is None or panel_points.empty:
        return
    dtls = 1 if transport == "DTLS" else 0
    lo, hi = panel_points["request_rate"].min(), panel_points["request_rate"].max()
    present_nodes = set(panel_points["nodes"])
    ref = ctx.reference[(ctx.reference["devices"] == devices) & ctx.reference["nodes"].isin(present_nodes)
                        & (ctx.reference["dtls"].isna() | (ctx.reference["dtls"] == dtls))]
    for _, row in ref.iterrows():
        nodes = int(row["nodes"])
        colour = ctx.colours(nodes)
        label = f"reference study, {nodes} node{'s' if nodes != 1 else ''}"
        if row["quantity"] == "mean_latency_ms":
            if pd.isna(row["request_rate"]):
                ax.axhline(row["value"], color=colour, linestyle=":", linewidth=1.2, label=label)
            elif lo <= row["request_rate"] <= hi:
                ax.plot([row["request_rate"]], [row["value"]], linestyle="none", marker="X", markersize=9,
                        color=colour, markeredgecolor="black", label=label)
        elif row["quantity"] == "knee_rate" and row["relation"] in ("=", "~") and lo <= row["value"] <= hi:
            ax.axvline(row["value"], color=colour, linestyle=":", linewidth=1.2,
                       label=f"reference study knee, {nodes} node{'s' if nodes != 1 else ''}")


# --- Memory per node vs devices (Fig. 4.4 left) ----------------------------

def memory_vs_devices(ctx: Context) -> FigureOutput:
    out = FigureOutput(
        name="fig4_4a_memory_vs_devices",
        title="Memory per node vs devices (reference study Fig. 4.4)",
        caption=("Mean memory use of a node's cgroup over the window (mean over the nodes of a point), averaged "
                 "over the request rates of each configuration; the band spans those rates. Dash-dotted line: "
                 "the nodes' memory limit. Crosses: the reference study (1 server hit its 512 MB limit after "
                 "175 devices), where inside our range."))
    data = _usable(ctx, ["memory_mean_mb"])
    if data.empty:
        out.note = "Not drawn: no successful point has node memory figures."
        return out
    keys = ["mode", "dtls", "devices", "nodes", "variant"]
    by_devices = data.groupby(keys, sort=True).agg(
        transport=("transport", "first"), repetitions=("repetitions", "max"),
        memory_mean_mb=("memory_mean_mb", "mean"), memory_mean_mb_min=("memory_mean_mb", "min"),
        memory_mean_mb_max=("memory_mean_mb", "max"), memory_limit_mb=("memory_limit_mb", "max")).reset_index()
    transports = ctx.transports(by_devices)
    grid = panels.make_grid(["memory"], transports, row_title=lambda _: "", column_title=lambda t: t,
                            panel_size=(5.2, 3.6))
    lo, hi = by_devices["devices"].min(), by_devices["devices"].max()
    for t in transports:
        ax = grid.axes[("memory", t)]
        panel = by_devices[by_devices["transport"] == t]
        _draw_curves(ctx, ax, panel, "memory_mean_mb", x="devices", band=True)
        limits = panel["memory_limit_mb"].dropna().unique()
        if len(limits) == 1 and limits[0] > 0:
            ax.axhline(limits[0], color="0.3", linestyle="-.", linewidth=1, label=f"memory limit {limits[0]:g} MB")
        if ctx.reference is not None:
            ref = ctx.reference[(ctx.reference["quantity"] == "memory_per_node_mb")
                                & ctx.reference["nodes"].isin(set(panel["nodes"]))]
            for _, row in ref.iterrows():
                if lo <= row["devices"] <= hi:
                    ax.plot([row["devices"]], [row["value"]], linestyle="none", marker="X", markersize=9,
                            color=ctx.colours(row["nodes"]), markeredgecolor="black",
                            label=f"reference study, {int(row['nodes'])} node(s)")
    _finish_axes(grid, ["memory"], transports, "devices", "MB per node")
    grid.figure.suptitle(out.title, fontsize=12)
    panels.add_legend(grid.figure)
    out.files = panels.save(grid.figure, ctx.out_dir, out.name)
    if by_devices["devices"].nunique() < 2:
        out.note = "Only one device count was measured: each line is a single point."
    return out


# --- Latency distributions from the raw samples ----------------------------

def latency_distribution(ctx: Context) -> FigureOutput:
    out = FigureOutput(
        name="latency_distribution",
        title="Latency distribution at the lowest and highest request rate",
        caption=("Empirical CDF of every answered request's latency, read from the raw sample files; for each "
                 "curve its lowest (thin) and highest (thick) measured request rate, first repetition."))
    records = ctx.records
    if records.empty or not (records["latency_file"] != "").any():
        out.note = "Not drawn: no record names a raw latency sample file."
        return out
    with_files = records[records["latency_file"] != ""]
    devices = _panel_devices(ctx, with_files, out)
    transports = ctx.transports(with_files)
    grid = panels.make_grid(devices, transports, row_title=lambda d: f"{d} devices", column_title=lambda t: t,
                            sharey=True)
    drawn = 0
    for d in devices:
        for t in transports:
            ax = grid.axes[(d, t)]
            panel = records[(records["devices"] == d) & (records["transport"] == t) & (records["latency_file"] != "")]
            for (mode, nodes, variant), curve in panel.groupby(["mode", "nodes", "variant"], sort=True):
                rates = sorted(curve["request_rate"].unique())
                for rate, width in ((rates[0], 1.0), (rates[-1], 2.2)) if len(rates) > 1 else ((rates[0], 1.6),):
                    row = curve[curve["request_rate"] == rate].sort_values("repetition").iloc[0]
                    try:
                        samples = read_samples_ms(ctx.results_dir, row["latency_file"])
                    except SampleFileError as e:
                        ctx.warnings.append(f"latency samples: {e}")
                        continue
                    if samples.size == 0:
                        continue
                    x, y = empirical_cdf(samples)
                    ax.step(x, y, where="post", color=ctx.colours(nodes), linewidth=width,
                            linestyle=panels.MODE_STYLE.get(mode, "-"),
                            label=f"{panels.curve_label(nodes, mode, variant)}, {rate:g} req/s")
                    drawn += 1
            if not ax.has_data():
                ax.text(0.5, 0.5, "no sample files", transform=ax.transAxes, ha="center", va="center", color="0.5")
    if drawn == 0:
        out.note = "Not drawn: none of the raw latency sample files could be read."
        return out
    _finish_axes(grid, devices, transports, "latency (ms)", "fraction of requests")
    for ax in grid.axes.values():
        if ax.has_data():
            ax.set_xscale("log")
    grid.figure.suptitle(out.title, fontsize=12)
    panels.add_legend(grid.figure)
    out.files = panels.save(grid.figure, ctx.out_dir, out.name)
    return out


# --- Helpers ---------------------------------------------------------------

def _usable(ctx: Context, columns: list[str]) -> pd.DataFrame:
    """Points with a value in any of `columns`."""
    if ctx.points.empty:
        return ctx.points
    return ctx.points[ctx.points[columns].notna().any(axis=1)]


def _panel_devices(ctx: Context, data: pd.DataFrame, out: FigureOutput) -> list[int]:
    present = sorted(set(int(d) for d in data["devices"]))
    chosen = [d for d in ctx.devices if d in present] or panels.panel_devices(present)
    left_out = [d for d in present if d not in chosen]
    if left_out:
        out.note = (f"Panels for {', '.join(map(str, chosen))} devices only; "
                    f"{', '.join(map(str, left_out))} are in the tables.")
    return chosen


def _finish_axes(grid: panels.Grid, rows, columns, xlabel: str, ylabel: str):
    for (r, c), ax in grid.axes.items():
        if r == rows[-1]:
            ax.set_xlabel(xlabel)
        if c == columns[0]:
            ax.set_ylabel(ylabel)


def _log_if_wide(grid: panels.Grid, values: pd.DataFrame, ratio: float = 30.0) -> bool:
    """Log y scale when the positive values span more than `ratio` (a
    saturated curve next to an idle one would flatten the idle one).
    Returns whether it switched."""
    v = values.to_numpy(dtype=float).ravel()
    v = v[np.isfinite(v) & (v > 0)]
    if v.size and v.max() / v.min() > ratio:
        for ax in grid.axes.values():
            ax.set_yscale("log")
        return True
    return False
