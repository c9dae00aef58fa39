//! Resource limits: each fails with a clear runtime error (never a panic or a hang), and
//! the engine runs other programs afterwards.

use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use atlas::{Engine, ErrorKind, Limits, OutputBuffer};
use rstest::rstest;

const ENDLESS_LOOP: &str = "var i = 0; while (true) { i = i + 1; }";
const ENDLESS_FOR: &str = "for (var i = 0; i >= 0; i++) { }";
const ENDLESS_PUSH: &str = "let xs: number[] = []; while (true) { push(xs, 1); }";
const ENDLESS_RECURSION: &str = "fn down(n: number) -> number { return down(n + 1); } down(0);";
const ENDLESS_RECURSION_BY_LOOP: &str =
    "fn tick(n: number) -> number { return n + 1; } var n = 0; while (true) { n = tick(n); }";

fn engine(limits: Limits) -> Engine {
    let mut engine = Engine::new();
    engine.set_output(OutputBuffer::new()).set_limits(limits);
    engine
}

#[rstest]
#[case::while_loop(ENDLESS_LOOP)]
#[case::for_loop(ENDLESS_FOR)]
#[case::calls(ENDLESS_RECURSION_BY_LOOP)]
fn instruction_budget_stops_endless_programs(#[case] source: &str) {
    let mut engine = engine(Limits::default().with_max_instructions(100_000));
    let error = engine.eval::<()>(source).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Runtime);
    assert_eq!(error.message(), "instruction limit of 100000 reached");
    assert!(!error.trace().is_empty());
    // The engine is still usable.
    assert_eq!(engine.eval::<f64>("1 + 2").unwrap(), 3.0);
}

#[test]
fn instruction_budget_is_exact() {
    // A program of known length runs within a budget of exactly its length and fails
    // with one instruction less.
    let source = "var s = 0; for (var i = 0; i < 10; i++) { s += i; }";
    let mut needed = None;
    for budget in 1..200 {
        let mut engine = engine(Limits::default().with_max_instructions(budget));
        if engine.eval::<()>(source).is_ok() {
            needed = Some(budget);
            break;
        }
    }
    let needed = needed.expect("the program fits in 200 instructions");
    let mut engine = engine(Limits::default().with_max_instructions(needed - 1));
    assert!(engine.eval::<()>(source).is_err());
}

#[rstest]
#[case::while_loop(ENDLESS_LOOP)]
#[case::calls(ENDLESS_RECURSION_BY_LOOP)]
fn timeout_stops_endless_programs(#[case] source: &str) {
    let mut engine = engine(Limits::default().with_timeout(Duration::from_millis(200)));
    let start = Instant::now();
    let error = engine.eval::<()>(source).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(error.message(), "time limit of 0.2 s reached");
    assert_eq!(engine.eval::<f64>("2 * 21").unwrap(), 42.0);
}

#[rstest]
#[case::while_loop(ENDLESS_LOOP)]
#[case::for_loop(ENDLESS_FOR)]
#[case::calls(ENDLESS_RECURSION_BY_LOOP)]
fn another_thread_can_interrupt_a_run(#[case] source: &str) {
    let mut engine = engine(Limits::default());
    let stop = engine.interrupt_handle();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        stop.store(true, Ordering::Relaxed);
    });
    let start = Instant::now();
    let error = engine.eval::<()>(source).unwrap_err();
    stopper.join().unwrap();
    assert_eq!(error.message(), "interrupted");
    assert!(start.elapsed() < Duration::from_secs(5));
    engine.interrupt_handle().store(false, Ordering::Relaxed);
    assert_eq!(engine.eval::<f64>("7").unwrap(), 7.0);
}

#[test]
fn deep_recursion_is_a_stack_overflow_and_the_engine_recovers() {
    let mut engine = engine(Limits::default().with_max_frames(1000));
    let error = engine.eval::<()>(ENDLESS_RECURSION).unwrap_err();
    assert_eq!(error.message(), "stack overflow");
    assert_eq!(engine.eval::<f64>("10 - 3").unwrap(), 7.0);
}

#[test]
fn value_stack_limit_is_a_stack_overflow_and_the_engine_recovers() {
    // Each frame of `down` takes a few registers: 300 registers run out long before
    // the default frame limit.
    let mut engine = engine(Limits::default().with_max_stack(300));
    let error = engine.eval::<()>(ENDLESS_RECURSION).unwrap_err();
    assert_eq!(error.message(), "stack overflow");
    assert_eq!(
        engine
            .eval::<f64>("fn f(n: number) -> number { if (n == 0) { return 0; } return 1 + f(n - 1); } f(20);")
            .unwrap(),
        20.0
    );
}

#[rstest]
#[case::push(ENDLESS_PUSH)]
#[case::array_literals("var all: number[][] = []; while (true) { push(all, [1, 2, 3, 4]); }")]
#[case::string_doubling("var s = \"ab\"; while (true) { s = s + s; }")]
#[case::string_concat("var s = \"\"; var i = 0; while (true) { s = s + str(i); i++; }")]
#[case::split(
    "var parts: string[][] = []; while (true) { push(parts, split(\"a,b,c,d\", \",\")); }"
)]
#[case::in_a_function("fn grow(xs: number[]) -> void { while (true) { push(xs, len(xs)); } } let ys: number[] = []; grow(ys);")]
fn memory_limit_stops_growing_programs(#[case] source: &str) {
    const LIMIT: usize = 1 << 20;
    let before = atlas::vm::heap::live_bytes();
    let mut engine = engine(Limits::default().with_max_memory(LIMIT));
    let start = Instant::now();
    let error = engine.eval::<()>(source).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Runtime);
    assert_eq!(
        error.message(),
        format!("memory limit of {LIMIT} bytes reached")
    );
    assert!(!error.trace().is_empty());
    assert!(start.elapsed() < Duration::from_secs(5));
    // The failed run's values are gone: the account is back to (about) where it was,
    // and the engine runs the next program.
    assert_eq!(engine.eval::<f64>("len(\"four\")").unwrap(), 4.0);
    let after = atlas::vm::heap::live_bytes();
    assert!(after < before + 4096, "{before} -> {after}");
}

#[test]
fn memory_limit_counts_what_is_held_not_what_was_allocated() {
    // 200 000 temporary strings and arrays, never more than a few alive at once, run
    // within 64 KiB.
    let source = "var total = 0;
        for (var i = 0; i < 100000; i++) {
            let s = \"item \" + str(i);
            let xs = [i, i + 1, i + 2];
            total = total + len(s) + len(xs);
        }
        total;";
    let mut engine = engine(Limits::default().with_max_memory(64 << 10));
    assert_eq!(engine.eval::<f64>(source).unwrap(), 988_890.0 + 300_000.0);
}

#[test]
fn memory_limit_error_points_at_the_allocating_instruction() {
    let source =
        "let xs: number[] = [];\nvar n = 0;\nwhile (true) {\n    n = n + 1;\n    push(xs, n);\n}";
    let mut engine = engine(Limits::default().with_max_memory(4096));
    let error = engine.eval::<()>(source).unwrap_err();
    assert_eq!(error.message(), "memory limit of 4096 bytes reached");
    assert_eq!(error.location().map(|l| l.line), Some(5), "{error}");
}

#[rstest]
#[case::budget(&["--max-instructions", "50000"], ENDLESS_LOOP, "instruction limit of 50000 reached")]
#[case::timeout(&["--timeout", "0.2"], ENDLESS_LOOP, "time limit of 0.2 s reached")]
#[case::memory(&["--max-memory", "1M"], ENDLESS_PUSH, "memory limit of 1048576 bytes reached")]
#[case::stack(&["--max-stack", "300"], ENDLESS_RECURSION, "stack overflow")]
fn command_line_limits(#[case] flags: &[&str], #[case] program: &str, #[case] message: &str) {
    let dir = std::env::temp_dir().join(format!("atlas-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("endless_{}.at", flags[0].trim_start_matches('-')));
    std::fs::write(&path, format!("print(1);\n{program}\n")).unwrap();
    let start = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_atlas"))
        .arg("run")
        .args(flags)
        .arg(&path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(70), "{stderr}");
    assert!(stderr.contains(message), "{stderr}");
    assert!(stderr.contains("at <script> ("), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "1\n");
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn metered_runs_print_what_unmetered_runs_print() {
    let source = include_str!("fixtures/all_opcodes.at");
    let run = |limits: Limits| {
        let output = OutputBuffer::new();
        let mut engine = Engine::new();
        engine.set_output(output.clone()).set_limits(limits);
        engine.eval::<()>(source).unwrap();
        output.contents()
    };
    let plain = run(Limits::default());
    let metered = run(Limits::default()
        .with_max_instructions(u64::MAX / 2)
        .with_timeout(Duration::from_secs(3600)));
    assert_eq!(plain, metered);
    assert!(plain.contains("20000"));
}

/// `charAt`, `charCode` and `substring` near the end of a long non-ASCII string cost
/// O(1) amortized: 30,000 lookups into a million `é` take milliseconds. When each one
/// walked from the start (a millisecond apiece), this ran past the 20 s limit.
#[test]
fn scalar_indexing_of_a_long_non_ascii_string_does_not_walk_it() {
    let mut engine = engine(Limits::default().with_timeout(Duration::from_secs(20)));
    let source = r#"
        let s = repeat("é", 1000000);
        var n = 0;
        for (var i = 0; i < 10000; i++) {
            let k = 999999 - i;
            if (charAt(s, k) == "é") { n++; }
            n += charCode(s, k) - 233;
            n += len(substring(s, k - 1, k + 1)) - 1;
        }
        n;
    "#;
    assert_eq!(engine.eval::<f64>(source).unwrap(), 20000.0);
}

/// The memory ceiling of an unmetered run (the CLI's default, a quarter of physical
/// memory) stops an endless push loop or string doubling with the memory error at the
/// next loop iteration, in both dispatch loops; the run after it is unlimited again.
#[rstest]
#[case::push(ENDLESS_PUSH, atlas::vm::Dispatch::Match)]
#[case::push_table(ENDLESS_PUSH, atlas::vm::Dispatch::Table)]
#[case::doubling(
    "var s = \"ab\"; while (true) { s = s + s; }",
    atlas::vm::Dispatch::Match
)]
fn memory_ceiling_stops_unmetered_runs(
    #[case] source: &str,
    #[case] dispatch: atlas::vm::Dispatch,
) {
    use atlas::vm::{run_module, Options};
    let compile = |source: &str| {
        atlas::driver::compile_source(source, atlas::compile::CompileOptions::default())
            .expect("compiles")
    };
    let options = Options {
        dispatch,
        memory_ceiling: Some(1 << 20),
        ..Options::default()
    };
    let error = run_module(compile(source), options, &mut Vec::new()).unwrap_err();
    assert_eq!(error.message, "memory limit of 1048576 bytes reached");
    // Disarmed afterwards: a program holding 4 MiB runs without a ceiling.
    let big = "let xs: number[] = []; for (var i = 0; i < 300000; i++) { push(xs, i); }";
    run_module(compile(big), Options::default(), &mut Vec::new()).expect("no ceiling now");
}

/// 100 MB through `readAll` (issue 13): under `--max-memory` a clean runtime error at the
/// call, quickly; with room for it, the whole text.
#[rstest]
#[case::over_the_limit("50M", 70, "")]
#[case::within_the_limit("400M", 0, "100000000\n")]
fn read_all_of_100_mb(#[case] limit: &str, #[case] code: i32, #[case] stdout: &str) {
    use std::io::Write;
    use std::process::Stdio;
    let dir = std::env::temp_dir().join(format!("atlas-read-all-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("read_all_{limit}.at"));
    std::fs::write(&path, "let text = readAll();\nprint(len(text));\n").unwrap();
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_atlas"))
        .args(["run", "--max-memory", limit])
        .arg(&path)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let chunk = vec![b'a'; 1 << 20];
        for _ in 0..100_000_000 / chunk.len() {
            // The run may stop reading early (the limit): a broken pipe is expected.
            if stdin.write_all(&chunk).is_err() {
                return;
            }
        }
        let _ = stdin.write_all(&chunk[..100_000_000 % chunk.len()]);
    });
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), stdout);
    if code == 70 {
        assert!(
            stderr.contains("memory limit of 52428800 bytes reached"),
            "{stderr}"
        );
        assert!(stderr.contains(":1:12"), "{stderr}");
    }
    assert!(start.elapsed() < Duration::from_secs(20));
}
