//! The VM benchmark suite: every program runs in every VM configuration side by side, in
//! one Criterion group per category.
//!
//! ```text
//! cargo bench --bench vm_performance_benches                  # full run (about 10 min)
//! ATLAS_BENCH_QUICK=1 cargo bench --bench vm_performance_benches   # smoke run (about 1 min)
//! cargo bench --bench vm_performance_benches -- exec/calls    # one group (Criterion filter)
//! python3 benches/report.py                                   # tables for PERFORMANCE_REPORT.md
//! ```
//!
//! Configurations (`configurations()`, one table): `baseline` (match dispatch, no
//! optimizing passes), `optimized` (the defaults: threaded table dispatch, every pass), and
//! two ablations that isolate one technique each, `table_only` (table dispatch, no passes)
//! and `passes_only` (match dispatch, every pass), which run in the `exec` groups only.
//!
//! What is measured:
//! - `exec/<category>`: execution only. Each program is compiled once, outside the timed
//!   loop; an iteration is one `vm::run_module` of the compiled module (a fresh VM, output
//!   discarded).
//! - `e2e/<category>`: source to result: parse, check, compile, verify and run.
//! - `compile/<category>`: compilation alone, for the large program.
//! - Memory: a counting global allocator reports, per program and configuration, the heap
//!   allocations, bytes and peak live heap of one execution (and of its compilation).
//!   Printed after the Criterion runs and written to `target/atlas-bench/memory.md`.
//! - Peak RSS of the `atlas` binary (`atlas run` with the configuration's flags) for every
//!   program of `../shared/bench` (or `$ATLAS_BENCH_DIR`), measured by GNU time (package
//!   `time`), with its output checked against `expected/NAME.out`; written to
//!   `target/atlas-bench/rss.md`.
//! - Interleaved: every configuration run in turn, round after round (21 rounds), so that
//!   a change in the machine's load (other processes on a shared 2-core machine) hits all
//!   configurations alike; Criterion measures them one after the other. Written to
//!   `target/atlas-bench/interleaved.md`. The commit and the load average at the start and
//!   end of the run go to `commit.txt` and `load.txt` beside it.
//!
//! Before a program is timed, its output in every configuration is checked against the
//! first configuration's (and must not be empty), so a configuration cannot get faster by
//! computing something else.
//!
//! Categories follow the seed plan: arithmetic (single operations, chained expressions,
//! constant-foldable expressions), calls (recursion depths 10/20/25, many small calls,
//! 0-4 arguments), loops (1e3/1e5/1e6 iterations, nested, with branches), arrays (push,
//! index read/write, `map`, `filter`, `reduce`, nested arrays, `for in`), strings
//! (concatenation, `str`, `split`/`join`, other string functions) and a large program
//! (`benches/programs/large_program.at`, a few hundred lines mixing everything).
//!
//! Environment: `ATLAS_BENCH_QUICK=1` shortens warm-up and measurement for a smoke run;
//! `ATLAS_BENCH_INTERLEAVED=0`, `ATLAS_BENCH_MEMORY=0` and `ATLAS_BENCH_RSS=0` skip those
//! tables.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};

use atlas::compile::CompileOptions;
use atlas::driver;
use atlas::verify::VerifiedModule;
use atlas::vm::{self, Dispatch, Options};

// ---- configurations ----------------------------------------------------------------------

/// One VM configuration: how programs are compiled and run, and the `atlas run` flags
/// that select the same configuration (for the RSS table).
#[derive(Clone)]
struct Config {
    name: &'static str,
    compile: CompileOptions,
    vm: Options,
    cli: &'static [&'static str],
    /// In every table; otherwise only in the `exec` groups and the heap table (an
    /// ablation that isolates one technique, kept out of the rest to save time).
    everywhere: bool,
}

/// The configurations compared side by side, the reference (baseline) first. Add a row
/// here when an optimization gets its own switch.
fn configurations() -> Vec<Config> {
    let options = |dispatch| Options {
        dispatch,
        ..Options::default()
    };
    vec![
        // Match dispatch, no optimizing passes: the measured baseline.
        Config {
            name: "baseline",
            compile: CompileOptions { optimize: false },
            vm: options(Dispatch::Match),
            cli: &["--no-optimize", "--dispatch", "match"],
            everywhere: true,
        },
        // Threaded table dispatch alone: what the dispatch technique saves.
        Config {
            name: "table_only",
            compile: CompileOptions { optimize: false },
            vm: options(Dispatch::Table),
            cli: &["--no-optimize", "--dispatch", "table"],
            everywhere: false,
        },
        // The compiler's optimizing passes alone (immediates, fused compare-and-branch,
        // constant folding, top-level variables in registers): what they save.
        Config {
            name: "passes_only",
            compile: CompileOptions { optimize: true },
            vm: options(Dispatch::Match),
            cli: &["--dispatch", "match"],
            everywhere: false,
        },
        // The defaults: threaded table dispatch and every optimizing pass.
        Config {
            name: "optimized",
            compile: CompileOptions::default(),
            vm: Options::default(),
            cli: &[],
            everywhere: true,
        },
    ]
}

/// The configurations of every table.
fn main_configurations(configs: &[Config]) -> Vec<Config> {
    configs.iter().filter(|c| c.everywhere).cloned().collect()
}

// ---- programs ----------------------------------------------------------------------------

/// A benchmark program.
struct Program {
    category: &'static str,
    name: String,
    source: String,
}

fn program(category: &'static str, name: impl Into<String>, source: impl Into<String>) -> Program {
    Program {
        category,
        name: name.into(),
        source: source.into(),
    }
}

const CATEGORIES: &[&str] = &[
    "arithmetic",
    "calls",
    "loops",
    "arrays",
    "maps",
    "closures",
    "strings",
    "large",
];

const FIB: &str = "fn fib(n: number) -> number {\n    if (n < 2) {\n        return n;\n    }\n    return fib(n - 1) + fib(n - 2);\n}\n";

/// `fn fK(a0, ..) -> number { return a0 + ..; }` called 100 000 times with K arguments.
fn call_with_args(k: usize) -> String {
    let params: Vec<String> = (0..k).map(|i| format!("a{i}: number")).collect();
    let body = if k == 0 {
        "1".to_string()
    } else {
        (0..k)
            .map(|i| format!("a{i}"))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    let args: Vec<String> = (0..k)
        .map(|i| {
            if i == 0 {
                "i".to_string()
            } else {
                i.to_string()
            }
        })
        .collect();
    format!(
        "fn f({}) -> number {{\n    return {body};\n}}\nvar s = 0;\nfor (var i = 0; i < 100000; i++) {{\n    s = s + f({});\n}}\nprint(s);\n",
        params.join(", "),
        args.join(", ")
    )
}

fn counted_for(n: u64) -> String {
    format!("var s = 0;\nfor (var i = 0; i < {n}; i++) {{\n    s += i;\n}}\nprint(s);\n")
}

fn programs() -> Vec<Program> {
    let mut p = vec![
        // ---- arithmetic: 100 000 iterations each ----
        program(
            "arithmetic",
            "add",
            "var x = 0;\nvar y = 3;\nfor (var i = 0; i < 100000; i++) {\n    x = x + y;\n    x = x + i;\n}\nprint(x);\n",
        ),
        program(
            "arithmetic",
            "mul",
            "var x = 1;\nvar y = 1.0000001;\nfor (var i = 0; i < 100000; i++) {\n    x = x * y;\n    x = x * y;\n}\nprint(x);\n",
        ),
        program(
            "arithmetic",
            "div",
            "var x = 1000000;\nvar y = 1.0000001;\nfor (var i = 0; i < 100000; i++) {\n    x = x / y;\n    x = x / y;\n}\nprint(x);\n",
        ),
        program(
            "arithmetic",
            "mod",
            "var x = 0;\nvar y = 7;\nfor (var i = 0; i < 100000; i++) {\n    x = x + i % y;\n}\nprint(x);\n",
        ),
        program(
            "arithmetic",
            "chained",
            "var a = 1;\nvar b = 2;\nvar c = 3;\nvar d = 4;\nvar e = 5;\nvar x = 0;\nfor (var i = 0; i < 100000; i++) {\n    x = (a * b + c - d) / e + a * (b - c) % 7 - x * 0.5;\n    a = b;\n    b = c;\n    c = i % 10 + 1;\n}\nprint(x);\n",
        ),
        program(
            "arithmetic",
            "constant_folding",
            "var x = 0;\nfor (var i = 0; i < 100000; i++) {\n    x = x + (2 * 3 + 4 * 5 - 6 / 3) * (10 - 8) - 48 + (1 + 2 + 3) % 4;\n}\nprint(x);\n",
        ),
        program(
            "arithmetic",
            "float_series",
            "var acc = 0;\nvar sign = 1;\nfor (var i = 0; i < 100000; i++) {\n    acc = acc + sign / (2 * i + 1);\n    sign = -sign;\n}\nprint(acc * 4);\n",
        ),
        // ---- calls ----
        program(
            "calls",
            "many_small_calls",
            "fn sq(x: number) -> number {\n    return x * x;\n}\nvar s = 0;\nfor (var i = 0; i < 100000; i++) {\n    s = s + sq(i % 100);\n}\nprint(s);\n",
        ),
        program(
            "calls",
            "call_through_value",
            "fn twice(x: number) -> number {\n    return x * 2;\n}\nlet g = twice;\nvar s = 0;\nfor (var i = 0; i < 100000; i++) {\n    s = s + g(i);\n}\nprint(s);\n",
        ),
        // ---- loops ----
        program("loops", "for_1e3", counted_for(1_000)),
        program("loops", "for_1e5", counted_for(100_000)),
        program("loops", "for_1e6", counted_for(1_000_000)),
        program(
            "loops",
            "while_1e5",
            "var s = 0;\nvar i = 0;\nwhile (i < 100000) {\n    s = s + i;\n    i = i + 1;\n}\nprint(s);\n",
        ),
        program(
            "loops",
            "nested_300x300",
            "var s = 0;\nfor (var i = 0; i < 300; i++) {\n    for (var j = 0; j < 300; j++) {\n        s += i * j % 5;\n    }\n}\nprint(s);\n",
        ),
        program(
            "loops",
            "branches_1e5",
            "var a = 0;\nvar b = 0;\nvar c = 0;\nfor (var i = 0; i < 100000; i++) {\n    if (i % 3 == 0) {\n        a += 1;\n    } else if (i % 3 == 1 && i > 10) {\n        b += 2;\n    } else {\n        c -= 1;\n    }\n    if (i % 1000 == 999) {\n        continue;\n    }\n}\nprint(a + b + c);\n",
        ),
        // ---- arrays ----
        program(
            "arrays",
            "push_100k",
            "let xs: number[] = [];\nfor (var i = 0; i < 100000; i++) {\n    push(xs, i);\n}\nprint(len(xs));\n",
        ),
        program(
            "arrays",
            "index_read_write",
            "let xs: number[] = [];\nfor (var i = 0; i < 1000; i++) {\n    push(xs, i);\n}\nfor (var r = 0; r < 100; r++) {\n    for (var i = 0; i < 1000; i++) {\n        xs[i] = xs[i] + xs[999 - i] % 3;\n    }\n}\nprint(xs[500]);\n",
        ),
        program(
            "arrays",
            "map",
            "fn double(x: number) -> number {\n    return x * 2;\n}\nlet xs: number[] = [];\nfor (var i = 0; i < 10000; i++) {\n    push(xs, i);\n}\nvar s = 0;\nfor (var r = 0; r < 10; r++) {\n    let ys = map(xs, double);\n    s += ys[r];\n}\nprint(s);\n",
        ),
        program(
            "arrays",
            "filter",
            "fn keep(x: number) -> bool {\n    return x % 3 == 0;\n}\nlet xs: number[] = [];\nfor (var i = 0; i < 10000; i++) {\n    push(xs, i);\n}\nvar s = 0;\nfor (var r = 0; r < 10; r++) {\n    let ys = filter(xs, keep);\n    s += len(ys);\n}\nprint(s);\n",
        ),
        program(
            "arrays",
            "reduce",
            "fn add(a: number, b: number) -> number {\n    return a + b;\n}\nlet xs: number[] = [];\nfor (var i = 0; i < 10000; i++) {\n    push(xs, i);\n}\nvar s = 0;\nfor (var r = 0; r < 10; r++) {\n    s += reduce(xs, add, 0);\n}\nprint(s);\n",
        ),
        program(
            "arrays",
            "nested_matrix",
            "fn make(n: number, k: number) -> number[][] {\n    let m: number[][] = [];\n    for (var i = 0; i < n; i++) {\n        let row: number[] = [];\n        for (var j = 0; j < n; j++) {\n            push(row, (i * k + j) % 10);\n        }\n        push(m, row);\n    }\n    return m;\n}\nlet n = 40;\nlet a = make(n, 3);\nlet b = make(n, 7);\nvar t = 0;\nfor (var i = 0; i < n; i++) {\n    for (var j = 0; j < n; j++) {\n        var s = 0;\n        for (var k = 0; k < n; k++) {\n            s += a[i][k] * b[k][j];\n        }\n        t += s;\n    }\n}\nprint(t);\n",
        ),
        program(
            "arrays",
            "for_in",
            "let xs: number[] = [];\nfor (var i = 0; i < 10000; i++) {\n    push(xs, i);\n}\nvar s = 0;\nfor (var r = 0; r < 10; r++) {\n    for x in xs {\n        s += x;\n    }\n}\nprint(s);\n",
        ),
        // ---- maps ----
        program(
            "maps",
            "number_keys",
            "var m: map<number, number> = {};\nfor (var i = 0; i < 20000; i++) {\n    m[i * 7 % 10007] = i;\n}\nvar s = 0;\nfor (var i = 0; i < 20000; i++) {\n    if (has(m, i)) {\n        s += m[i];\n    }\n}\nprint(s + len(m));\n",
        ),
        program(
            "maps",
            "string_counts",
            "let words = split(\"a bb ccc a bb a dddd ee f a\", \" \");\nvar counts: map<string, number> = {};\nfor (var r = 0; r < 2000; r++) {\n    for w in words {\n        if (has(counts, w)) {\n            counts[w] += 1;\n        } else {\n            counts[w] = 1;\n        }\n    }\n}\nprint(counts);\n",
        ),
        program(
            "maps",
            "insert_remove_iterate",
            "var m: map<number, number> = {};\nvar s = 0;\nfor (var r = 0; r < 20; r++) {\n    for (var i = 0; i < 500; i++) {\n        m[i] = r;\n    }\n    for k in m {\n        s += m[k];\n    }\n    for (var i = 0; i < 500; i += 2) {\n        remove(m, i);\n    }\n}\nprint(s + len(keys(m)) + len(values(m)));\n",
        ),
        // ---- closures ----
        program(
            "closures",
            "counters",
            "fn counter(step: number) -> () -> number {\n    var n = 0;\n    return fn () -> number {\n        n += step;\n        return n;\n    };\n}\nvar total = 0;\nfor (var i = 0; i < 20000; i++) {\n    let c = counter(i % 5 + 1);\n    c();\n    total += c();\n}\nprint(total);\n",
        ),
        program(
            "closures",
            "loop_variables",
            "var fs: ((number) -> number)[] = [];\nfor (var k = 0; k < 50; k++) {\n    push(fs, fn (x: number) -> number { return x * k; });\n}\nvar s = 0;\nfor (var r = 0; r < 1000; r++) {\n    for f in fs {\n        s += f(r);\n    }\n}\nprint(s);\n",
        ),
        program(
            "closures",
            "shared_cell",
            "fn run(n: number) -> number {\n    var total = 0;\n    fn add(x: number) -> void {\n        total += x;\n    }\n    for (var i = 0; i < n; i++) {\n        add(i % 7);\n    }\n    return total;\n}\nprint(run(50000));\n",
        ),
        program(
            "closures",
            "compose",
            "fn compose(f: (number) -> number, g: (number) -> number) -> (number) -> number {\n    return fn (x: number) -> number { return f(g(x)); };\n}\nlet inc = fn (x: number) -> number { return x + 1; };\nvar h = inc;\nfor (var i = 0; i < 20; i++) {\n    h = compose(h, inc);\n}\nvar s = 0;\nfor (var r = 0; r < 2000; r++) {\n    s += h(r);\n}\nprint(s);\n",
        ),
        // ---- strings ----
        program(
            "strings",
            "concat",
            "var total = 0;\nvar t = \"abc\";\nfor (var i = 0; i < 20000; i++) {\n    let s = \"item-\" + t + \"-\" + t;\n    total += len(s);\n}\nprint(total);\n",
        ),
        program(
            "strings",
            "str",
            "var total = 0;\nfor (var i = 0; i < 20000; i++) {\n    total += len(str(i)) + len(str(i * 0.25));\n}\nprint(total);\n",
        ),
        program(
            "strings",
            "split_join",
            "var words: string[] = [];\nfor (var i = 0; i < 200; i++) {\n    push(words, \"w\" + str(i));\n}\nlet text = join(words, \" \");\nvar total = 0;\nfor (var r = 0; r < 100; r++) {\n    let parts = split(text, \" \");\n    total += len(join(parts, \",\"));\n}\nprint(total);\n",
        ),
        program(
            "strings",
            "string_functions",
            "let s = \"The quick brown fox jumps over the lazy dog\";\nvar n = 0;\nfor (var i = 0; i < 10000; i++) {\n    n += indexOf(s, \"lazy\") + len(substring(s, i % 10, 20)) + len(charAt(s, i % 43));\n    if (includes(s, \"fox\") && startsWith(s, \"The\")) {\n        n += 1;\n    }\n}\nprint(n);\n",
        ),
        // ---- the large program ----
        program(
            "large",
            "large_program",
            include_str!("programs/large_program.at"),
        ),
    ];
    for depth in [10, 20, 25] {
        p.push(program(
            "calls",
            format!("fib_depth_{depth}"),
            format!("{FIB}print(fib({depth}));\n"),
        ));
    }
    for k in 0..=4 {
        p.push(program("calls", format!("args_{k}"), call_with_args(k)));
    }
    p
}

// ---- counting allocator ------------------------------------------------------------------

/// The system allocator, counting what the current thread allocates (a realloc counts as
/// an allocation of its new size) and its live and peak live heap bytes.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

fn note_alloc(new: usize, old: usize) {
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
    let _ = BYTES.try_with(|b| b.set(b.get() + new as u64));
    let _ = LIVE.try_with(|live| {
        let now = live.get() + new as i64 - old as i64;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

fn note_free(size: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get() - size as i64));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout.size(), 0);
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout.size(), 0);
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_alloc(new_size, layout.size());
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note_free(layout.size());
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Heap use of a piece of work on this thread.
#[derive(Debug, Clone, Copy)]
struct Heap {
    allocations: u64,
    bytes: u64,
    /// Most bytes live at once above what was live when the work started.
    peak: u64,
}

fn measure_heap<R>(work: impl FnOnce() -> R) -> (R, Heap) {
    let allocations = ALLOCATIONS.with(Cell::get);
    let bytes = BYTES.with(Cell::get);
    let live = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(live));
    let result = work();
    let heap = Heap {
        allocations: ALLOCATIONS.with(Cell::get) - allocations,
        bytes: BYTES.with(Cell::get) - bytes,
        peak: (PEAK.with(Cell::get) - live).max(0) as u64,
    };
    (result, heap)
}

// ---- running ------------------------------------------------------------------------------

fn compile(program: &Program, config: &Config) -> Rc<VerifiedModule> {
    driver::compile_source(&program.source, config.compile).unwrap_or_else(|errors| {
        panic!(
            "{}/{} does not compile in {}: {:?}",
            program.category,
            program.name,
            config.name,
            errors.iter().map(|e| &e.message).collect::<Vec<_>>()
        )
    })
}

fn execute(module: &Rc<VerifiedModule>, config: &Config, out: &mut dyn io::Write) {
    if let Err(e) = vm::run_module(Rc::clone(module), config.vm, out) {
        panic!("runtime error in {}: {}", config.name, e.message);
    }
}

fn output(module: &Rc<VerifiedModule>, config: &Config) -> String {
    let mut out = Vec::new();
    execute(module, config, &mut out);
    String::from_utf8(out).expect("utf-8 output")
}

/// Every configuration must print what the first one prints (and something).
fn check_outputs(program: &Program, configs: &[Config]) {
    let outputs: Vec<String> = configs
        .iter()
        .map(|c| output(&compile(program, c), c))
        .collect();
    assert!(
        !outputs[0].is_empty(),
        "{}/{} prints nothing",
        program.category,
        program.name
    );
    for (config, out) in configs.iter().zip(&outputs).skip(1) {
        assert_eq!(
            out, &outputs[0],
            "{}/{}: {} and {} print different results",
            program.category, program.name, configs[0].name, config.name
        );
    }
}

// ---- Criterion groups ---------------------------------------------------------------------

fn quick() -> bool {
    std::env::var("ATLAS_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
}

fn enabled(var: &str) -> bool {
    std::env::var(var).map_or(true, |v| v != "0")
}

/// Warm-up and measurement times: about ten minutes for the whole suite, or one in quick
/// mode.
fn criterion() -> Criterion {
    let c = Criterion::default().without_plots();
    let c = if quick() {
        c.warm_up_time(Duration::from_millis(30))
            .measurement_time(Duration::from_millis(100))
            .sample_size(10)
            .nresamples(2_000)
    } else {
        c.warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_millis(1500))
            .sample_size(20)
            .nresamples(20_000)
    };
    c.configure_from_args()
}

fn bench_execution(c: &mut Criterion, programs: &[Program], configs: &[Config]) {
    for &category in CATEGORIES {
        let mut group = c.benchmark_group(format!("exec/{category}"));
        for program in programs.iter().filter(|p| p.category == category) {
            for config in configs {
                let module = compile(program, config);
                group.bench_with_input(
                    BenchmarkId::new(&program.name, config.name),
                    &module,
                    |b, module| b.iter(|| execute(module, config, &mut io::sink())),
                );
            }
        }
        group.finish();
    }
}

fn bench_end_to_end(c: &mut Criterion, programs: &[Program], configs: &[Config]) {
    for &category in CATEGORIES {
        let mut group = c.benchmark_group(format!("e2e/{category}"));
        for program in programs.iter().filter(|p| p.category == category) {
            for config in configs {
                group.bench_with_input(
                    BenchmarkId::new(&program.name, config.name),
                    program,
                    |b, program| {
                        b.iter(|| {
                            let module = compile(program, config);
                            execute(&module, config, &mut io::sink())
                        })
                    },
                );
            }
        }
        group.finish();
    }
}

fn bench_compile(c: &mut Criterion, programs: &[Program], configs: &[Config]) {
    let mut group = c.benchmark_group("compile/large");
    for program in programs.iter().filter(|p| p.category == "large") {
        for config in configs {
            group.bench_with_input(
                BenchmarkId::new(&program.name, config.name),
                program,
                |b, program| b.iter(|| compile(program, config)),
            );
        }
    }
    group.finish();
}

// ---- memory and RSS tables ----------------------------------------------------------------

/// `target/atlas-bench`, next to Criterion's `target/criterion`.
fn report_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the bench knows its path");
    // target/<profile>/deps/<bench>
    let target = exe
        .ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("target"));
    let dir = target.join("atlas-bench");
    std::fs::create_dir_all(&dir).expect("can create target/atlas-bench");
    dir
}

fn save(name: &str, text: &str) {
    let path = report_dir().join(name);
    std::fs::write(&path, text).expect("can write the table");
    println!("{text}\n(written to {})\n", path.display());
}

fn kib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1024.0)
}

/// Execution times measured with the configurations interleaved: each round runs every
/// configuration once (a batch of runs long enough to time, at least about 2 ms), so a
/// change in the machine's load hits all of them alike, unlike Criterion's groups, which
/// measure one configuration after the other. Median and minimum seconds per run over the
/// rounds, and the ratio of each configuration's minimum to the first's: the programs are
/// deterministic, so the fastest round is the one least disturbed by other processes (on
/// a shared machine a median can still land in a busy spell of one configuration).
fn interleaved_table(programs: &[Program], configs: &[Config], rounds: usize) -> String {
    let mut t = String::from("| program |");
    for c in configs {
        let _ = write!(t, " {} median | {} min |", c.name, c.name);
    }
    for c in &configs[1..] {
        let _ = write!(t, " {}/{} (min) |", c.name, configs[0].name);
    }
    t.push_str("\n|---|");
    for _ in 0..configs.len() * 3 - 1 {
        t.push_str("---:|");
    }
    t.push('\n');
    let mut logs = vec![Vec::new(); configs.len()];
    for &category in CATEGORIES {
        for program in programs.iter().filter(|p| p.category == category) {
            let modules: Vec<Rc<VerifiedModule>> =
                configs.iter().map(|c| compile(program, c)).collect();
            let time = |k: usize, batch: u32| {
                let start = Instant::now();
                for _ in 0..batch {
                    execute(&modules[k], &configs[k], &mut io::sink());
                }
                start.elapsed().as_secs_f64() / batch as f64
            };
            // Batch size: enough runs of the reference for about 2 ms.
            let once = time(0, 1).max(1e-7);
            let batch = ((2e-3 / once).ceil() as u32).clamp(1, 10_000);
            let mut samples = vec![Vec::with_capacity(rounds); configs.len()];
            for _ in 0..rounds {
                for (k, s) in samples.iter_mut().enumerate() {
                    s.push(time(k, batch));
                }
            }
            let mut minimums = Vec::new();
            let _ = write!(t, "| {category}/{} |", program.name);
            for s in &mut samples {
                s.sort_by(f64::total_cmp);
                minimums.push(s[0]);
                let _ = write!(t, " {} | {} |", seconds(s[s.len() / 2]), seconds(s[0]));
            }
            for k in 1..configs.len() {
                let ratio = minimums[k] / minimums[0];
                logs[k].push(ratio.ln());
                let _ = write!(t, " {ratio:.2} |");
            }
            t.push('\n');
        }
    }
    t.push_str("| **geometric mean** |");
    for _ in 0..configs.len() * 2 {
        t.push_str(" |");
    }
    for log in &logs[1..] {
        let mean = (log.iter().sum::<f64>() / log.len().max(1) as f64).exp();
        let _ = write!(t, " **{mean:.2}** |");
    }
    t.push('\n');
    t
}

fn seconds(s: f64) -> String {
    if s >= 1e-3 {
        format!("{:.3} ms", s * 1e3)
    } else {
        format!("{:.2} µs", s * 1e6)
    }
}

/// The load average (1, 5, 15 minutes) from `/proc/loadavg`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_string())
}

fn memory_table(programs: &[Program], configs: &[Config]) -> String {
    let mut t = String::from(
        "| program | config | exec allocations | exec KiB allocated | exec peak heap KiB | compile allocations | compile KiB allocated |\n|---|---|---:|---:|---:|---:|---:|\n",
    );
    for &category in CATEGORIES {
        for program in programs.iter().filter(|p| p.category == category) {
            for config in configs {
                let (module, compiled) = measure_heap(|| compile(program, config));
                let mut out = Vec::with_capacity(1 << 16);
                let ((), run) = measure_heap(|| execute(&module, config, &mut out));
                let _ = writeln!(
                    t,
                    "| {category}/{} | {} | {} | {} | {} | {} | {} |",
                    program.name,
                    config.name,
                    run.allocations,
                    kib(run.bytes),
                    kib(run.peak),
                    compiled.allocations,
                    kib(compiled.bytes)
                );
            }
        }
    }
    t
}

/// GNU time (Debian's package `time`), which reports a child's own peak RSS. The RSS
/// that the kernel reports for a child forked straight from this process would include
/// this process's own peak (the kernel carries it over the `exec`), as a floor.
const GNU_TIME: &str = "/usr/bin/time";

/// Runs `atlas run FLAGS FILE` under GNU time; returns its standard output, whether it
/// exited 0, and its peak RSS in KiB (`None` without GNU time).
fn run_atlas(flags: &[&str], file: &Path) -> (String, bool, Option<u64>) {
    let atlas = env!("CARGO_BIN_EXE_atlas");
    let rss_file = report_dir().join("rss.tmp");
    let timed = Path::new(GNU_TIME).exists();
    let mut command = if timed {
        let mut c = Command::new(GNU_TIME);
        c.arg("-f").arg("%M").arg("-o").arg(&rss_file).arg(atlas);
        c
    } else {
        Command::new(atlas)
    };
    let out = command
        .arg("run")
        .args(flags)
        .arg(file)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("the atlas binary starts");
    let rss = if timed {
        std::fs::read_to_string(&rss_file)
            .ok()
            .and_then(|t| t.lines().last().and_then(|l| l.trim().parse().ok()))
    } else {
        None
    };
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.success(),
        rss,
    )
}

fn rss_table(configs: &[Config]) -> Option<String> {
    let dir = std::env::var_os("ATLAS_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "at"))
        .collect();
    files.sort();
    if !Path::new(GNU_TIME).exists() {
        println!("no {GNU_TIME} (apt-get install time): peak RSS not measured");
    }
    let mut t = String::from("| program |");
    for config in configs {
        let _ = write!(t, " {} peak RSS KiB |", config.name);
    }
    t.push_str(" output |\n|---|");
    for _ in configs {
        t.push_str("---:|");
    }
    t.push_str("---|\n");
    for file in &files {
        let name = file.file_stem().expect("a name").to_string_lossy();
        let expected = std::fs::read_to_string(dir.join("expected").join(format!("{name}.out")));
        let _ = write!(t, "| {name} |");
        let mut verdict = "ok";
        for config in configs {
            let (stdout, ok, rss) = run_atlas(config.cli, file);
            if !ok || expected.as_ref().is_ok_and(|e| *e != stdout) {
                verdict = "MISMATCH";
            }
            let _ = write!(t, " {} |", rss.map_or("n/a".to_string(), |k| k.to_string()));
        }
        if expected.is_err() {
            verdict = "no expected output";
        }
        let _ = writeln!(t, " {verdict} |");
    }
    Some(t)
}

/// The commit the suite runs at, read when the run starts (`cargo bench` builds right
/// before it): `git rev-parse --short HEAD`, plus "with uncommitted changes" when tracked
/// files differ from it.
fn commit() -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(head) => match git(&["status", "--porcelain", "--untracked-files=no"]) {
            Some(changes) if !changes.is_empty() => format!("{head} with uncommitted changes"),
            _ => head,
        },
        None => "unknown (not a git checkout)".to_string(),
    }
}

// ---- main ---------------------------------------------------------------------------------

fn main() {
    let configs = configurations();
    let programs = programs();
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; without it (e.g. `cargo test --benches`) Criterion
    // runs each benchmark once as a test, and the tables are skipped.
    let benching = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--list");

    for program in &programs {
        check_outputs(program, &configs);
    }

    if benching {
        let commit = commit();
        println!("Measuring at commit {commit}");
        std::fs::write(report_dir().join("commit.txt"), format!("{commit}\n"))
            .expect("can write target/atlas-bench/commit.txt");
        std::fs::write(
            report_dir().join("load.txt"),
            format!("load average at start: {}\n", load_average()),
        )
        .expect("can write target/atlas-bench/load.txt");
    }
    let started = Instant::now();
    let mut c = criterion();
    let main_configs = main_configurations(&configs);
    bench_execution(&mut c, &programs, &configs);
    bench_end_to_end(&mut c, &programs, &main_configs);
    bench_compile(&mut c, &programs, &main_configs);
    c.final_summary();
    if benching {
        println!("Criterion groups took {:.0?}", started.elapsed());
    }

    if benching && enabled("ATLAS_BENCH_INTERLEAVED") {
        let rounds = if quick() { 3 } else { 21 };
        save(
            "interleaved.md",
            &interleaved_table(&programs, &configs, rounds),
        );
    }
    if benching && enabled("ATLAS_BENCH_MEMORY") {
        save("memory.md", &memory_table(&programs, &configs));
    }
    if benching && enabled("ATLAS_BENCH_RSS") {
        match rss_table(&main_configs) {
            Some(table) => save("rss.md", &table),
            None => println!("no ../shared/bench (set ATLAS_BENCH_DIR): RSS table skipped"),
        }
    }
    if benching {
        println!("The whole run took {:.0?}", started.elapsed());
        let path = report_dir().join("load.txt");
        let mut load = std::fs::read_to_string(&path).unwrap_or_default();
        let _ = writeln!(load, "load average at end: {}", load_average());
        std::fs::write(&path, load).expect("can write target/atlas-bench/load.txt");
    }
}
