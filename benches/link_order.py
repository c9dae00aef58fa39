#!/usr/bin/env python3
"""Writes link/atlas.order, the function layout of the `atlas` binary.

Runs the release binary under callgrind on every program of ../shared/bench, the
corpus (tests/corpus) and examples/, collects the functions each run executed, and
lists them, the ones most runs use first (start-up, the compiler, the VM), for LLD's
--symbol-ordering-file (build.rs passes it). Placed together, they share a few 64 KiB
blocks of the text instead of touching most of its blocks, and the kernel maps file
pages a block at a time: that is the whole point (see PERFORMANCE_REPORT.md).

Usage, from the project's root (needs valgrind and nm):
    python3 benches/link_order.py [--jobs N]   # profile again (~10 minutes here)
    python3 benches/link_order.py --refresh    # after a change of dependencies (~1 minute)

It builds the binary twice: as `cargo build --release` does, which it profiles, and as
`cargo test --release` does. The test build unifies the features of the
dev-dependencies, which changes the hashes in the mangled names of the same functions;
their names in that build are added by matching names without the hash, so the layout
(and tests/link_order.rs, which checks it) holds for both.

Symbol names carry hashes that change with the toolchain and with the dependency graph
(Cargo.toml, Cargo.lock). A stale list still links (LLD skips names it does not find)
but places fewer functions, and tests/link_order.rs fails when too many are missing:
then run this script again, with --refresh when only the names changed.
"""
import argparse
import bisect
import collections
import glob
import json
import os
import shutil
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
BENCH = os.path.join(ROOT, "..", "shared", "bench")


def text_symbols(binary: str) -> list[tuple[int, int, str]]:
    """(address, size, mangled name) of every function, by address."""
    out = subprocess.run(["nm", "--print-size", binary], capture_output=True, text=True,
                         check=True).stdout
    symbols = []
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[2] in "tTwW":
            symbols.append((int(fields[0], 16), int(fields[1], 16), fields[3]))
    return sorted(symbols)


def built_binary(command: list[str]) -> str:
    """Runs a cargo build command; returns the path of the `atlas` executable it made."""
    out = subprocess.run(command + ["--message-format=json"], cwd=ROOT, check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    for line in out.splitlines():
        message = json.loads(line)
        target = message.get("target", {})
        if (message.get("reason") == "compiler-artifact" and target.get("name") == "atlas"
                and "bin" in target.get("kind", []) and message.get("executable")
                and not message.get("profile", {}).get("test")):
            path = message["executable"]
    return path


def unhashed(name: str) -> str:
    """A legacy-mangled name without its hash (`..17h0123456789abcdefE` -> `..`)."""
    return re.sub(r"17h[0-9a-f]{16}E$", "", name)


def executed_addresses(profile: str, binary_name: str) -> set[int]:
    """Instruction addresses inside the binary that a callgrind profile (written with
    --dump-instr=yes) counted."""
    objects: dict[str, str] = {}
    addresses: set[int] = set()
    current = None
    last = 0
    with open(profile) as f:
        for line in f:
            if line.startswith(("ob=", "cob=")):
                m = re.match(r"c?ob=\((\d+)\)(?: (.*))?", line)
                if m and m.group(2):
                    objects[m.group(1)] = m.group(2).strip()
                if line.startswith("ob=") and m:
                    current = objects.get(m.group(1))
                continue
            if not line or line[0] not in "0+-*":
                continue
            token = line.split()[0]
            if token.startswith("0x"):
                last = int(token, 16)
            elif token[0] == "+":
                last += int(token[1:])
            elif token[0] == "-":
                last -= int(token[1:])
            if current is not None and os.path.basename(current) == binary_name:
                addresses.add(last)
    return addresses


def profile_program(binary: str, program: str, workdir: str) -> str:
    out = os.path.join(workdir, f"{abs(hash(program))}.cg")
    subprocess.run(["valgrind", "--tool=callgrind", "--dump-instr=yes",
                    f"--callgrind-out-file={out}", binary, "run", program],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=900)
    return out


def profiled_order(binary: str, jobs: int) -> tuple[list[str], int]:
    """The functions of `binary` that the programs execute, the most widely used first
    (ties in address order), with how many programs ran."""
    programs = sorted(glob.glob(os.path.join(BENCH, "*.at")))
    programs += sorted(glob.glob(os.path.join(ROOT, "tests", "corpus", "**", "*.at"),
                                 recursive=True))
    programs += sorted(glob.glob(os.path.join(ROOT, "examples", "*.at")))
    symbols = text_symbols(binary)
    starts = [s[0] for s in symbols]
    uses: collections.Counter[int] = collections.Counter()
    with tempfile.TemporaryDirectory() as workdir, ThreadPoolExecutor(jobs) as pool:
        profiles = pool.map(lambda p: profile_program(binary, p, workdir), programs)
        for done, profile in enumerate(profiles, 1):
            functions = set()
            for address in executed_addresses(profile, os.path.basename(binary)):
                i = bisect.bisect_right(starts, address) - 1
                if i >= 0 and symbols[i][0] <= address < symbols[i][0] + symbols[i][1]:
                    functions.add(i)
            uses.update(functions)
            os.remove(profile)
            print(f"\r{done}/{len(programs)} programs", end="", file=sys.stderr)
    print(file=sys.stderr)
    order = sorted(uses, key=lambda i: (-uses[i], symbols[i][0]))
    return [symbols[i][2] for i in order], len(programs)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--out", default=os.path.join(ROOT, "link", "atlas.order"))
    parser.add_argument("--refresh", action="store_true",
                        help="keep the listed functions and their order, and only rename "
                             "them for the binaries as they build now (after a change of "
                             "dependencies; no profiling)")
    args = parser.parse_args()

    normal = os.path.join(tempfile.mkdtemp(), "atlas")
    shutil.copy(built_binary(["cargo", "build", "--release", "--bin", "atlas"]), normal)
    test_build = built_binary(["cargo", "test", "--release", "--no-run"])

    if args.refresh:
        with open(args.out) as f:
            listed = [line.strip() for line in f if line.strip() and not line.startswith("#")]
        source = f"the functions of the previous list ({args.out})"
    else:
        listed, programs = profiled_order(normal, args.jobs)
        source = f"the functions {programs} programs executed"

    # Names carry hashes that differ between the two builds (and change with the
    # dependencies): list each function under its name in each build, in one place. A
    # name the normal build has stays exact; others are matched without their hash
    # (which also matches the other instances of a generic function).
    normal_names = {name for _, _, name in text_symbols(normal)}
    by_key: dict[str, dict[str, list[str]]] = {}
    for label, build in (("normal", normal), ("test", test_build)):
        by_key[label] = collections.defaultdict(list)
        for _, _, name in text_symbols(build):
            by_key[label][unhashed(name)].append(name)
    names: list[str] = []
    seen: set[str] = set()
    found = 0
    for name in listed:
        key = unhashed(name)
        own = [name] if name in normal_names else by_key["normal"].get(key, [])
        found += bool(own)
        for candidate in [*own, *by_key["test"].get(key, [])]:
            if candidate not in seen:
                seen.add(candidate)
                names.append(candidate)

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("# Function layout of the atlas binary for LLD's --symbol-ordering-file\n")
        f.write("# (build.rs). Generated by benches/link_order.py: do not edit by hand.\n")
        f.write(f"# {found} functions, from {source},\n")
        f.write(f"# named as in `cargo build --release` and `cargo test --release`.\n")
        for name in names:
            f.write(name + "\n")
    print(f"wrote {args.out}: {found} functions ({len(listed) - found} no longer exist)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
