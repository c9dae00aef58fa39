//! Resource limits: each fails with a clear runtime error (never a panic or a hang), and
//! the engine runs other programs afterwards.

use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use atlas::{Engine, ErrorKind, Limits, OutputBuffer};
use rstest::rstest;

const ENDLESS_LOOP: &str = "var i = 0; while (true) { i = i + 1; }";
const ENDLESS_FOR: &str = "for (var i = 0; i >= 0; i++) { }";
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
    let error = engine
        .eval::<f64>("fn down(n: number) -> number { return down(n + 1); } down(0);")
        .unwrap_err();
    assert_eq!(error.message(), "stack overflow");
    assert_eq!(engine.eval::<f64>("10 - 3").unwrap(), 7.0);
}

#[rstest]
#[case::budget(&["--max-instructions", "50000"], "instruction limit of 50000 reached")]
#[case::timeout(&["--timeout", "0.2"], "time limit of 0.2 s reached")]
fn command_line_limits(#[case] flags: &[&str], #[case] message: &str) {
    let dir = std::env::temp_dir().join(format!("atlas-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("endless_{}.at", flags[0].trim_start_matches('-')));
    std::fs::write(&path, format!("print(1);\n{ENDLESS_LOOP}\n")).unwrap();
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
