#!/usr/bin/env python3
"""Puts two runs of one scenario side by side, point by point: latency and
node CPU, e.g. the namespace and the container backend (the container
overhead).

    python3 analysis/compare_backends.py NAMESPACES_DIR[,DIR...] CONTAINER_DIR[,DIR...] [--out DIR]

Each directory is a `fogm2m run` output (records.jsonl, metadata.json); a
comma-separated list of directories (repeated runs of one backend, best
interleaved with the other's) gives the mean of their figures per point.
Writes DIR/backends.csv, DIR/backends.md (the table) and DIR/backends.png
(mean and p99 latency, node CPU per second of window, for every point),
DIR defaulting to the first CONTAINER_DIR's compare/. Prints the table.

Exit status: 0 written; 1 a directory cannot be read or the points differ;
3 matplotlib is missing.
"""

import argparse
import json
import sys
from pathlib import Path


def backend_of(directory: Path) -> str:
    try:
        meta = json.loads((directory / "metadata.json").read_text())
    except (OSError, ValueError):
        return directory.name
    backend = meta.get("scenario", {}).get("backend", "BACKEND_NAMESPACES")
    return str(backend).removeprefix("BACKEND_").lower()


def records_of(directory: Path) -> dict[tuple[int, int], dict]:
    out = {}
    for line in (directory / "records.jsonl").read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            out[(r.get("point_index", 0), r.get("repetition", 0))] = r
    return out


def row_of(r: dict, window_s: float) -> dict:
    p, lat = r["point"], r.get("latency", {})
    nodes = r.get("nodes", [])
    cpu = sum(n.get("cpu_s", 0) for n in nodes)
    return {
        "devices": p.get("devices"), "nodes": p.get("nodes"), "rate": p.get("request_rate"),
        "error": r.get("error", ""),
        "mean_ms": lat.get("mean_ms", 0), "p99_ms": lat.get("p99_ms", 0),
        "node_cpu_per_s": cpu / window_s if window_s else 0,
        "throttling": max((n.get("throttling_ratio", 0) for n in nodes), default=0),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Two runs of one scenario side by side.")
    parser.add_argument("first")
    parser.add_argument("second")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    groups = [[Path(d) for d in arg.split(",") if d] for arg in (args.first, args.second)]
    dirs = [g[0] for g in groups]
    try:
        # Per side: for every directory, its rows by point.
        sides = []
        for group in groups:
            side = []
            for d in group:
                window_s = json.loads((d / "metadata.json").read_text())["scenario"].get("window_s", 0)
                side.append({k: row_of(r, window_s) for k, r in records_of(d).items()})
            sides.append(side)
    except (OSError, ValueError, KeyError) as e:
        print(f"compare_backends: {e}", file=sys.stderr)
        return 1
    names = [backend_of(d) for d in dirs]
    if names[0] == names[1]:
        names = [f"{names[0]} ({d.name})" for d in dirs]
    names = [f"{n} x{len(g)}" if len(g) > 1 else n for n, g in zip(names, groups)]
    keys = sorted(set.intersection(*(set(run) for side in sides for run in side)))
    if not keys:
        print("compare_backends: no point in common", file=sys.stderr)
        return 1

    def mean_row(side, k):
        rows_k = [run[k] for run in side]
        out = dict(rows_k[0])
        out["error"] = "; ".join(r["error"] for r in rows_k if r["error"])
        ok = [r for r in rows_k if not r["error"]] or rows_k
        for key in ("mean_ms", "p99_ms", "node_cpu_per_s", "throttling"):
            out[key] = sum(r[key] for r in ok) / len(ok)
        return out

    rows = [(k, mean_row(sides[0], k), mean_row(sides[1], k)) for k in keys]

    out = Path(args.out) if args.out else dirs[1] / "compare"
    out.mkdir(parents=True, exist_ok=True)
    header = ["point", "devices", "nodes", "rate"]
    for n in names:
        header += [f"{n} mean ms", f"{n} p99 ms", f"{n} node CPU s/s", f"{n} throttling"]
    header += ["mean ratio", "CPU ratio"]
    lines = [",".join(header)]
    md = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for k, a, b in rows:
        cells = [str(k[0]), str(a["devices"]), str(a["nodes"]), f"{a['rate']:g}"]
        for r in (a, b):
            if r["error"]:
                cells += ["error", "", "", ""]
            else:
                cells += [f"{r['mean_ms']:.2f}", f"{r['p99_ms']:.2f}", f"{r['node_cpu_per_s']:.3f}",
                          f"{r['throttling']:.3f}"]
        ratio = lambda x, y: f"{y / x:.2f}" if x else ""
        cells += [ratio(a["mean_ms"], b["mean_ms"]), ratio(a["node_cpu_per_s"], b["node_cpu_per_s"])]
        lines.append(",".join(cells))
        md.append("| " + " | ".join(cells) + " |")
    (out / "backends.csv").write_text("\n".join(lines) + "\n")
    (out / "backends.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("compare_backends: matplotlib is missing, no figure", file=sys.stderr)
        return 3
    labels = [f"{a['devices']}d/{a['nodes']}n/{a['rate']:g}" for _, a, _ in rows]
    x = range(len(rows))
    width = 0.38
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, key, title in ((axes[0], "mean_ms", "mean latency (ms)"), (axes[1], "p99_ms", "p99 latency (ms)"),
                           (axes[2], "node_cpu_per_s", "node CPU (s per s of window, all nodes)")):
        for i, name in enumerate(names):
            values = [(a, b)[i][key] for _, a, b in rows]
            ax.bar([v + (i - 0.5) * width for v in x], values, width, label=name)
        ax.set_title(title)
        ax.set_xticks(list(x))
        ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend()
    fig.suptitle("one scenario, two backends (devices/nodes/rate)")
    fig.tight_layout()
    fig.savefig(out / "backends.png", dpi=110)
    print(f"compare_backends: {out}/backends.png, backends.csv, backends.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
