"""index.html of a gate run: the verdict, one table of every measure against
the baseline, and plots.

The input is the gate's comparison (the dict it also writes as JSON): the
commit and the baseline's, when it ran, the overall verdict, and per measure
its kind, unit, the baseline's and this commit's values, the change
(now / baseline - 1, as a fraction), p-value and spread of statistical
measures, threshold and verdict ("ok", "regression", "improvement", "new",
"missing"). A new measure has no baseline values, a missing one none now;
its change is shown as "–" and its plot has one side only.

Deterministic measures (instruction counts) share one bar chart of their
change with each one's ±threshold band shaded; each statistical measure
(repeated scenario runs) gets a plot of the baseline's values next to this
commit's: every run as a point (jittered sideways), a box plot over them and
the median marked. A static page with its style inline and no script: the
folder (index.html + the PNG files) is the whole page. Every text that comes
from the comparison is escaped.
"""

from __future__ import annotations

import datetime
import html
import math
import re
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

TITLE = "fogm2m performance gate"
DETERMINISTIC_FIGURE = "deterministic_changes.png"
NO_VALUE = "–"
VERDICT_COLOURS = {  # bars and points of this commit, by verdict
    "regression": "#c62828",
    "improvement": "#2e7d32",
    "ok": "#1f77b4",
    "new": "#7f7f7f",
    "missing": "#7f7f7f",
}
BASELINE_COLOUR = "#7f7f7f"
DPI = 120

STYLE = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 1200px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
.verdict { font-size: 3em; font-weight: bold; margin: .3em 0; letter-spacing: .05em; }
.verdict.pass { color: #2e7d32; } .verdict.regression { color: #c62828; }
table { border-collapse: collapse; margin: .8em 0; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.regression td { background: #fde0e0; } tr.improvement td { background: #e3f4e3; }
tr.new td, tr.missing td { background: #fff6d5; }
.unit { color: #666; font-size: .85em; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: .9em; color: #444; max-width: 60em; }
.note { background: #fff6d5; border-left: 4px solid #e0b000; padding: .4em .8em; }
"""


def write_page(comparison: dict, out_dir: Path) -> Path:
    """Writes out_dir/index.html and its PNG files (out_dir is created when
    needed); returns the path of index.html."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    measures = comparison.get("measures", [])
    deterministic = [m for m in measures if m.get("kind") == "deterministic"]
    statistical = [m for m in measures if m.get("kind") == "statistical"]
    figures = []
    if deterministic:
        figures.append(_deterministic_figure(deterministic, out_dir))
    for index, measure in enumerate(statistical):
        figures.append(_statistical_figure(measure, out_dir, f"statistical_{index:02d}_{_slug(measure['name'])}.png"))
    path = out_dir / "index.html"
    path.write_text(render(comparison, figures), encoding="utf-8")
    return path


def render(comparison: dict, figures: list[tuple[str, str, str]]) -> str:
    """The page; figures are (PNG file name, title, caption) in the order shown."""
    verdict = str(comparison.get("verdict", ""))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(TITLE)}: {_e(verdict.upper())}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{_e(TITLE)}</h1>",
        f'<p class="verdict {_e(_css_class(verdict))}">{_e(verdict.upper() or "NO VERDICT")}</p>',
        _key_values([
            ("commit", comparison.get("commit", "")),
            ("baseline commit", comparison.get("baseline_commit", "")),
            ("ran", _when(comparison.get("generated_unix_s"))),
            ("measures", _verdict_counts(comparison.get("measures", []))),
        ]),
        "<h2>Measures</h2>",
        _measure_table(comparison.get("measures", [])),
        "<h2>Plots</h2>",
    ]
    if not figures:
        parts.append('<p class="note">No measure to plot.</p>')
    for file_name, title, caption in figures:
        parts.append(f'<figure><img src="{_e(file_name)}" alt="{_e(title)}">'
                     f"<figcaption>{_e(caption)}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# --- The table --------------------------------------------------------------

def _measure_table(measures: list[dict]) -> str:
    if not measures:
        return '<p class="note">The comparison holds no measure.</p>'
    head = "".join(f"<th>{t}</th>" for t in ("metric", "baseline", "now", "change", "p-value or spread", "verdict"))
    rows = []
    for m in measures:
        verdict = str(m.get("verdict", ""))
        cells = [
            f'<td>{_e(m.get("name", ""))}<br><span class="unit">{_e(m.get("kind", ""))}, '
            f'{_e(m.get("unit", ""))}</span></td>',
            f'<td class="num">{_e(_number(m.get("baseline_value")))}</td>',
            f'<td class="num">{_e(_number(m.get("now_value")))}</td>',
            f'<td class="num">{_e(change_text(m.get("change")))}</td>',
            f"<td>{_e(_evidence(m))}</td>",
            f"<td>{_e(_verdict_text(m))}</td>",
        ]
        rows.append(f'<tr class="{_e(_css_class(verdict))}">' + "".join(cells) + "</tr>")
    return f'<table id="measures"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _evidence(measure: dict) -> str:
    """"p = 0.003; range 8.1–9 → 9.2–10" for a statistical measure, "–"
    when there is neither p-value nor spread."""
    parts = []
    if measure.get("p_value") is not None:
        parts.append(f"p = {p_text(measure['p_value'])}")
    spread = measure.get("spread") or {}
    ranges = [_range_text(spread.get(side)) for side in ("baseline", "now")]
    if any(r != NO_VALUE for r in ranges):
        parts.append(f"range {ranges[0]} → {ranges[1]}")
    return "; ".join(parts) or NO_VALUE


def _verdict_text(measure: dict) -> str:
    """"regression (threshold ±3.0 %)"."""
    verdict = str(measure.get("verdict", ""))
    threshold = measure.get("threshold")
    if threshold is None or verdict in ("new", "missing"):
        return verdict
    return f"{verdict} (threshold ±{100 * float(threshold):.1f} %)"


def _verdict_counts(measures: list[dict]) -> str:
    """"4: 1 regression, 1 improvement, 2 ok"."""
    counts: dict[str, int] = {}
    for m in measures:
        verdict = str(m.get("verdict", ""))
        counts[verdict] = counts.get(verdict, 0) + 1
    order = ["regression", "improvement", "ok", "new", "missing"]
    ordered = sorted(counts, key=lambda v: order.index(v) if v in order else len(order))
    return f"{len(measures)}" + (": " + ", ".join(f"{counts[v]} {v}" for v in ordered) if counts else "")


# --- Figures ----------------------------------------------------------------

def _deterministic_figure(measures: list[dict], out_dir: Path) -> tuple[str, str, str]:
    """One horizontal bar per measure (its change in %), over its shaded
    ±threshold band; measures without a change are labelled instead."""
    count = len(measures)
    figure = Figure(figsize=(9, 1.4 + 0.38 * count))
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    y = np.arange(count)[::-1]  # the first measure on top
    changes = [_change_percent(m) for m in measures]
    thresholds = [100 * float(m["threshold"]) if m.get("threshold") is not None else None for m in measures]
    widest = max([abs(c) for c in changes if c is not None] + [t for t in thresholds if t is not None] + [1.0])
    limit = 1.25 * widest
    for row, change, threshold, m in zip(y, changes, thresholds, measures):
        if threshold is not None:
            ax.barh(row, 2 * threshold, left=-threshold, height=0.8, color="#e8e8e8", zorder=0)
        if change is None:
            ax.text(0, row, f"{m.get('verdict', '')}: {_absent(str(m.get('verdict')))}",
                    ha="center", va="center", fontsize=8, color="#555", style="italic", zorder=3)
            continue
        colour = VERDICT_COLOURS.get(str(m.get("verdict")), BASELINE_COLOUR)
        ax.barh(row, change, height=0.55, color=colour, zorder=2)
        ax.text(change + (0.01 if change >= 0 else -0.01) * limit, row, f"{change:+.1f} %",
                ha="left" if change >= 0 else "right", va="center", fontsize=8, zorder=3)
    ax.axvline(0, color="#444", linewidth=0.8, zorder=1)
    ax.set_xlim(-limit * 1.15, limit * 1.15)
    ax.set_ylim(-0.6, count - 0.4)
    ax.set_yticks(y)
    ax.set_yticklabels([_shorten(m.get("name", "")) for m in measures], fontsize=8)
    ax.set_xlabel("change against the baseline (%)")
    ax.set_title("Instruction counts: change per benchmark", fontsize=11, pad=22)
    ax.grid(True, axis="x", alpha=0.3)
    present = {str(m.get("verdict")) for m in measures if _change_percent(m) is not None}
    handles = [Patch(color="#e8e8e8", label="±threshold")]
    handles += [Patch(color=VERDICT_COLOURS[v], label=v) for v in ("ok", "improvement", "regression") if v in present]
    # Between the title and the axes: a fixed height in points, whatever the number of bars.
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=len(handles), fontsize=8,
              frameon=False)
    _save(figure, out_dir / DETERMINISTIC_FIGURE)
    caption = ("Deterministic measures: the change of each benchmark's instruction count against the baseline, "
               "the grey band its threshold either way; red bars are regressions, green ones improvements.")
    return DETERMINISTIC_FIGURE, "Instruction counts", caption


def _statistical_figure(measure: dict, out_dir: Path, file_name: str) -> tuple[str, str, str]:
    """The baseline's values left, this commit's right: points, box, median."""
    name = str(measure.get("name", ""))
    sides = [("baseline", _values(measure.get("baseline")), BASELINE_COLOUR),
             ("now", _values(measure.get("now")), VERDICT_COLOURS.get(str(measure.get("verdict")), "#1f77b4"))]
    figure = Figure(figsize=(6, 4.6))
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    rng = np.random.default_rng(0)  # the same jitter on every run
    for position, (label, values, colour) in enumerate(sides):
        if not values:
            ax.text(position, 0.5, "no baseline values" if label == "baseline" else "not measured now", transform=ax.get_xaxis_transform(), ha="center",
                    va="center", fontsize=9, color="#555", style="italic")
            continue
        ax.boxplot([values], positions=[position], widths=0.45, showfliers=False, patch_artist=True,
                   boxprops={"facecolor": "none", "edgecolor": colour},
                   whiskerprops={"color": colour}, capprops={"color": colour},
                   medianprops={"color": colour, "linewidth": 2})
        jitter = rng.uniform(-0.12, 0.12, len(values))
        ax.scatter(position + jitter, values, s=18, color=colour, alpha=0.75, zorder=3)
        median = float(np.median(values))
        ax.plot([position + 0.25], [median], marker="<", color=colour, markersize=7, zorder=4)
        ax.annotate(f"median {_number(median)}", (position + 0.3, median), va="center", fontsize=8, color=colour)
    ax.set_xticks([0, 1])
    ax.set_xticklabels([f"baseline\n{len(sides[0][1])} runs", f"now\n{len(sides[1][1])} runs"])
    ax.set_xlim(-0.6, 1.9)
    ax.set_ylabel(str(measure.get("unit", "")))
    ax.grid(True, axis="y", alpha=0.3)
    subtitle = _subtitle(measure)
    figure.suptitle(_shorten(name, 70), fontsize=11)
    ax.set_title(subtitle, fontsize=9, color=VERDICT_COLOURS.get(str(measure.get("verdict")), "#444"))
    _save(figure, out_dir / file_name)
    caption = (f"{name}: the baseline's runs against this commit's, each point one run, the box the quartiles, "
               f"the arrow and thick line the median. {subtitle}.")
    return file_name, name, caption


def _subtitle(measure: dict) -> str:
    """"change +12.0 %, p = 0.003: regression"; "new: no baseline values"."""
    verdict = str(measure.get("verdict", ""))
    if measure.get("change") is None and verdict in ("new", "missing"):
        return f"{verdict}: {_absent(verdict)}"
    parts = [f"change {change_text(measure.get('change'))}"]
    if measure.get("p_value") is not None:
        parts.append(f"p = {p_text(measure['p_value'])}")
    return ", ".join(parts) + f": {verdict}"


def _absent(verdict: str) -> str:
    return "no baseline values" if verdict == "new" else "no values now"


def _save(figure: Figure, path: Path) -> None:
    figure.savefig(path, format="png", dpi=DPI, bbox_inches="tight")


# --- Text -------------------------------------------------------------------

def change_text(change: float | None) -> str:
    """A fraction as a signed percentage with one decimal ("+4.5 %"), "–"
    when there is none."""
    if change is None or not math.isfinite(float(change)):
        return NO_VALUE
    percent = round(100 * float(change), 1)
    return f"{percent + 0.0:+.1f} %"  # + 0.0: no "-0.0"


def p_text(p: float) -> str:
    """"0.003", "0.47", "4.1e-05"."""
    p = float(p)
    return f"{p:.2g}" if p < 0.001 else f"{p:.3g}"


def _change_percent(measure: dict) -> float | None:
    change = measure.get("change")
    if change is None or not math.isfinite(float(change)):
        return None
    return 100 * float(change)


def _number(value) -> str:
    if value is None or not math.isfinite(float(value)):
        return NO_VALUE
    value = float(value)
    if value == 0 or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _range_text(pair) -> str:
    if not pair or len(pair) != 2 or any(v is None for v in pair):
        return NO_VALUE
    return f"{_number(pair[0])}–{_number(pair[1])}"


def _values(values) -> list[float]:
    return [float(v) for v in values or [] if v is not None and math.isfinite(float(v))]


def _when(unix_s) -> str:
    if not isinstance(unix_s, (int, float)) or not math.isfinite(unix_s):
        return "unknown"
    utc = datetime.datetime.fromtimestamp(unix_s, tz=datetime.timezone.utc)
    return utc.strftime("%Y-%m-%d %H:%M:%S UTC")


def _slug(name: str) -> str:
    """A file name part from a measure name: letters, digits, '_', '-', '.'."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")[:60] or "measure"


def _css_class(verdict: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "", verdict.lower())


def _shorten(text: str, limit: int = 55) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _key_values(rows) -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _e(value) -> str:
    return html.escape(str(value), quote=True)
