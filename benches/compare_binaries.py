#!/usr/bin/env python3
"""Runs several atlas binaries (or one binary with different flags) on the
../shared/bench programs, interleaved, and prints the fastest of N rounds per program.

Usage, from the project's root:
    python3 benches/compare_binaries.py [--rounds N] LABEL=PATH[,FLAG...] ...
e.g.
    python3 benches/compare_binaries.py old=/tmp/atlas-old new=target/release/atlas \\
        table=target/release/atlas,--dispatch,table

Every binary runs once per round on each program, in turn, so a drift in the machine's
speed hits them alike; the fastest round is the least disturbed one (the programs are
deterministic). Output is a Markdown table in milliseconds with a geometric-mean row.
"""
import argparse
import glob
import math
import os
import subprocess
import sys
import time

BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "bench")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("binaries", nargs="+", help="LABEL=PATH[,FLAG...]")
    args = parser.parse_args()
    runs = []
    for spec in args.binaries:
        label, _, rest = spec.partition("=")
        path, *flags = rest.split(",")
        runs.append((label, path, flags))
    programs = sorted(glob.glob(os.path.join(BENCH, "*.at")))
    best = {label: {} for label, _, _ in runs}
    for program in programs:
        for _ in range(args.rounds):
            for label, path, flags in runs:
                start = time.perf_counter()
                done = subprocess.run([path, "run", *flags, program], stdout=subprocess.DEVNULL)
                elapsed = time.perf_counter() - start
                if done.returncode != 0:
                    print(f"{label} failed on {program}", file=sys.stderr)
                    return 1
                best[label][program] = min(best[label].get(program, math.inf), elapsed)
    labels = [label for label, _, _ in runs]
    print("| program | " + " | ".join(labels) + " |")
    print("|---|" + "---:|" * len(labels))
    for program in programs:
        name = os.path.basename(program)[:-3]
        print(f"| {name} | " + " | ".join(f"{best[l][program] * 1000:.0f}" for l in labels) + " |")
    geo = {l: math.exp(sum(math.log(t) for t in best[l].values()) / len(programs)) for l in labels}
    print("| geomean (ms) | " + " | ".join(f"{geo[l] * 1000:.0f}" for l in labels) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
