"""The gate's rules: one measure against its baseline, and the table.

- Deterministic (instructions per iteration): more than +3 % fails; less
  than -3 % is an improvement; a benchmark gone from the benches fails too
  (accepting that takes --update-baseline); a new one passes.
- Statistical (repeated runs): a regression when the Mann-Whitney U test
  says the samples differ (p < 0.05) and the median is more than 10 % worse
  (every measure here is better lower); an improvement the other way.
"""

from __future__ import annotations

import statistics
from typing import Iterable

from .mann_whitney import mann_whitney_u

INSTRUCTIONS_THRESHOLD = 0.03
STATISTICAL_THRESHOLD = 0.10
SIGNIFICANCE = 0.05
FAILING = ("regression", "missing")


def _change(baseline: float | None, now: float | None) -> float | None:
    if baseline is None or now is None or baseline == 0:
        return None
    return now / baseline - 1.0


def deterministic(name: str, baseline: float | None, now: float | None) -> dict:
    change = _change(baseline, now)
    if baseline is None:
        verdict = "new"
    elif now is None:
        verdict = "missing"
    elif change > INSTRUCTIONS_THRESHOLD:
        verdict = "regression"
    elif change < -INSTRUCTIONS_THRESHOLD:
        verdict = "improvement"
    else:
        verdict = "ok"
    return {"name": name, "kind": "deterministic", "unit": "instructions per iteration",
            "baseline": [] if baseline is None else [baseline],
            "now": [] if now is None else [now],
            "baseline_value": baseline, "now_value": now, "change": change,
            "p_value": None, "spread": None, "threshold": INSTRUCTIONS_THRESHOLD,
            "verdict": verdict}


def statistical(name: str, unit: str, baseline: list[float], now: list[float]) -> dict:
    b_median = statistics.median(baseline) if baseline else None
    n_median = statistics.median(now) if now else None
    change = _change(b_median, n_median)
    p_value = mann_whitney_u(baseline, now).p_value if baseline and now else None
    if not baseline:
        verdict = "new"
    elif not now:
        verdict = "missing"
    elif p_value < SIGNIFICANCE and change is not None and change > STATISTICAL_THRESHOLD:
        verdict = "regression"
    elif p_value < SIGNIFICANCE and change is not None and change < -STATISTICAL_THRESHOLD:
        verdict = "improvement"
    else:
        verdict = "ok"
    spread = {side: [min(v), max(v)] for side, v in (("baseline", baseline), ("now", now)) if v}
    return {"name": name, "kind": "statistical", "unit": unit, "baseline": list(baseline),
            "now": list(now), "baseline_value": b_median, "now_value": n_median,
            "change": change, "p_value": p_value, "spread": spread,
            "threshold": STATISTICAL_THRESHOLD, "verdict": verdict}


def compare_instructions(baseline: dict[str, float], now: dict[str, float]) -> list[dict]:
    return [deterministic(name, baseline.get(name), now.get(name))
            for name in sorted(set(baseline) | set(now))]


def overall(measures: Iterable[dict]) -> str:
    return "regression" if any(m["verdict"] in FAILING for m in measures) else "pass"


def _number(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _spread(m: dict) -> str:
    if m["kind"] == "deterministic":
        return f"±{m['threshold']:.0%} allowed"
    parts = []
    if m.get("p_value") is not None:
        parts.append(f"p={m['p_value']:.3g}")
    for side, (lo, hi) in (m.get("spread") or {}).items():
        parts.append(f"{side[0]}:[{_number(lo)}, {_number(hi)}]")
    return " ".join(parts)


def table(measures: list[dict]) -> str:
    """One line per measure: metric, baseline, now, change, p-value or
    spread, verdict."""
    rows = [("metric", "baseline", "now", "change", "p-value / spread", "verdict")]
    for m in measures:
        change = "–" if m["change"] is None else f"{m['change'] * 100:+.2f}%"
        rows.append((m["name"], _number(m["baseline_value"]), _number(m["now_value"]), change,
                     _spread(m), m["verdict"].upper() if m["verdict"] in FAILING
                     else m["verdict"]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i in (0, 4, 5) else c.rjust(w)
                       for i, (c, w) in enumerate(zip(r, widths))).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
