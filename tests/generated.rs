//! Random well-typed programs, run in every configuration of the pipeline.
//!
//! A grammar-aware generator (`generated/strategy.rs` builds typed trees with proptest,
//! `generated/print.rs` prints them as source, see its module doc for what keeps the
//! programs well typed and terminating) writes programs that use numbers, strings,
//! bools, null, arrays, functions as values, function expressions that capture
//! locals, parameters and loop variables (and assign them), `sort` with any comparator,
//! the prelude, every
//! statement form, nested and recursive functions, globals, locals and shadowing. For each program:
//! - it must compile (a rejection is a bug of the generator or of the checker);
//! - nothing may panic;
//! - a metered run (instruction budget, optimized and not) comes first; a program
//!   whose baseline run exhausts the budget is only run metered (it would take too long
//!   otherwise; loops and recursion are bounded, but a loop whose body may change its
//!   counter can run away); the optimized code must not need more instructions;
//! - otherwise the `match` and `table` dispatch loops, the optimized and the baseline
//!   compilation, metered and unmetered runs, through the embedding API (`Engine`) and
//!   through the command line's path (`driver::compile_source`, which keeps top-level
//!   variables in registers, and `vm::run_module`) must print the same output and end
//!   with the same error, rendered identically (message, location, trace).
//!
//! Runtime errors (bad indices, division by zero, `pop` of an empty array, stack
//! overflow ...) are expected; they only have to agree.
//!
//! `PROPTEST_CASES` sets the number of programs (default 512), `PROPTEST_RNG_SEED` the
//! seed (fixed by default, so that a run is reproducible). A failure is shrunk and
//! reported with the source of the smallest failing program. `cargo test --release
//! --test generated -- --nocapture` also prints how the programs ended and how many
//! contain each construct. `GEN_DEEP=1` generates bigger programs (for long runs with
//! many cases); the ignored test `dump` writes sample programs to a folder.

#[path = "generated/ast.rs"]
mod ast;
#[path = "generated/print.rs"]
mod print;
#[path = "generated/strategy.rs"]
mod strategy;

use std::cell::RefCell;
use std::fmt;

use atlas::compile::CompileOptions;
use atlas::driver::{self, SourceFile, Style};
use atlas::vm::{self, Dispatch, Options};
use atlas::{Engine, Limits, OutputBuffer, Script};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};

/// The name programs are compiled under (it appears in error traces).
const NAME: &str = "gen.at";
/// Instructions a program may run; one that needs more is only run metered.
const BUDGET: u64 = 2_000_000;
/// A small frame limit, so that runaway recursion fails fast.
const MAX_FRAMES: usize = 400;
const DEFAULT_CASES: u32 = 512;
const DEFAULT_SEED: u64 = 0x000A_71A5;

/// A program's source; its `Debug` is the source itself, so that proptest reports a
/// failing program readably.
#[derive(Clone)]
struct Source(String);

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\n----- program -----\n{}-------------------", self.0)
    }
}

/// What a run printed and how it ended.
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    out: String,
    /// The rendered runtime error.
    error: Option<String>,
}

#[derive(Debug, Default)]
struct Stats {
    programs: u32,
    succeeded: u32,
    failed: u32,
    over_budget: u32,
    lines: usize,
    bytes: usize,
    errors: std::collections::BTreeMap<String, u32>,
    /// Programs that contain each of `FEATURES`.
    features: Vec<u32>,
}

/// Constructs counted in the generated sources (`--nocapture` prints how many programs
/// have each), to see what the generator covers.
const FEATURES: &[(&str, &str)] = &[
    ("while", "while ("),
    ("while (true)", "while (true)"),
    ("for (;;)", "for (;;)"),
    ("C-style for", "for (var"),
    ("for (let", "for (let"),
    ("for-in", " in "),
    ("break", "break;"),
    ("continue", "continue;"),
    ("else if", "} else if ("),
    ("nested fn", "fn h"),
    ("fn expression", "(fn ("),
    ("sort", "sort("),
    ("recursion", "(depth"),
    ("deep recursion", "deep(min("),
    ("side effects", "fxn("),
    ("void fn", "-> void"),
    ("fn-typed param", ") -> number, "),
    ("return", "return "),
    ("x++/++x", "++"),
    ("x--/--x", "--"),
    ("+=", "+="),
    ("-=", "-="),
    ("*=", "*="),
    ("/=", "/="),
    ("%=", "%="),
    ("xs[i] =", "] = "),
    ("xs[i][j]", "]["),
    ("Array<T>", "Array<"),
    ("null", "null"),
    ("NaN", "sqrt(-1)"),
    ("Infinity", "1e999"),
    ("&&", "&&"),
    ("||", "||"),
    ("!", "!"),
    ("%", " % "),
    ("/", " / "),
    ("print", "print("),
    ("str", "str("),
    ("len", "len("),
    ("push", "push("),
    ("pop", "pop("),
    ("map", "map("),
    ("filter", "filter("),
    ("reduce", "reduce("),
    ("slice", "slice("),
    ("concat", "concat("),
    ("join", "join("),
    ("split", "split("),
    ("substring", "substring("),
    ("charAt", "charAt("),
    ("indexOf", "indexOf("),
    ("includes", "includes("),
    ("startsWith", "startsWith("),
    ("endsWith", "endsWith("),
    ("toUpperCase", "toUpperCase"),
    ("toLowerCase", "toLowerCase"),
    ("trim", "trim"),
    ("parseNumber", "parseNumber("),
    ("sqrt", "sqrt"),
    ("abs", "abs"),
    ("floor", "floor"),
    ("ceil", "ceil"),
    ("round", "round"),
    ("min", "min"),
    ("max", "max"),
    ("pow", "pow"),
    ("clock", "clock()"),
];

fn config() -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = DEFAULT_CASES;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(DEFAULT_SEED);
    }
    config.failure_persistence = None;
    config.max_shrink_iters = 2000;
    config
}

fn limits(budget: Option<u64>) -> Limits {
    let limits = Limits::default().with_max_frames(MAX_FRAMES);
    match budget {
        Some(b) => limits.with_max_instructions(b),
        None => limits,
    }
}

/// An engine compiling optimized or not, printing into a buffer.
struct EngineRun {
    engine: Engine,
    out: OutputBuffer,
    script: Script,
}

impl EngineRun {
    fn new(source: &str, optimize: bool) -> Result<EngineRun, String> {
        let mut engine = Engine::new();
        let out = OutputBuffer::new();
        engine.set_output(out.clone());
        engine.set_optimize(optimize);
        let script = engine
            .compile_named(NAME, source)
            .map_err(|e| e.to_string())?;
        Ok(EngineRun {
            engine,
            out,
            script,
        })
    }

    fn run(&mut self, dispatch: Dispatch, budget: Option<u64>) -> Outcome {
        self.engine
            .set_limits(limits(budget))
            .set_dispatch(dispatch);
        let result = self.engine.run(&self.script);
        Outcome {
            out: self.out.take(),
            error: result.err().map(|e| e.to_string()),
        }
    }
}

/// The command line's path: `atlas run [--no-optimize] [--dispatch D]`.
fn run_cli(source: &str, optimize: bool, dispatch: Dispatch) -> Result<Outcome, String> {
    let module = driver::compile_source(source, CompileOptions { optimize }).map_err(|errors| {
        let file = SourceFile::new(NAME, source);
        errors
            .iter()
            .map(|e| file.render_compile_error(e, Style::PLAIN))
            .collect::<String>()
    })?;
    let options = Options {
        dispatch,
        max_frames: MAX_FRAMES,
        ..Options::default()
    };
    let mut out = Vec::new();
    let result = vm::run_module(module, options, &mut out);
    Ok(Outcome {
        out: String::from_utf8_lossy(&out).into_owned(),
        error: result.err().map(|e| {
            SourceFile::new(NAME, source)
                .render_runtime_error(&e, Style::PLAIN)
                .trim_end_matches('\n')
                .to_string()
        }),
    })
}

fn is_budget_error(outcome: &Outcome) -> bool {
    outcome
        .error
        .as_deref()
        .is_some_and(|e| e.starts_with("error: instruction limit of"))
}

/// Where two outcomes first differ, for the failure message.
fn difference(what: &str, a: &Outcome, b: &Outcome) -> String {
    let mut s = format!("{what}\n");
    if a.out != b.out {
        let al: Vec<&str> = a.out.lines().collect();
        let bl: Vec<&str> = b.out.lines().collect();
        let first = al
            .iter()
            .zip(&bl)
            .position(|(x, y)| x != y)
            .unwrap_or(al.len().min(bl.len()));
        s += &format!(
            "output differs at line {} ({} vs {} lines):\n  reference: {:?}\n  this:      {:?}\n",
            first + 1,
            al.len(),
            bl.len(),
            al.get(first),
            bl.get(first)
        );
    }
    if a.error != b.error {
        s += &format!(
            "error differs:\n--- reference\n{}\n--- this\n{}\n",
            a.error.as_deref().unwrap_or("(none)"),
            b.error.as_deref().unwrap_or("(none)")
        );
    }
    s
}

fn check(source: &str, stats: &RefCell<Stats>) -> Result<(), TestCaseError> {
    {
        let mut stats = stats.borrow_mut();
        stats.features.resize(FEATURES.len(), 0);
        // Not counting the functions every program has.
        let own = source.strip_suffix(print::STOCK).unwrap_or(source);
        for (i, (_, pattern)) in FEATURES.iter().enumerate() {
            if own.contains(pattern) {
                stats.features[i] += 1;
            }
        }
    }
    let fail = |msg: String| TestCaseError::fail(msg);
    let mut opt = EngineRun::new(source, true)
        .map_err(|e| fail(format!("the checker rejects a generated program:\n{e}")))?;
    let mut base = EngineRun::new(source, false).map_err(|e| {
        fail(format!(
            "the checker rejects a generated program (baseline):\n{e}"
        ))
    })?;

    // Metered first: a program too long to run is only run metered.
    let metered_base = base.run(Dispatch::Match, Some(BUDGET));
    let metered_opt = opt.run(Dispatch::Match, Some(BUDGET));
    if is_budget_error(&metered_base) {
        stats.borrow_mut().over_budget += 1;
        return Ok(());
    }
    if is_budget_error(&metered_opt) {
        return Err(fail(format!(
            "the optimized code runs more than {BUDGET} instructions, the baseline fewer"
        )));
    }
    let reference = base.run(Dispatch::Match, None);
    let mut others = vec![
        ("baseline, metered", metered_base),
        ("optimized, metered", metered_opt),
        ("baseline, table", base.run(Dispatch::Table, None)),
        ("optimized, match", opt.run(Dispatch::Match, None)),
        ("optimized, table", opt.run(Dispatch::Table, None)),
    ];
    for (optimize, dispatch, what) in [
        (true, Dispatch::Match, "command line, optimized, match"),
        (true, Dispatch::Table, "command line, optimized, table"),
        (false, Dispatch::Match, "command line, baseline, match"),
    ] {
        let outcome = run_cli(source, optimize, dispatch)
            .map_err(|e| fail(format!("driver::compile_source rejects the program:\n{e}")))?;
        others.push((what, outcome));
    }
    for (what, outcome) in &others {
        if outcome != &reference {
            return Err(fail(difference(
                &format!("{what} disagrees with the baseline `match` run"),
                &reference,
                outcome,
            )));
        }
    }
    let mut stats = stats.borrow_mut();
    stats.lines += reference.out.lines().count();
    stats.bytes += reference.out.len();
    match &reference.error {
        None => stats.succeeded += 1,
        Some(e) => {
            stats.failed += 1;
            let message = e.lines().next().unwrap_or_default();
            let kind: String = message
                .chars()
                .take_while(|c| !c.is_ascii_digit() && *c != '\'' && *c != '"')
                .collect();
            *stats.errors.entry(kind.trim().to_string()).or_default() += 1;
        }
    }
    Ok(())
}

#[test]
fn generated_programs_agree_in_every_configuration() {
    let stats = RefCell::new(Stats::default());
    let mut runner = TestRunner::new(config());
    let strategy = strategy::program().prop_map(|p| Source(print::render(&p)));
    let result = runner.run(&strategy, |source| {
        stats.borrow_mut().programs += 1;
        check(&source.0, &stats)
    });
    let stats = stats.into_inner();
    eprintln!(
        "{} programs run: {} succeeded, {} ended in a runtime error, {} over the budget; \
         {} lines ({} bytes) of output",
        stats.programs, stats.succeeded, stats.failed, stats.over_budget, stats.lines, stats.bytes
    );
    for (kind, n) in &stats.errors {
        eprintln!("  {n:5}  {kind}");
    }
    eprintln!("programs with each construct:");
    for (i, (name, _)) in FEATURES.iter().enumerate() {
        eprint!(
            "{name:>14} {:<6}{}",
            stats.features.get(i).copied().unwrap_or(0),
            if i % 5 == 4 { "\n" } else { "" }
        );
    }
    eprintln!();
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, source)) => {
            panic!("{reason}\nminimal failing program:{source:?}")
        }
        Err(e) => panic!("{e}"),
    }
}

/// The generator must keep programs cheap enough to be compared in every configuration
/// and varied enough to get somewhere before a runtime error.
#[test]
fn generated_programs_mostly_run_to_completion() {
    let mut runner = TestRunner::new(Config {
        cases: 64,
        ..config()
    });
    let strategy = strategy::program().prop_map(|p| print::render(&p));
    let mut completed = 0;
    let mut over_budget = 0;
    for _ in 0..64 {
        let source = strategy.new_tree(&mut runner).expect("a program").current();
        let mut run = EngineRun::new(&source, true)
            .unwrap_or_else(|e| panic!("generated program rejected:\n{e}\n{source}"));
        let outcome = run.run(Dispatch::Match, Some(BUDGET));
        if outcome.error.is_none() {
            completed += 1;
        }
        if is_budget_error(&outcome) {
            over_budget += 1;
        }
    }
    assert!(
        completed >= 16,
        "only {completed} of 64 programs ran to completion"
    );
    assert!(
        over_budget <= 8,
        "{over_budget} of 64 programs ran out of budget"
    );
}

/// Writes sample programs to the folder `GEN_DUMP` names (`GEN_DUMP_COUNT` of them,
/// default 20), to read them or to run them with `atlas run`:
/// `GEN_DUMP=/tmp/gen cargo test --release --test generated -- --ignored dump`.
#[test]
#[ignore]
fn dump() {
    let Some(dir) = std::env::var_os("GEN_DUMP") else {
        return;
    };
    let count: usize = std::env::var("GEN_DUMP_COUNT")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(20);
    std::fs::create_dir_all(&dir).expect("GEN_DUMP folder");
    let mut runner = TestRunner::new(config());
    let strategy = strategy::program().prop_map(|p| print::render(&p));
    for i in 0..count {
        let source = strategy.new_tree(&mut runner).expect("a program").current();
        let path = std::path::Path::new(&dir).join(format!("g{i:04}.at"));
        std::fs::write(path, source).expect("write a program");
    }
}
