#!/usr/bin/env bash
# Runs one fuzz target for a while, gently (nice 19, one process).
#
#   fuzz/run.sh TARGET SECONDS [LIBFUZZER_FLAGS...]
#
# TARGET is parse, compile, run or verify. The corpus is fuzz/corpus/TARGET; the source
# targets get the programs of tests/corpus/**/*.at and examples/*.at as seeds (copied
# here at each start, never committed). Findings land in fuzz/artifacts/TARGET. The
# libFuzzer log is written to $FUZZ_LOG (default /tmp/atlas-fuzz-TARGET.log); the final
# lines (`#N DONE cov: ... ft: ... corp: ...` and the stat:: lines) sum the run up.
set -euo pipefail

if [[ $# -lt 2 ]]; then
    echo "usage: fuzz/run.sh TARGET SECONDS [LIBFUZZER_FLAGS...]" >&2
    exit 64
fi
target=$1
seconds=$2
shift 2

fuzz_dir=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$fuzz_dir")
cd "$fuzz_dir"

# cargo fuzz passes nightly-only flags to rustc: use nightly if it is installed, or make
# the stable compiler accept them.
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    toolchain=(+nightly)
else
    toolchain=()
    export RUSTC_BOOTSTRAP=1
fi

corpus=corpus/$target
mkdir -p "$corpus" "artifacts/$target"
flags=(-timeout=30 -rss_limit_mb=2048 -print_final_stats=1)
case $target in
    parse | compile | run)
        for file in "$root"/tests/corpus/*/*.at "$root"/examples/*.at; do
            rel=${file#"$root"/}
            cp -n "$file" "$corpus/seed-${rel//\//_}"
        done
        flags+=(-dict="$fuzz_dir/atlas.dict")
        ;;
    verify)
        # Ill-typed bytecode can build arrays that contain themselves: a leak, not a bug
        # (neither after each input nor at exit).
        # Those leaks add up over a long run: a higher RSS limit (the last one counts).
        flags+=(-detect_leaks=0 -rss_limit_mb=4096)
        export ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
        ;;
    *)
        echo "unknown target '$target' (parse, compile, run, verify)" >&2
        exit 64
        ;;
esac

log=${FUZZ_LOG:-/tmp/atlas-fuzz-$target.log}
# Build first, so that the time limit is all fuzzing. --debug-assertions also catches
# arithmetic overflow.
nice -n 19 cargo "${toolchain[@]}" fuzz build --debug-assertions "$target"
triple=$(rustc -vV | sed -n 's/^host: //p')
binary=$fuzz_dir/target/$triple/release/$target

# One process (-jobs=1 -workers=1), at the lowest priority. In -jobs mode libFuzzer
# writes the job's log to fuzz-0.log in the working directory: each target gets its own
# directory, so that two targets can run at once.
workdir=$fuzz_dir/target/work-$target
mkdir -p "$workdir"
rm -f "$workdir/fuzz-0.log"
echo "fuzzing $target for $seconds s; log: $log"
(
    cd "$workdir"
    nice -n 19 "$binary" "${flags[@]}" -jobs=1 -workers=1 -max_total_time="$seconds" \
        -artifact_prefix="$fuzz_dir/artifacts/$target/" "$@" "$fuzz_dir/$corpus"
) >"$log.main" 2>&1 && status=0 || status=$?
cat "$workdir/fuzz-0.log" >"$log" 2>/dev/null || true
cat "$log.main" >>"$log"
rm -f "$log.main"
tail -n 15 "$log"
exit $status
