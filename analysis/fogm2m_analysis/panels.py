"""What every figure shares: which device counts get a panel, the colour of a
node count, the line style of a mode, the panel grid, the legend and saving
a figure as PNG and SVG."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from matplotlib import colormaps
from matplotlib.figure import Figure

# The reference study's Fig. 4.2-4.3 show these device counts.
PREFERRED_DEVICES = (50, 100, 150, 200)
MAX_PANELS = 4

MODE_STYLE = {"emulate": "-", "sim": "--"}
MODE_LABEL = {"emulate": "measured", "sim": "simulated"}
VARIANT_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def panel_devices(present, preferred=PREFERRED_DEVICES, max_panels: int = MAX_PANELS) -> list[int]:
    """Device counts that get a panel: all present ones when they fit in
    max_panels; otherwise the preferred ones that are present; otherwise
    max_panels counts spread evenly over the present ones."""
    present = sorted({int(d) for d in present})
    if len(present) <= max_panels:
        return present
    chosen = [d for d in preferred if d in present]
    if chosen:
        return chosen
    step = (len(present) - 1) / (max_panels - 1)
    return sorted({present[round(i * step)] for i in range(max_panels)})


class NodeColours:
    """One colour per node count, the same in every figure of a report."""

    def __init__(self, node_counts):
        palette = colormaps["tab10"]
        self._colours = {n: palette(i % 10) for i, n in enumerate(sorted({int(n) for n in node_counts}))}

    def __call__(self, nodes: int):
        return self._colours.get(int(nodes), "0.4")


class VariantMarkers:
    """One marker per variant (other swept parameters), "o" when there is none."""

    def __init__(self, variants):
        self._markers = {v: VARIANT_MARKERS[i % len(VARIANT_MARKERS)] for i, v in enumerate(sorted(set(variants)))}

    def __call__(self, variant: str) -> str:
        return self._markers.get(variant, "o")


def curve_label(nodes: int, mode: str, variant: str) -> str:
    text = f"{nodes} node{'s' if nodes != 1 else ''}, {MODE_LABEL.get(mode, mode)}"
    return f"{text} ({variant})" if variant else text


@dataclass
class Grid:
    """A figure of rows x columns panels, addressed by (row value, column value)."""

    figure: Figure
    axes: dict = field(default_factory=dict)


def make_grid(rows: list, columns: list, row_title, column_title, sharey: bool = True,
              panel_size=(4.6, 3.2)) -> Grid:
    """A grid with one panel per (row, column) value and titles on each panel."""
    figure = Figure(figsize=(panel_size[0] * len(columns) + 1.0, panel_size[1] * len(rows) + 1.2),
                    layout="constrained")
    raw = figure.subplots(len(rows), len(columns), squeeze=False, sharex=True, sharey=sharey)
    grid = Grid(figure=figure)
    for i, r in enumerate(rows):
        for j, c in enumerate(columns):
            ax = raw[i][j]
            titles = [t for t in (row_title(r), column_title(c)) if t]
            ax.set_title(", ".join(titles), fontsize=10)
            ax.grid(True, alpha=0.3)
            grid.axes[(r, c)] = ax
    return grid


def add_legend(figure: Figure) -> None:
    """One legend for the whole figure, below the panels, duplicates merged."""
    seen = {}
    for ax in figure.axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if not label.startswith("_") and label not in seen:
                seen[label] = handle
    if seen:
        # Below the panels; save() crops to the drawn area, legend included.
        figure.legend(list(seen.values()), list(seen.keys()), loc="upper center", bbox_to_anchor=(0.5, 0.0),
                      ncols=min(3, len(seen)), fontsize=9, frameon=False)


def save(figure: Figure, directory: Path, name: str) -> list[str]:
    """Writes name.png (150 dpi) and name.svg; returns the file names."""
    files = []
    for extension, options in (("png", {"dpi": 150}), ("svg", {})):
        file_name = f"{name}.{extension}"
        figure.savefig(Path(directory) / file_name, format=extension, bbox_inches="tight", **options)
        files.append(file_name)
    return files
