//! Regression tests for what the `run` fuzz target (fuzz/fuzz_targets/run.rs) found:
//! programs whose optimized and unoptimized builds, or whose dispatch loops, disagreed in
//! a way the corpus format (stderr substrings) cannot pin down, such as the length of a
//! caret line. Every case runs in all four configurations, which must print the same
//! and fail with the same rendered error; some also check that error exactly.

use atlas::vm::Dispatch;
use atlas::{Engine, Limits, OutputBuffer};

/// Output and rendered error of `source` in one configuration.
fn run(source: &str, optimize: bool, dispatch: Dispatch) -> (String, Option<String>) {
    let output = OutputBuffer::new();
    let mut engine = Engine::new();
    engine
        .set_output(output.clone())
        .set_optimize(optimize)
        .set_dispatch(dispatch)
        .set_limits(Limits::default().with_max_frames(64));
    let result = engine
        .compile_named("test.at", source)
        .and_then(|script| engine.run(&script));
    (output.take(), result.err().map(|e| e.render(false)))
}

/// Runs `source` in every configuration; they must agree. Returns the outcome.
fn agree(source: &str) -> (String, Option<String>) {
    let reference = run(source, false, Dispatch::Match);
    for (optimize, dispatch) in [
        (false, Dispatch::Table),
        (true, Dispatch::Match),
        (true, Dispatch::Table),
    ] {
        assert_eq!(
            run(source, optimize, dispatch),
            reference,
            "optimize {optimize}, {dispatch:?} disagrees with the baseline"
        );
    }
    reference
}

/// The optimizer fuses `xs[i][j]` into one `get_index2` instruction with the span of the
/// whole expression: an error of the row access `xs[i]` underlined `xs[i][j]`, where the
/// unoptimized code underlines `xs[i]`.
#[test]
fn nested_index_error_underlines_the_failing_access() {
    let source =
        "fn pair() -> number[][] {\n    return [[1, 2], [3, 4]];\n}\nprint(pair()[2][0]);\n";
    let (output, error) = agree(source);
    assert_eq!(output, "");
    assert_eq!(
        error.as_deref(),
        Some(
            "error: index 2 out of bounds for array of length 2\n \
             --> test.at:4:7\n\
             4 | print(pair()[2][0]);\n  \
             |       ^^^^^^^^^\n  \
             at <script> (test.at:4:7)\n"
        )
    );
    // The column index still underlines the whole expression.
    let (_, error) = agree("let m = [[1, 2]];\nprint(m[0][1.5]);\n");
    let error = error.expect("an error");
    assert!(
        error.contains("2 | print(m[0][1.5]);\n  |       ^^^^^^^^^\n"),
        "{error}"
    );
    // In a function, where the row index is a local.
    let (_, error) = agree(
        "fn get(m: number[][], i: number) -> number {\n    return m[i][0];\n}\nprint(get([[7]], -1));\n",
    );
    let error = error.expect("an error");
    assert!(
        error.contains("2 |     return m[i][0];\n  |            ^^^^\n"),
        "{error}"
    );
}

/// `str` and `print` of an array whose rows are shared many times build text far
/// larger than the values: 8 MB of arrays print as 490 MB. Under a memory limit the
/// printer stops where the text would pass it (the meter's check after the instruction
/// came after the 490 MB were built).
#[test]
fn printing_shared_rows_respects_the_memory_limit() {
    let source = "var row: number[] = [];\n\
                  for (var i = 0; i < 1000; i++) { push(row, i); }\n\
                  var grid: number[][] = [];\n\
                  for (var i = 0; i < 1000; i++) { push(grid, row); }\n\
                  var cube: number[][][] = [];\n\
                  for (var i = 0; i < 100; i++) { push(cube, grid); }\n\
                  print(len(str(cube)));\n";
    for optimize in [false, true] {
        let output = OutputBuffer::new();
        let mut engine = Engine::new();
        engine
            .set_output(output.clone())
            .set_optimize(optimize)
            .set_limits(Limits::default().with_max_memory(8 << 20));
        let error = engine.eval::<()>(source).expect_err("over the limit");
        assert_eq!(error.message(), "memory limit of 8388608 bytes reached");
        assert_eq!(
            error.location().expect("a location").to_string(),
            "<source>:7:11"
        );
    }
}

/// Hundreds of nested unary operators (`- - - 7`, `!!!b`) or a right-nested chain with
/// a literal on the left (`1 - (1 - (...))`) took a register per level in the
/// unoptimized build, which failed with "too many registers" where the optimizer folded
/// the chain to a constant and ran it. The program is the corpus case's.
#[test]
fn deep_operator_chains_compile_in_every_configuration() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/arith/deep_operator_chains.at"
    );
    let source = std::fs::read_to_string(path).expect("the corpus program");
    let (output, error) = agree(&source);
    assert_eq!(error, None);
    let expected = std::fs::read_to_string(path.replace(".at", ".out")).expect("its output");
    assert_eq!(output, expected);
}
