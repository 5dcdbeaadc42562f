"""index.html of a report: figures, the faults of runs that had some, knee
table, side-by-side table against the reference study, failed points, every
point, run metadata and scenario.

A static page with its style inline and no script: the folder it sits in
(index.html + the figures' PNG and SVG files) is the whole report. Every
text that comes from the records is escaped.
"""

from __future__ import annotations

import datetime
import html
import json
import math
import re
from dataclasses import dataclass, field

import pandas as pd

from .fault_timeline import FaultTimeline
from .faults import NOT_RECOVERED, RUN_FIGURES
from .figures import FigureOutput
from .knee import FACTOR

STYLE = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 1200px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .88em; }
th, td { border: 1px solid #ccc; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: .9em; color: #444; max-width: 60em; }
.note { background: #fff6d5; border-left: 4px solid #e0b000; padding: .4em .8em; }
.warning { background: #fde8e8; border-left: 4px solid #c33; padding: .4em .8em; }
pre { background: #f6f6f6; padding: .8em; overflow-x: auto; font-size: .85em; }
"""


@dataclass
class Page:
    title: str
    results_dir: str
    generated_utc: str
    summary: list[tuple[str, str]]
    figures: list[FigureOutput]
    knees: pd.DataFrame
    comparison: pd.DataFrame | None  # None when the reference file could not be read
    reference_problem: str
    failed: pd.DataFrame
    points: pd.DataFrame
    metadata: dict | None
    warnings: list[str]
    faults: list[FaultTimeline] = field(default_factory=list)  # runs with faults; no section when empty


def render(page: Page) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(page.title)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{_e(page.title)}</h1>",
        f"<p>Results: <code>{_e(page.results_dir)}</code>. Generated {_e(page.generated_utc)} by "
        "<code>fogm2m report</code>.</p>",
        _contents(bool(page.faults)),
        '<h2 id="summary">Summary</h2>',
        _key_values(page.summary),
    ]
    for warning in page.warnings:
        parts.append(f'<p class="warning">{_e(warning)}</p>')
    parts.append('<h2 id="figures">Figures</h2>')
    for figure in page.figures:
        parts.append(_figure(figure))
    if page.faults:
        parts.append('<h2 id="faults">Faults</h2>')
        parts.append(_faults_intro())
        parts += [_fault_run(timeline) for timeline in page.faults]
    parts += [
        '<h2 id="knees">Knees</h2>',
        f"<p>The knee of a curve is the lowest request rate whose mean latency (below p95) exceeds {FACTOR:g}× the "
        "curve's low-load value, its latency at the lowest rate measured; <em>none</em> when it never does within "
        "the rates measured.</p>",
        _knee_table(page.knees),
        '<h2 id="reference">Against the reference study</h2>',
        _comparison(page),
        '<h2 id="failed">Failed points</h2>',
        _failed_table(page.failed),
        '<h2 id="points">Every point</h2>',
        _points_table(page.points),
        '<h2 id="metadata">Run metadata</h2>',
        _metadata(page.metadata),
        '<h2 id="scenario">Scenario</h2>',
        _scenario(page.metadata),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _contents(faults: bool) -> str:
    links = [("summary", "Summary"), ("figures", "Figures")] + ([("faults", "Faults")] if faults else [])
    links += [("knees", "Knees"), ("reference", "Against the reference study"), ("failed", "Failed points"),
              ("points", "Every point"), ("metadata", "Run metadata"), ("scenario", "Scenario")]
    return "<nav><p>" + " · ".join(f'<a href="#{a}">{_e(t)}</a>' for a, t in links) + "</p></nav>"


def _figure(figure: FigureOutput) -> str:
    out = [f'<figure id="{_e(figure.name)}">', f"<h3>{_e(figure.title)}</h3>"]
    png = [f for f in figure.files if f.endswith(".png")]
    svg = [f for f in figure.files if f.endswith(".svg")]
    if png:
        target = svg[0] if svg else png[0]
        out.append(f'<a href="{_e(target)}"><img src="{_e(png[0])}" alt="{_e(figure.title)}"></a>')
    if figure.note:
        out.append(f'<p class="note">{_e(figure.note)}</p>')
    if figure.files:
        links = ", ".join(f'<a href="{_e(f)}">{_e(f)}</a>' for f in figure.files)
        out.append(f"<figcaption>{_e(figure.caption)} Files: {links}.</figcaption>")
    out.append("</figure>")
    return "\n".join(out)


def _faults_intro() -> str:
    return ("<p>Runs of a scenario with <code>faults:</code>. Per fault: the requests scheduled from the fault "
            "until it was over and the cluster had recovered (or to the end of the run), by outcome; recovery, the "
            "seconds from the fault to the first second in which no request failed, p99 latency was within 2× its "
            "value before the first fault and every observed device had notified since the fault; and, for node "
            "faults, the seconds until the load balancer's health check took the node out. Then what the whole "
            "run lost, and its timeline.</p>")


def _fault_run(timeline: FaultTimeline) -> str:
    run = timeline.run
    anchor = re.sub(r"[^a-z0-9_-]", "_", f"faults-{run.mode}-{run.point_index}-{run.repetition}")
    rate = f"{run.request_rate:g} req/s"
    out = [f'<h3 id="{_e(anchor)}">{_e(run.name.capitalize())}: {run.devices} devices, {run.nodes} '
           f"node{'s' if run.nodes != 1 else ''}, {_e(rate)}</h3>"]
    if run.error:
        out.append(f'<p class="warning">The run failed: {_e(run.error)}</p>')
    if run.outcomes:
        outcomes = pd.DataFrame([vars(o) for o in run.outcomes])
        columns = [("kind", "fault", _text), ("target", "target", _text), ("at_s", "at (s)", _num),
                   ("duration_s", "lasting (s)", _duration), ("requests_sent", "requests sent", _int),
                   ("requests_err", "error replies", _int), ("requests_timed_out", "timed out", _int),
                   ("requests_resent", "published again", _int),
                   ("recovery_s", "recovered after (s)", _recovery),
                   ("lb_removed_after_s", "out of the load balancer after (s)", _lb_removed)]
        if (outcomes["error"] != "").any():
            columns.append(("error", "injection error", _text))
        out.append(_table(outcomes, columns, css_id=f"{anchor}-table"))
    else:
        out.append('<p class="note">The record lists no fault outcome.</p>')
    figures = [(title, _run_figure(name, run.figures[name])) for name, title in RUN_FIGURES]
    out.append(_key_values(figures, css_id=f"{anchor}-run"))
    if timeline.problem:
        out.append(f'<p class="warning">The timeline could not be read: {_e(timeline.problem)}</p>')
    else:
        out.append(_figure(timeline.figure))
        out.append(_events(timeline.timeline.events(), css_id=f"{anchor}-events"))
    return "\n".join(out)


def _events(events: list[tuple[float, str]], css_id: str) -> str:
    """What the fault injector and the load balancer did, second by second (folded)."""
    if not events:
        return ""
    rows = "".join(f'<tr><td class="num">{second:g}</td><td>{_e(text)}</td></tr>' for second, text in events)
    return (f"<details><summary>{len(events)} second{'s' if len(events) != 1 else ''} with events (fault "
            f'injector, load balancer)</summary><table id="{css_id}"><thead><tr><th>second</th><th>events</th>'
            f"</tr></thead><tbody>{rows}</tbody></table></details>")


def _run_figure(name: str, value: float) -> str:
    """Seconds to 3 significant digits, counts whole."""
    if math.isnan(value):
        return ""
    return _num(value)[0] if name.endswith("_s") else f"{value:,.0f}"


def _knee_table(knees: pd.DataFrame) -> str:
    if knees.empty:
        return '<p class="note">No curve: no successful point.</p>'
    columns = [
        ("mode", "mode", _text), ("transport", "transport", _text), ("devices", "devices", _int),
        ("nodes", "nodes", _int), ("rates", "rates", _int), ("base_rate", "low-load rate (req/s)", _num),
        ("base_latency_ms", "low-load latency (ms)", _num), ("threshold_ms", "threshold (ms)", _num),
        ("knee", "knee", _text), ("knee_latency_ms", "latency at knee (ms)", _num),
    ]
    if (knees["variant"] != "").any():
        columns.insert(4, ("variant", "variant", _text))
    return _table(knees, columns, css_id="knee-table")


def _comparison(page: Page) -> str:
    if page.comparison is None:
        return f'<p class="warning">Reference points unavailable: {_e(page.reference_problem)}</p>'
    intro = ("<p>The reference study's statements (analysis/reference/thesis_points.csv), next to our value for "
             "the same configuration. Its values are read off its figures and text, many approximate or derived; "
             "the last column says how each was obtained. Its testbed: Java Leshan servers at 25% of a core and "
             "512 MB each, two machines on Gigabit Ethernet; ours is in the run metadata below.</p>")
    columns = [("quantity", "quantity", _text), ("devices", "devices", _text), ("nodes", "nodes", _text),
               ("transport", "transport", _text), ("request_rate", "rate (req/s)", _text),
               ("reference", "reference study", _text), ("emulate", "ours, measured", _text),
               ("sim", "ours, simulated", _text), ("approximation", "how the reference value was obtained", _text)]
    return intro + _table(page.comparison, columns, css_id="reference-table")


def _failed_table(failed: pd.DataFrame) -> str:
    if failed.empty:
        return "<p>None: every point ran.</p>"
    columns = [("mode", "mode", _text), ("point_index", "point", _int), ("repetition", "repetition", _int),
               ("devices", "devices", _int), ("nodes", "nodes", _int), ("request_rate", "rate (req/s)", _num),
               ("transport", "transport", _text), ("error", "error", _text)]
    return ("<p>Points with an error are left out of every figure and table above.</p>"
            + _table(failed.sort_values(["mode", "point_index", "repetition"]), columns, css_id="failed-table"))


def _points_table(points: pd.DataFrame) -> str:
    if points.empty:
        return '<p class="note">No successful point.</p>'
    columns = [("mode", "mode", _text), ("transport", "transport", _text), ("devices", "devices", _int),
               ("nodes", "nodes", _int), ("request_rate", "rate (req/s)", _num), ("repetitions", "runs", _int),
               ("achieved_rate", "answered/s", _num), ("requests_errored", "errored", _num),
               ("latency_mean_below_p95_ms", "mean <p95 (ms)", _num), ("latency_p50_ms", "p50 (ms)", _num),
               ("latency_p99_ms", "p99 (ms)", _num), ("latency_p999_ms", "p99.9 (ms)", _num),
               ("latency_max_ms", "max (ms)", _num), ("node_throttling_ratio_mean", "throttling", _num),
               ("memory_mean_mb", "memory (MB)", _num), ("throughput_bytes_s", "bytes/s per node", _num)]
    if (points["variant"] != "").any():
        columns.insert(4, ("variant", "variant", _text))
    # Points that ran more than once: the bootstrap 95 % interval of the mean.
    if (points["repetitions"] > 1).any():
        points = points.copy()
        for column in ("latency_mean_ms", "node_cpu_ms_per_1000_messages"):
            points[f"{column}_ci"] = [
                f"{_num(lo)[0]}–{_num(hi)[0]}" if runs > 1 else ""
                for lo, hi, runs in zip(points[f"{column}_ci_low"], points[f"{column}_ci_high"],
                                        points["repetitions"])]
        at = [c for c, _, _ in columns].index("latency_p50_ms")
        columns.insert(at, ("latency_mean_ms_ci", "mean 95% CI (ms)", _text))
        columns.append(("node_cpu_ms_per_1000_messages_ci", "CPU ms / 1000 msg 95% CI", _text))
    # Through the gateway (`via: gateway`): its CPU and the latency it added.
    if "gateway_cpu_ms_per_1000_requests" in points and points["gateway_cpu_ms_per_1000_requests"].notna().any():
        columns += [("gateway_cpu_ms_per_1000_requests", "gateway CPU ms / 1000 req", _num),
                    ("gateway_added_p50_ms", "gateway added p50 (ms)", _num),
                    ("gateway_added_p99_ms", "gateway added p99 (ms)", _num)]
    return (f"<details><summary>{len(points)} points (means over repetitions)</summary>"
            + _table(points, columns, css_id="points-table") + "</details>")


def _metadata(metadata: dict | None) -> str:
    if metadata is None:
        return '<p class="note">No metadata.json in the results directory.</p>'
    rows = []
    for key, value in metadata.items():
        if key == "scenario":
            continue
        if key == "started_unix_s" and isinstance(value, (int, float)):
            value = f"{utc_text(value)} ({value})"
        elif key == "memory_bytes" and isinstance(value, (int, float)):
            value = f"{value / 2**30:.1f} GiB"
        rows.append((key, value if isinstance(value, str) else json.dumps(value)))
    return _key_values(rows)


def _scenario(metadata: dict | None) -> str:
    if metadata is None or "scenario" not in metadata:
        return '<p class="note">The run metadata holds no scenario.</p>'
    return f"<pre>{_e(json.dumps(metadata['scenario'], indent=2, sort_keys=False))}</pre>"


# --- HTML pieces ------------------------------------------------------------

def _key_values(rows, css_id: str = "") -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    attribute = f' id="{_e(css_id)}"' if css_id else ""
    return f"<table{attribute}>{body}</table>"


def _table(frame: pd.DataFrame, columns, css_id: str) -> str:
    head = "".join(f"<th>{_e(title)}</th>" for _, title, _ in columns)
    body = []
    for _, row in frame.iterrows():
        cells = []
        for column, _, fmt in columns:
            text, numeric = fmt(row.get(column))
            cells.append(f'<td class="num">{_e(text)}</td>' if numeric else f"<td>{_e(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table id="{css_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _text(value):
    return ("" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)), False


def _int(value):
    if value is None or pd.isna(value):
        return "", True
    return str(int(value)), True


def _num(value):
    if value is None or pd.isna(value):
        return "", True
    value = float(value)
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}", True
    return f"{value:.3g}", True


def _recovery(value):
    if value is not None and not pd.isna(value) and float(value) == NOT_RECOVERED:
        return "not within the run", False
    return _num(value)


def _lb_removed(value):
    if value is not None and not pd.isna(value) and float(value) == NOT_RECOVERED:
        return "—", False
    return _num(value)


def _duration(value):
    if value is None or pd.isna(value) or float(value) <= 0:
        return "—", False
    return f"{float(value):g}", True


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def utc_text(unix_s: float) -> str:
    return datetime.datetime.fromtimestamp(unix_s, tz=datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
