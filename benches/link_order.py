#!/usr/bin/env python3
"""Writes link/atlas.order, the function layout of the `atlas` binary.

Runs the release binary under callgrind on every program of ../shared/bench, the
corpus (tests/corpus) and examples/, collects the functions each run executed, and
lists them, the ones most runs use first (start-up, the compiler, the VM), for LLD's
--symbol-ordering-file (build.rs passes it). Placed together, they share a few 64 KiB
blocks of the text instead of touching most of its blocks, and the kernel maps file
pages a block at a time: that is the whole point (see PERFORMANCE_REPORT.md).

Usage, from the project's root (needs valgrind and nm):
    python3 benches/link_order.py [--jobs N]

It builds the binary twice: as `cargo build --release` does, which it profiles, and as
`cargo test --release` does. The test build unifies the features of the
dev-dependencies, which changes the hashes in the mangled names of the same functions;
their names in that build are added by matching names without the hash, so the layout
(and tests/link_order.rs, which checks it) holds for both.

Symbol names carry hashes that change with the toolchain and the code; a stale list
still links (LLD skips names it does not find) but places fewer functions, and
tests/link_order.rs fails when too many are missing: then run this script again.
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", help="profile this binary instead of building one")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--out", default=os.path.join(ROOT, "link", "atlas.order"))
    args = parser.parse_args()

    test_names: list[str] = []
    if args.binary is None:
        normal = built_binary(["cargo", "build", "--release", "--bin", "atlas"])
        args.binary = os.path.join(tempfile.mkdtemp(), "atlas")
        shutil.copy(normal, args.binary)
        test_build = built_binary(["cargo", "test", "--release", "--no-run"])
        test_names = [s[2] for s in text_symbols(test_build)]

    programs = sorted(glob.glob(os.path.join(BENCH, "*.at")))
    programs += sorted(glob.glob(os.path.join(ROOT, "tests", "corpus", "**", "*.at"),
                                 recursive=True))
    programs += sorted(glob.glob(os.path.join(ROOT, "examples", "*.at")))
    symbols = text_symbols(args.binary)
    starts = [s[0] for s in symbols]
    uses: collections.Counter[int] = collections.Counter()
    with tempfile.TemporaryDirectory() as workdir, ThreadPoolExecutor(args.jobs) as pool:
        profiles = pool.map(lambda p: profile_program(args.binary, p, workdir), programs)
        for done, profile in enumerate(profiles, 1):
            functions = set()
            for address in executed_addresses(profile, os.path.basename(args.binary)):
                i = bisect.bisect_right(starts, address) - 1
                if i >= 0 and symbols[i][0] <= address < symbols[i][0] + symbols[i][1]:
                    functions.add(i)
            uses.update(functions)
            os.remove(profile)
            print(f"\r{done}/{len(programs)} programs", end="", file=sys.stderr)
    print(file=sys.stderr)

    # Used by every run first, then by fewer; ties in address order.
    order = sorted(uses, key=lambda i: (-uses[i], symbols[i][0]))
    size = sum(symbols[i][1] for i in order)
    by_unhashed = collections.defaultdict(list)
    for name in test_names:
        by_unhashed[unhashed(name)].append(name)
    names: list[str] = []
    listed: set[str] = set()
    for i in order:
        # Each function, then its twins of the test build (the same place in both).
        for name in [symbols[i][2], *by_unhashed.get(unhashed(symbols[i][2]), [])]:
            if name not in listed:
                listed.add(name)
                names.append(name)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("# Function layout of the atlas binary for LLD's --symbol-ordering-file\n")
        f.write("# (build.rs). Generated by benches/link_order.py: do not edit by hand.\n")
        f.write(f"# {len(order)} functions, {size} bytes, from {len(programs)} programs;\n")
        f.write(f"# with them, {len(names) - len(order)} names of the same functions in the test build.\n")
        for name in names:
            f.write(name + "\n")
    print(f"wrote {args.out}: {len(order)} functions, {size} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
