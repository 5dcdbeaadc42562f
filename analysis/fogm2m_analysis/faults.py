"""Fault runs: the `faults` object (FaultStats of schema/result.proto) of the
records of scenarios with a `faults:` list, and their per-second timelines.

records.csv has no fault figures; they are in records.jsonl (one
ResultRecord a line, protobuf JSON with proto field names, fields equal to
0, "" or false left out). Each record with `faults` becomes a FaultRun.
Its timeline (FaultStats.timeline_file, relative to the results directory)
is a CSV written by runner/fault_stats.cc:

    second,sent,answered,err,timed_out,p99_ms,notifications,events[,owned_<node>...]

one row per second since the load started (warm-up included); `events` is
what the fault injector did in that second ("kill_node node2; load
balancer: node1 node3"), owned_<node> the devices each node owned then
(empty when not sampled). read_timeline() raises TimelineError naming the
file and the problem; load_fault_runs() turns unreadable lines of
records.jsonl into warnings.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

RECORDS_JSONL = "records.jsonl"
TIMELINE_COLUMNS = ["second", "sent", "answered", "err", "timed_out", "p99_ms", "notifications", "events"]
OWNED_PREFIX = "owned_"
LOAD_BALANCER_EVENT = "load balancer:"
NOT_RECOVERED = -1.0  # recovery_s, lb_removed_after_s: did not happen within the run

# Run-level figures of FaultStats, in the order the page shows them.
RUN_FIGURES = [
    ("registrations_before", "registrations before the load"),
    ("registrations_after", "registrations at the end"),
    ("registrations_lost", "registrations lost"),
    ("observed_devices", "observed devices (notifying before the first fault)"),
    ("observations_reestablished", "observations re-established (after a gap over 2 s)"),
    ("observations_lost", "observations lost (silent to the end)"),
    ("notifications_lost", "notifications lost (sent by the fleets, not received)"),
    ("notification_gap_max_s", "longest notification gap (s)"),
    ("notification_gap_p99_s", "p99 of the devices' longest notification gap (s)"),
]


class TimelineError(Exception):
    """A timeline CSV that cannot be used; the message names it and says why."""


@dataclass
class FaultOutcome:
    """One injected fault and what it cost (FaultOutcome)."""

    kind: str
    target: str
    at_s: float
    duration_s: float
    error: str  # the injection itself failed
    requests_sent: int
    requests_err: int
    requests_timed_out: int
    requests_resent: int  # published again after a bus loss (late, not lost)
    recovery_s: float  # NOT_RECOVERED: not within the run
    lb_removed_after_s: float  # NOT_RECOVERED: never, or not a node fault

    @property
    def label(self) -> str:
        return f"{self.kind} {self.target}".strip()


@dataclass
class FaultRun:
    """A record of a run with faults."""

    mode: str
    point_index: int
    repetition: int
    devices: int
    nodes: int
    request_rate: float
    error: str  # the record's error: the run itself failed
    outcomes: list[FaultOutcome]
    figures: dict[str, float]  # RUN_FIGURES by field name
    timeline_file: str  # relative to the results directory; "" when the record names none

    @property
    def name(self) -> str:
        return f"point {self.point_index}, repetition {self.repetition}"


@dataclass
class Timeline:
    """A timeline CSV: the frame (numeric columns as floats, empty cells NaN,
    events as text) and its owned_<node> columns."""

    frame: pd.DataFrame
    owned: list[str] = field(default_factory=list)

    def node(self, column: str) -> str:
        return column[len(OWNED_PREFIX):]

    def load_balancer_changes(self) -> list[tuple[float, str]]:
        """(second, "load balancer: node1 node3") of every change of the load
        balancer's node set."""
        changes = []
        for second, events in zip(self.frame["second"], self.frame["events"]):
            for event in events.split(";"):
                event = event.strip()
                if event.startswith(LOAD_BALANCER_EVENT):
                    changes.append((float(second), event))
        return changes

    def events(self) -> list[tuple[float, str]]:
        """(second, events) of every second in which something happened."""
        return [(float(s), e) for s, e in zip(self.frame["second"], self.frame["events"]) if e.strip()]


def load_fault_runs(directory: Path, warnings: list[str]) -> list[FaultRun]:
    """The records of records.jsonl in `directory` that have faults, ordered
    by mode, point and repetition; [] when there is no records.jsonl.
    Lines that are not JSON objects become one warning."""
    path = Path(directory) / RECORDS_JSONL
    if not path.is_file():
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        warnings.append(f"{RECORDS_JSONL}: unreadable ({e}); the report has no fault figures")
        return []
    runs, bad = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            record = None
        if not isinstance(record, dict):
            bad.append(number)
            continue
        if isinstance(record.get("faults"), dict):
            runs.append(_fault_run(record))
    if bad:
        shown = ", ".join(map(str, bad[:5])) + (", ..." if len(bad) > 5 else "")
        warnings.append(f"{RECORDS_JSONL}: line(s) {shown} are not JSON objects and were skipped")
    return sorted(runs, key=lambda r: (r.mode, r.point_index, r.repetition))


def _fault_run(record: dict) -> FaultRun:
    stats = record["faults"]
    point = record.get("point") if isinstance(record.get("point"), dict) else {}
    outcomes = [_outcome(o) for o in _list(stats.get("faults"))]
    return FaultRun(
        mode=_mode(record.get("mode")),
        point_index=int(_number(record.get("point_index"))),
        repetition=int(_number(record.get("repetition"))),
        devices=int(_number(point.get("devices"))),
        nodes=int(_number(point.get("nodes"))),
        request_rate=_number(point.get("request_rate")),
        error=_string(record.get("error")),
        outcomes=sorted(outcomes, key=lambda o: o.at_s),
        figures={name: _number(stats.get(name)) for name, _ in RUN_FIGURES},
        timeline_file=_string(stats.get("timeline_file")),
    )


def _outcome(outcome) -> FaultOutcome:
    outcome = outcome if isinstance(outcome, dict) else {}
    fault = outcome.get("fault") if isinstance(outcome.get("fault"), dict) else {}
    return FaultOutcome(
        kind=_string(fault.get("kind")),
        target=_string(fault.get("target")),
        at_s=_number(fault.get("at_s")),
        duration_s=_number(fault.get("duration_s")),
        error=_string(outcome.get("error")),
        requests_sent=int(_number(outcome.get("requests_sent"))),
        requests_err=int(_number(outcome.get("requests_err"))),
        requests_timed_out=int(_number(outcome.get("requests_timed_out"))),
        requests_resent=int(_number(outcome.get("requests_resent"))),
        recovery_s=_number(outcome.get("recovery_s")),
        lb_removed_after_s=_number(outcome.get("lb_removed_after_s")),
    )


def _mode(value) -> str:
    """"MODE_EMULATE" (protobuf JSON) as "emulate", the way records.csv has it."""
    text = _string(value).lower()
    return text[len("mode_"):] if text.startswith("mode_") else text


def _number(value) -> float:
    """A protobuf JSON number: absent is 0; numbers may come as strings
    ("NaN", 64-bit integers); anything else reads as NaN."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _string(value) -> str:
    return "" if value is None else str(value)


def _list(value) -> list:
    return value if isinstance(value, list) else []


def read_timeline(directory: Path, relative_name: str) -> Timeline:
    """The timeline CSV `directory`/`relative_name`.

    Raises TimelineError when the record names no file, the name leaves the
    directory, the file is missing or not a CSV, or it lacks a column."""
    if not relative_name:
        raise TimelineError("the record names no timeline file")
    directory = Path(directory).resolve()
    path = (directory / relative_name).resolve()
    if directory not in path.parents:
        raise TimelineError(f"{relative_name}: outside the results directory")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise TimelineError(f"{relative_name}: no such file") from None
    except OSError as e:
        raise TimelineError(f"{relative_name}: cannot read: {e.strerror or e}") from None
    except pd.errors.EmptyDataError:
        raise TimelineError(f"{relative_name}: empty file (expected a header line)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise TimelineError(f"{relative_name}: not a CSV file: {e}") from None
    missing = [c for c in TIMELINE_COLUMNS if c not in frame.columns]
    if missing:
        raise TimelineError(f"{relative_name}: missing column(s): {', '.join(missing)}")
    owned = [c for c in frame.columns if c.startswith(OWNED_PREFIX)]
    for column in [c for c in TIMELINE_COLUMNS if c != "events"] + owned:
        frame[column] = pd.to_numeric(frame[column].str.strip(), errors="coerce").astype(float)
    frame["events"] = frame["events"].fillna("").astype(str)
    frame = frame.dropna(subset=["second"]).sort_values("second").reset_index(drop=True)
    if frame.empty:
        raise TimelineError(f"{relative_name}: no rows")
    return Timeline(frame=frame, owned=owned)
