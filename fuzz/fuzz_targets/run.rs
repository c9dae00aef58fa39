//! `run`: arbitrary source through `atlas::Engine`, compiled with and without the
//! optimizer and run on every dispatch loop, with tight limits.
//!
//! For each optimization setting the program first runs with an instruction budget, a
//! memory limit and a time limit (the metered loop). When it ends within the budget it runs again without one, on the
//! `match` loop and on the threaded table: all three must print the same output and end
//! with the same error (message, location and trace). Then the two optimization settings
//! must agree the same way; when one of them ran out of budget, memory or time (the
//! optimizer changes all three), what it printed must be the start of what the other
//! printed. Compile errors must agree too, and no error
//! may be an internal one.
//!
//! Programs that call `clock` are skipped: their output differs from run to run.

#![no_main]

use atlas::vm::Dispatch;
use atlas::{Engine, Error, Limits, OutputBuffer};
use libfuzzer_sys::fuzz_target;

/// Instructions a metered run may execute.
const BUDGET: u64 = 100_000;
/// Bytes of strings and arrays a metered run may hold. Small: one instruction can copy
/// that much (`s + s`), and the budget counts instructions, not their cost.
const MAX_MEMORY: usize = 1 << 20;
/// Wall-clock limit of a metered run, for programs whose instructions each copy much
/// (the VM reads the clock every 4096 instructions and after every megabyte built).
/// Outcomes that hit it are not compared, like those that run out of budget.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);
/// Call depth limit.
const MAX_FRAMES: usize = 64;
/// Value stack limit: enough for MAX_FRAMES frames of 256 registers, so that calls run
/// out of frames, never of stack, and both optimization settings fail alike.
const MAX_STACK: usize = MAX_FRAMES * 256 + 256;

/// What one run printed and how it ended.
#[derive(Debug, PartialEq)]
struct Outcome {
    output: String,
    /// The rendered error (compile or runtime), if any.
    error: Option<String>,
    /// Whether the run ran out of its instruction budget, memory or time.
    out_of_budget: bool,
}

fn limits(metered: bool) -> Limits {
    let limits = Limits::default()
        .with_max_frames(MAX_FRAMES)
        .with_max_stack(MAX_STACK);
    if metered {
        limits
            .with_max_instructions(BUDGET)
            .with_max_memory(MAX_MEMORY)
            .with_timeout(TIMEOUT)
    } else {
        limits
    }
}

fn outcome(output: &OutputBuffer, result: Result<(), Error>) -> Outcome {
    let error = result.err();
    if let Some(error) = &error {
        assert!(
            !error.message().starts_with("internal error"),
            "internal error: {}",
            error.render(false)
        );
    }
    Outcome {
        output: output.take(),
        out_of_budget: error.as_ref().is_some_and(|e| {
            ["instruction limit of", "memory limit of", "time limit of"]
                .iter()
                .any(|limit| e.message().starts_with(limit))
        }),
        error: error.map(|e| e.render(false)),
    }
}

/// Compiles `source` with `optimize` and runs it metered, then (when that ends within the
/// budget) unmetered on both loops; returns the metered outcome.
fn run_all(source: &str, optimize: bool) -> Outcome {
    let output = OutputBuffer::new();
    let mut engine = Engine::new();
    engine.set_output(output.clone()).set_optimize(optimize);
    let script = match engine.compile_named("fuzz.at", source) {
        Ok(script) => script,
        Err(error) => return outcome(&output, Err(error)),
    };
    engine.set_limits(limits(true));
    let metered = outcome(&output, engine.run(&script));
    if metered.out_of_budget {
        return metered;
    }
    engine.set_limits(limits(false));
    for dispatch in [Dispatch::Match, Dispatch::Table] {
        engine.set_dispatch(dispatch);
        let unmetered = outcome(&output, engine.run(&script));
        assert_eq!(
            metered, unmetered,
            "optimize {optimize}: the metered run and the {dispatch:?} loop disagree"
        );
    }
    metered
}

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    if source.contains("clock") {
        return;
    }
    let baseline = run_all(source, false);
    let optimized = run_all(source, true);
    match (baseline.out_of_budget, optimized.out_of_budget) {
        (false, false) => assert_eq!(
            baseline, optimized,
            "the optimized and the unoptimized program disagree"
        ),
        (true, false) => assert!(
            optimized.output.starts_with(&baseline.output),
            "the unoptimized program ran out of budget after printing what the optimized one did not:\n{baseline:?}\n{optimized:?}"
        ),
        (false, true) => assert!(
            baseline.output.starts_with(&optimized.output),
            "the optimized program ran out of budget after printing what the unoptimized one did not:\n{baseline:?}\n{optimized:?}"
        ),
        (true, true) => {
            let shorter = baseline.output.len().min(optimized.output.len());
            assert_eq!(
                baseline.output.as_bytes()[..shorter],
                optimized.output.as_bytes()[..shorter],
                "the optimized and the unoptimized program print different things"
            );
        }
    }
});
