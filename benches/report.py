#!/usr/bin/env python3
"""Markdown tables for PERFORMANCE_REPORT.md from the last `cargo bench` run.

Usage, from the project's root after `cargo bench --bench vm_performance_benches`:

    python3 benches/report.py [--target target] > /tmp/tables.md

Reads Criterion's estimates (target/criterion/<group>/<program>/<config>/new/), keeping
those written within 30 minutes of the newest (the last run), and the tables the bench wrote to target/atlas-bench/ (interleaved.md, memory.md,
rss.md). Prints:

- per category, baseline vs optimized execution: Criterion's medians, their ratio with an
  interval built from the two medians' 95% confidence intervals (lower = optimized's lower
  bound over baseline's upper bound, upper = the reverse; a conservative interval), the
  ratio of the fastest runs from the interleaved measurement, allocations and peak heap
  per run;
- every Criterion group with every configuration (ratios to `baseline` likewise);
- the interleaved, heap and RSS tables.

Below 1 is faster. Groups end with the geometric mean of the ratios. Only the Python
standard library is used.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

REFERENCE = "baseline"
GROUP_ORDER = ["exec", "e2e", "compile"]
CATEGORY_ORDER = ["arithmetic", "calls", "loops", "arrays", "strings", "large"]


def fmt_time(ns: float) -> str:
    if ns >= 1e9:
        return f"{ns / 1e9:.3f} s"
    if ns >= 1e6:
        return f"{ns / 1e6:.3f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def load(criterion: Path) -> dict[str, dict[str, dict[str, dict]]]:
    """group -> program -> config -> median estimate, for the results written within 30
    minutes of the newest one (a run of the suite takes less than 15: older results are
    from other runs)."""
    groups: dict[str, dict[str, dict[str, dict]]] = {}
    benches = sorted(criterion.glob("**/new/benchmark.json"))
    mtime = {b: (b.parent / "estimates.json").stat().st_mtime for b in benches}
    newest = max(mtime.values(), default=0.0)
    for bench in benches:
        if mtime[bench] < newest - 30 * 60:
            continue
        meta = json.loads(bench.read_text())
        estimates = json.loads((bench.parent / "estimates.json").read_text())
        group = meta["group_id"]
        program = meta["function_id"]
        config = meta["value_str"]
        groups.setdefault(group, {}).setdefault(program, {})[config] = estimates["median"]
    return groups


def group_key(name: str) -> tuple[int, int, str]:
    kind, _, category = name.partition("/")
    return (
        GROUP_ORDER.index(kind) if kind in GROUP_ORDER else 99,
        CATEGORY_ORDER.index(category) if category in CATEGORY_ORDER else 99,
        name,
    )


def program_key(name: str) -> list:
    """Natural order: fib_depth_10 before fib_depth_20."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def table(group: str, programs: dict[str, dict[str, dict]]) -> str:
    configs: list[str] = []
    for by_config in programs.values():
        for config in by_config:
            if config not in configs:
                configs.append(config)
    configs.sort(key=lambda c: (c != REFERENCE, c))
    reference = configs[0]
    others = configs[1:]
    head = ["program"] + [f"{c} median" for c in configs]
    head += [f"{c}/{reference} [95% CI]" for c in others]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    logs: dict[str, list[float]] = {c: [] for c in others}
    for program in sorted(programs, key=program_key):
        by_config = programs[program]
        row = [program]
        for c in configs:
            row.append(fmt_time(by_config[c]["point_estimate"]) if c in by_config else "–")
        ref = by_config.get(reference)
        for c in others:
            est = by_config.get(c)
            if not ref or not est:
                row.append("–")
                continue
            ratio = est["point_estimate"] / ref["point_estimate"]
            lo = est["confidence_interval"]["lower_bound"] / ref["confidence_interval"]["upper_bound"]
            hi = est["confidence_interval"]["upper_bound"] / ref["confidence_interval"]["lower_bound"]
            logs[c].append(math.log(ratio))
            row.append(f"{ratio:.2f} [{lo:.2f}, {hi:.2f}]")
        lines.append("| " + " | ".join(row) + " |")
    if len(programs) > 1 and others:
        row = ["**geometric mean**"] + [""] * len(configs)
        for c in others:
            row.append(f"**{math.exp(sum(logs[c]) / len(logs[c])):.2f}**" if logs[c] else "–")
        lines.append("| " + " | ".join(row) + " |")
    return f"#### `{group}`\n\n" + "\n".join(lines) + "\n"


def read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    """A Markdown table written by the bench: header cells and rows of cells."""
    if not path.exists():
        return [], []
    lines = [l for l in path.read_text().splitlines() if l.startswith("|")]
    cells = [[c.strip() for c in l.strip().strip("|").split("|")] for l in lines]
    return (cells[0], cells[2:]) if len(cells) >= 2 else ([], [])


def per_category(groups, target: Path) -> str:
    """One table per category: baseline vs optimized execution (Criterion medians and the
    ratio with its interval), the interleaved ratio, and the heap per execution."""
    head_i, rows_i = read_table(target / "atlas-bench" / "interleaved.md")
    interleaved = {}
    if head_i:
        name = "optimized/baseline (min)"
        col = head_i.index(name) if name in head_i else None
        for r in rows_i:
            if col is not None and col < len(r):
                interleaved[r[0]] = r[col]
    _, rows_m = read_table(target / "atlas-bench" / "memory.md")
    heap = {(r[0], r[1]): r for r in rows_m if len(r) >= 7}
    out = []
    for category in CATEGORY_ORDER:
        programs = groups.get(f"exec/{category}")
        if not programs:
            continue
        head = [
            "program",
            "baseline median",
            "optimized median",
            "optimized/baseline [95% CI]",
            "interleaved ratio (min)",
            "allocations base / opt",
            "peak heap KiB base / opt",
        ]
        lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
        logs, logs_i = [], []
        for program in sorted(programs, key=program_key):
            by = programs[program]
            base, opt = by.get(REFERENCE), by.get("optimized")
            if not base or not opt:
                continue
            ratio = opt["point_estimate"] / base["point_estimate"]
            lo = opt["confidence_interval"]["lower_bound"] / base["confidence_interval"]["upper_bound"]
            hi = opt["confidence_interval"]["upper_bound"] / base["confidence_interval"]["lower_bound"]
            logs.append(math.log(ratio))
            key = f"{category}/{program}"
            inter = interleaved.get(key, "–")
            if inter != "–":
                logs_i.append(math.log(float(inter)))
            hb, ho = heap.get((key, REFERENCE)), heap.get((key, "optimized"))
            allocs = f"{hb[2]} / {ho[2]}" if hb and ho else "–"
            peak = f"{hb[4]} / {ho[4]}" if hb and ho else "–"
            lines.append(
                f"| {program} | {fmt_time(base['point_estimate'])} | {fmt_time(opt['point_estimate'])} "
                f"| {ratio:.2f} [{lo:.2f}, {hi:.2f}] | {inter} | {allocs} | {peak} |"
            )
        if len(logs) > 1:
            gm = math.exp(sum(logs) / len(logs))
            gmi = f"**{math.exp(sum(logs_i) / len(logs_i)):.2f}**" if logs_i else "–"
            lines.append(f"| **geometric mean** | | | **{gm:.2f}** | {gmi} | | |")
        out.append(f"#### {category}\n\n" + "\n".join(lines) + "\n")
    return "\n".join(out)


def memory(path: Path) -> str | None:
    """memory.md as one row per program, baseline and optimized side by side (dispatch
    does not change what is allocated; the ablations are left out)."""
    head, rows = read_table(path)
    if not head:
        return None
    by: dict[str, dict[str, list[str]]] = {}
    for r in rows:
        if len(r) >= 7:
            by.setdefault(r[0], {})[r[1]] = r
    pair = [REFERENCE, "optimized"]
    cols = [
        ("allocations", 2),
        ("KiB allocated", 3),
        ("peak heap KiB", 4),
        ("compile allocations", 5),
    ]
    out_head = ["program"] + [f"{name} base / opt" for name, _ in cols]
    lines = ["| " + " | ".join(out_head) + " |", "|---|" + "---:|" * len(cols)]
    for program, configs in by.items():
        if not all(c in configs for c in pair):
            continue
        cells = [program]
        for _, k in cols:
            cells.append(" / ".join(configs[c][k] for c in pair))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="target", help="cargo's target folder")
    args = parser.parse_args()
    target = Path(args.target)
    commit = target / "atlas-bench" / "commit.txt"
    groups = load(target / "criterion")
    if not groups:
        print(f"no Criterion results under {target / 'criterion'}", file=sys.stderr)
        return 1
    out = []
    if commit.exists():
        out.append(f"Measured at commit {commit.read_text().strip()}.\n")
    load_txt = target / "atlas-bench" / "load.txt"
    if load_txt.exists():
        out.append("; ".join(load_txt.read_text().strip().splitlines()) + ".\n")
    out.append("### Per category: baseline vs optimized (execution)\n")
    out.append(per_category(groups, target))
    out.append("### Every group, every configuration (Criterion)\n")
    for group in sorted(groups, key=group_key):
        out.append(table(group, groups[group]))
    interleaved = target / "atlas-bench" / "interleaved.md"
    if interleaved.exists():
        out.append("#### Interleaved execution times\n\n" + interleaved.read_text())
    mem = memory(target / "atlas-bench" / "memory.md")
    if mem:
        out.append("#### Heap per execution (counting allocator)\n\n" + mem)
    rss = target / "atlas-bench" / "rss.md"
    if rss.exists():
        out.append("#### Peak RSS of `atlas run` (../shared/bench)\n\n" + rss.read_text())
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
