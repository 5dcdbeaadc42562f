"""The reference study's points (analysis/reference/thesis_points.csv) and the
side-by-side table of ours against them.

Each row of the file is one statement of the study, reduced to a number
where the text allows: a quantity (knee_rate, mean_latency_ms,
memory_per_node_mb) for one configuration (devices, nodes, dtls; an empty
dtls means both transports, an empty request_rate means every rate of the
study's sweep, 25..300 req/s), a relation ("=", "~", "<=", ">=", or "none"
for a knee that never came) and a value. `source` says where the statement
is, `approximation` how the number was obtained (stated, approximate,
derived, inferred): most are read off figures and text, not exact data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .records import LATENCY

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "reference" / "thesis_points.csv"
COLUMNS = ["quantity", "devices", "nodes", "dtls", "request_rate", "relation", "value", "unit", "source",
           "approximation"]
QUANTITIES = {
    "knee_rate": "knee (request rate)",
    "mean_latency_ms": "mean latency (below p95)",
    "memory_per_node_mb": "memory per node",
}
RELATIONS = ("=", "~", "<=", ">=", "none")


class ReferenceError(Exception):
    """The reference file is missing or malformed; the message says where."""


def load_reference(path: str | Path = DEFAULT_FILE) -> pd.DataFrame:
    """The reference points, checked: known quantities and relations,
    numeric configuration columns (NaN where empty)."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise ReferenceError(f"{path}: cannot read: {e}") from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ReferenceError(f"{path}: missing column(s): {', '.join(missing)}")
    for i, row in frame.iterrows():
        line = i + 2
        if row["quantity"] not in QUANTITIES:
            raise ReferenceError(f"{path}:{line}: unknown quantity {row['quantity']!r}")
        if row["relation"] not in RELATIONS:
            raise ReferenceError(f"{path}:{line}: unknown relation {row['relation']!r}")
        if row["relation"] != "none" and row["value"].strip() == "":
            raise ReferenceError(f"{path}:{line}: relation {row['relation']!r} needs a value")
    for column in ("devices", "nodes", "dtls", "request_rate", "value"):
        text = frame[column].str.strip()
        numbers = pd.to_numeric(text, errors="coerce")
        bad = numbers.isna() & (text != "")
        if bad.any():
            raise ReferenceError(f"{path}:{frame.index[bad][0] + 2}: column {column} is not a number")
        frame[column] = numbers
    return frame


def describe_reference(row: pd.Series) -> str:
    """"~175 req/s", "none", "<=50 req/s", "34 ms"."""
    if row["relation"] == "none":
        return "none (within 25..300 req/s)" if row["quantity"] == "knee_rate" else "none"
    relation = "" if row["relation"] == "=" else row["relation"]
    return f"{relation}{row['value']:g} {row['unit']}"


def matching(frame: pd.DataFrame, devices: int, nodes: int, dtls: int | None) -> pd.Series:
    """Rows of a frame with devices/nodes/dtls columns for one configuration;
    dtls None means either transport."""
    mask = (frame["devices"] == devices) & (frame["nodes"] == nodes)
    if dtls is not None and not pd.isna(dtls):
        mask &= frame["dtls"] == int(dtls)
    return mask


def side_by_side(reference: pd.DataFrame, points: pd.DataFrame, knees: pd.DataFrame) -> pd.DataFrame:
    """One row per reference point with our measured (emulate) and simulated
    (sim) value of the same quantity and configuration, or "not measured"."""
    rows = []
    for _, ref in reference.iterrows():
        devices, nodes = ref["devices"], ref["nodes"]
        dtls = None if pd.isna(ref["dtls"]) else int(ref["dtls"])
        row = {
            "quantity": QUANTITIES[ref["quantity"]],
            "devices": _int_text(devices),
            "nodes": _int_text(nodes),
            "transport": "both" if dtls is None else ("DTLS" if dtls else "CoAP"),
            "request_rate": _rate_text(ref),
            "reference": describe_reference(ref),
            "approximation": ref["approximation"],
        }
        for mode in ("emulate", "sim"):
            row[mode] = _ours(ref, dtls, mode, points, knees)
        rows.append(row)
    columns = ["quantity", "devices", "nodes", "transport", "request_rate", "reference", "emulate", "sim",
               "approximation"]
    return pd.DataFrame(rows, columns=columns)


def _ours(ref: pd.Series, dtls: int | None, mode: str, points: pd.DataFrame, knees: pd.DataFrame) -> str:
    if pd.isna(ref["devices"]) or pd.isna(ref["nodes"]):
        return "no configuration"
    devices, nodes = int(ref["devices"]), int(ref["nodes"])
    if ref["quantity"] == "knee_rate":
        ours = knees[(knees["mode"] == mode) & matching(knees, devices, nodes, dtls)]
        return _join(ours, lambda r: r["knee"])
    ours = points[(points["mode"] == mode) & matching(points, devices, nodes, dtls)]
    if ref["quantity"] == "mean_latency_ms":
        if not pd.isna(ref["request_rate"]):
            ours = ours[np.isclose(ours["request_rate"], ref["request_rate"])]
            return _join(ours, lambda r: _ms(r[LATENCY]))
        return _join_groups(ours, _latency_range)
    if ref["quantity"] == "memory_per_node_mb":
        return _join_groups(ours, _memory)
    return "not comparable"


def _latency_range(curve: pd.DataFrame) -> str:
    values = curve[LATENCY].dropna()
    if values.empty:
        return "no latency"
    rates = curve["request_rate"]
    return (f"{_ms(values.min())[:-3]}..{_ms(values.max())} over {rates.min():g}..{rates.max():g} req/s"
            if len(values) > 1 else f"{_ms(values.iloc[0])} at {rates.iloc[0]:g} req/s")


def _memory(curve: pd.DataFrame) -> str:
    mean = curve["memory_mean_mb"].dropna()
    if mean.empty:
        return "no memory figures"
    peak = curve["memory_peak_mb"].dropna()
    text = f"{mean.mean():.0f} MB mean over {len(mean)} rate(s)"
    return text + (f", peak {peak.max():.0f} MB" if not peak.empty else "")


def _join(rows: pd.DataFrame, describe) -> str:
    """One description per row; the curve's transport/variant when several."""
    if rows.empty:
        return "not measured"
    parts = []
    for _, r in rows.iterrows():
        tag = _tag(r, len(rows) > 1)
        parts.append(describe(r) + (f" [{tag}]" if tag else ""))
    return "; ".join(parts)


def _join_groups(rows: pd.DataFrame, describe) -> str:
    if rows.empty:
        return "not measured"
    groups = list(rows.groupby(["dtls", "variant"], sort=True))
    parts = []
    for (_, _), group in groups:
        tag = _tag(group.iloc[0], len(groups) > 1)
        parts.append(describe(group.sort_values("request_rate")) + (f" [{tag}]" if tag else ""))
    return "; ".join(parts)


def _tag(row: pd.Series, needed: bool) -> str:
    if not needed:
        return ""
    parts = ["DTLS" if row["dtls"] else "CoAP"]
    if row.get("variant"):
        parts.append(row["variant"])
    return ", ".join(parts)


def _ms(value: float) -> str:
    if pd.isna(value):
        return "no latency"
    return f"{value:.0f} ms" if abs(value) >= 100 else f"{value:.3g} ms"


def _rate_text(ref: pd.Series) -> str:
    """The rate a reference value holds at: "" for a knee (it is a rate),
    "all" for a value of the whole sweep."""
    if ref["quantity"] == "knee_rate":
        return ""
    return "all" if pd.isna(ref["request_rate"]) else f"{ref['request_rate']:g}"


def _int_text(value) -> str:
    return "" if pd.isna(value) else str(int(value))
