//! Issue 15: the embedding API and the command line keep their promises. Each test is a
//! reproducer of a case that failed (a panic, an abort, a silent loss of precision)
//! before the change that made it pass.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use atlas::{Engine, ErrorKind, Limits, OutputBuffer};
use rstest::rstest;

// ---- helpers ------------------------------------------------------------------------------

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atlas-promises-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_program(dir: &Path, source: &str) -> PathBuf {
    let path = dir.join("program.at");
    std::fs::write(&path, source).unwrap();
    path
}

fn atlas() -> Command {
    Command::new(env!("CARGO_BIN_EXE_atlas"))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn engine() -> Engine {
    let mut engine = Engine::new();
    engine.set_output(OutputBuffer::new());
    engine
}

// ---- item 5: a capped source ---------------------------------------

/// `--max-memory` still overrides the default ceiling (and is exact: the metered loop).
#[test]
fn max_memory_overrides_the_default_ceiling() {
    let dir = scratch("override");
    let program = write_program(
        &dir,
        "let xs: number[] = [];\nwhile (true) { push(xs, 1); }\n",
    );
    let output = atlas()
        .args(["run", "--max-memory", "1M"])
        .arg(&program)
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(70), "{err}");
    assert!(
        err.contains("memory limit of 1048576 bytes reached"),
        "{err}"
    );
}

/// A device that never ends is not read without bound: a compile error at the limit.
#[test]
#[cfg(unix)]
fn an_endless_source_is_refused_at_the_size_limit() {
    for command in ["run", "check", "disasm", "profile"] {
        let started = Instant::now();
        let output = atlas().args([command, "/dev/zero"]).output().unwrap();
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(65), "{command}: {err}");
        assert!(
            err.contains("/dev/zero: error: the file is larger than the limit of 64 MiB"),
            "{command}: {err}"
        );
        assert!(started.elapsed() < Duration::from_secs(5), "{command}");
    }
}

// ---- item 7: flags out of range ------------------------------------------------------------

/// A huge timeout is a deadline that never comes (it panicked on overflow: exit 101).
#[rstest]
#[case::huge("1e19")]
#[case::near_duration_max("1.8e19")]
fn a_huge_timeout_never_fires(#[case] timeout: &str) {
    let dir = scratch(&format!("timeout-{timeout}"));
    let program = write_program(&dir, "print(1 + 2);\n");
    let output = atlas()
        .args(["run", "--timeout", timeout])
        .arg(&program)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "3\n");
}

/// Every flag refuses what is not a value of it with exit 64 and a message naming it.
#[rstest]
#[case::negative_timeout(&["run", "--timeout", "-1"])]
#[case::nan_timeout(&["run", "--timeout", "NaN"])]
#[case::infinite_timeout(&["run", "--timeout", "inf"])]
#[case::word_timeout(&["run", "--timeout", "soon"])]
#[case::beyond_any_duration(&["run", "--timeout", "1e300"])]
#[case::negative_memory(&["run", "--max-memory", "-5"])]
#[case::fractional_memory(&["run", "--max-memory", "1.5M"])]
#[case::overflowing_memory(&["run", "--max-memory", "99999999999999G"])]
#[case::negative_instructions(&["run", "--max-instructions", "-1"])]
#[case::float_instructions(&["run", "--max-instructions", "1e6"])]
#[case::negative_frames(&["run", "--max-frames", "-3"])]
#[case::word_stack(&["run", "--max-stack", "lots"])]
#[case::bad_dispatch(&["run", "--dispatch", "fast"])]
#[case::negative_top(&["profile", "--top", "-1"])]
#[case::profile_frames(&["profile", "--max-frames", "x"])]
#[case::bad_weight(&["profile", "--weight", "bytes"])]
fn bad_flag_values_are_usage_errors(#[case] args: &[&str]) {
    let dir = scratch(&format!("flag-{}", args.join("_").replace(['-', '.'], "")));
    let program = write_program(&dir, "print(1);\n");
    let output = atlas().args(args).arg(&program).output().unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(64), "{args:?}: {err}");
    assert!(err.contains(args[1]), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
}

/// Huge stack and frame limits are limits, not allocations.
#[rstest]
#[case::frames("--max-frames")]
#[case::stack("--max-stack")]
fn huge_stack_limits_run(#[case] flag: &str) {
    let dir = scratch(&format!("huge{flag}"));
    let program = write_program(&dir, "print(1);\n");
    let output = atlas()
        .args(["run", flag, &usize::MAX.to_string()])
        .arg(&program)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn a_timeout_of_duration_max_never_fires_in_the_api() {
    let mut engine = engine();
    engine.set_limits(Limits::default().with_timeout(Duration::MAX));
    assert_eq!(engine.eval::<f64>("1 + 2").unwrap(), 3.0);
    engine
        .eval::<()>("fn f(x: number) -> number { return x * 2; }")
        .unwrap();
    assert_eq!(engine.call::<f64>("f", (4,)).unwrap(), 8.0);
}

// ---- item 16: file names that are not UTF-8 ----------------------------------------------------

#[test]
#[cfg(unix)]
fn a_file_name_that_is_not_utf8_runs() {
    use std::os::unix::ffi::OsStrExt;
    let dir = scratch("latin1");
    let path = dir.join(std::ffi::OsStr::from_bytes(b"caf\xe9.at"));
    std::fs::write(&path, "print(\"ok\");\nlet x: number = \"no\";\n").unwrap();
    // A compile error names the file, lossily.
    let output = atlas().arg("run").arg(&path).output().unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(65), "{err}");
    assert!(err.contains("caf\u{FFFD}.at:2:"), "{err}");

    std::fs::write(&path, "print(\"ok\");\n").unwrap();
    for command in ["run", "check", "disasm", "profile"] {
        let output = atlas().arg(command).arg(&path).output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{command}: {}",
            stderr(&output)
        );
    }
    let missing = dir.join(std::ffi::OsStr::from_bytes(b"gone\xff.at"));
    let output = atlas().arg("run").arg(&missing).output().unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(66), "{err}");
    assert!(err.contains("gone\u{FFFD}.at"), "{err}");
}

// ---- item 11: integers and floats that do not fit are refused -----------------------------------

const TWO_53: i64 = 1 << 53;

#[rstest]
#[case::two_53(TWO_53, true)]
#[case::two_53_plus_1(TWO_53 + 1, false)]
#[case::minus_two_53(-TWO_53, true)]
#[case::minus_two_53_minus_1(-TWO_53 - 1, false)]
#[case::i64_max(i64::MAX, false)]
#[case::i64_min(i64::MIN, false)]
#[case::zero(0, true)]
fn i64_into_atlas_is_exact_or_refused(#[case] n: i64, #[case] exact: bool) {
    let mut engine = engine();
    engine
        .eval::<()>("var g = 0; fn id(x: number) -> number { return x; }")
        .unwrap();
    engine.register_fn("give", move || n).unwrap();
    let called = engine.call::<f64>("id", (n,));
    let set = engine.set_global("g", n);
    let returned = engine.eval::<f64>("give()");
    if exact {
        assert_eq!(called.unwrap(), n as f64);
        set.unwrap();
        assert_eq!(returned.unwrap(), n as f64);
    } else {
        let message = called.unwrap_err().message().to_string();
        assert!(
            message.contains(&format!("the integer {n} is too large")),
            "{message}"
        );
        assert_eq!(set.unwrap_err().kind(), ErrorKind::Conversion);
        let error = returned.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Runtime);
        assert!(error.message().contains("too large"), "{error}");
    }
}

#[rstest]
#[case::two_53(1 << 53, true)]
#[case::two_53_plus_1((1 << 53) + 1, false)]
#[case::u64_max(u64::MAX, false)]
fn u64_and_usize_into_atlas_are_exact_or_refused(#[case] n: u64, #[case] exact: bool) {
    let mut engine = engine();
    engine
        .eval::<()>("fn id(x: number) -> number { return x; }")
        .unwrap();
    assert_eq!(engine.call::<f64>("id", (n,)).is_ok(), exact);
    assert_eq!(engine.call::<f64>("id", (n as usize,)).is_ok(), exact);
}

#[rstest]
#[case::two_53("9007199254740992", Some(TWO_53))]
#[case::two_53_plus_2("9007199254740994", Some(TWO_53 + 2))]
#[case::minus_two_53("-9007199254740992", Some(-TWO_53))]
#[case::two_64("18446744073709551616", None)]
#[case::minus_two_63("-9223372036854775808", Some(i64::MIN))]
#[case::fraction("0.5", None)]
#[case::nan("1e308 * 10 - 1e308 * 10", None)]
#[case::infinity("1e308 * 10", None)]
#[case::minus_zero("-0", Some(0))]
fn numbers_into_i64_are_exact_or_refused(#[case] source: &str, #[case] expected: Option<i64>) {
    let mut engine = engine();
    let result = engine.eval::<i64>(source);
    match expected {
        Some(n) => assert_eq!(result.unwrap(), n),
        None => assert_eq!(result.unwrap_err().kind(), ErrorKind::Conversion),
    }
    let as_u64 = engine.eval::<u64>(source);
    match expected {
        Some(n) if n >= 0 => assert_eq!(as_u64.unwrap(), n as u64),
        _ => assert!(as_u64.is_err()),
    }
}

#[rstest]
#[case::overflow("1e300", None)]
#[case::minus_overflow("-1e300", None)]
#[case::just_beyond_f32_max("3.5e38", None)]
#[case::f32_max("3.4028234663852886e38", Some(f32::MAX))]
#[case::rounded("0.1", Some(0.1f32))]
#[case::underflow("1e-300", None)]
#[case::f32_subnormal("1e-40", Some(1e-40f32))]
#[case::infinity("1e308 * 10", Some(f32::INFINITY))]
#[case::minus_zero("-0", Some(-0.0f32))]
fn numbers_into_f32_are_refused_when_out_of_range(
    #[case] source: &str,
    #[case] expected: Option<f32>,
) {
    let mut engine = engine();
    let result = engine.eval::<f32>(source);
    match expected {
        Some(x) => {
            let got = result.unwrap();
            assert_eq!(got.to_bits(), x.to_bits(), "{got} vs {x}");
        }
        None => {
            let error = result.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Conversion);
            assert!(error.message().contains("f32"), "{error}");
        }
    }
}

#[test]
fn nan_and_minus_zero_cross_as_they_are() {
    let mut engine = engine();
    let nan = "1e308 * 10 - 1e308 * 10";
    assert!(engine.eval::<f32>(nan).unwrap().is_nan());
    assert!(engine.eval::<f64>(nan).unwrap().is_nan());
    engine
        .eval::<()>("fn id(x: number) -> number { return x; }")
        .unwrap();
    let minus_zero = (-0.0f64).to_bits();
    assert_eq!(
        engine.call::<f64>("id", (-0.0f64,)).unwrap().to_bits(),
        minus_zero
    );
    assert_eq!(
        engine.call::<f64>("id", (-0.0f32,)).unwrap().to_bits(),
        minus_zero
    );
    let tiny = f64::from_bits(1); // the smallest subnormal
    assert_eq!(engine.call::<f64>("id", (tiny,)).unwrap().to_bits(), 1);
}
