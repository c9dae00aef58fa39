//! Bad input gets a clear error within seconds, never a panic or a host stack overflow.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rstest::rstest;

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

fn scratch_file(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atlas-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(contents))
        .expect("write scratch file");
    path
}

fn run(name: &str, contents: &[u8]) -> Outcome {
    let path = scratch_file(name, contents);
    let start = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_atlas"))
        .arg("run")
        .arg(&path)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("atlas runs");
    let _ = std::fs::remove_file(&path);
    Outcome {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

fn nested(open: &str, inner: &str, close: &str, depth: usize) -> Vec<u8> {
    format!("{}{inner}{}", open.repeat(depth), close.repeat(depth)).into_bytes()
}

#[rstest]
#[case::invalid_utf8("bad_utf8.at", b"print(\"\xff\xfe\");\n".to_vec(), 65, "not valid UTF-8")]
#[case::unterminated_string("unterminated.at", b"print(\"abc);\n".to_vec(), 65, "unterminated string")]
#[case::unterminated_comment("comment.at", b"/* never closed\nprint(1);\n".to_vec(), 65, "unterminated block comment")]
#[case::nested_parentheses(
    "parens.at",
    nested("print(", "1", ")", 100_000),
    65,
    "nesting too deep"
)]
#[case::nested_blocks("blocks.at", nested("{", "", "}", 100_000), 65, "nesting too deep")]
#[case::nested_negations("neg.at", format!("print({}1);", "-".repeat(100_000)).into_bytes(), 65, "nesting too deep")]
#[case::nested_arrays("arrays.at", nested("[", "1", "]", 100_000), 65, "nesting too deep")]
#[case::recursion_a_million_deep(
    "recursion.at",
    b"fn f(n: number) -> number { if (n == 0) { return 0; } return 1 + f(n - 1); }\nprint(f(1000000));\n".to_vec(),
    70,
    "stack overflow"
)]
#[case::endless_recursion(
    "endless.at",
    b"fn f(n: number) -> number { return f(n + 1); }\nprint(f(0));\n".to_vec(),
    70,
    "at f ("
)]
#[case::huge_literal("huge.at", format!("print({});", "9".repeat(5000)).into_bytes(), 0, "")]
fn bad_input_fails_cleanly(
    #[case] name: &str,
    #[case] source: Vec<u8>,
    #[case] code: i32,
    #[case] message: &str,
) {
    let outcome = run(name, &source);
    assert_eq!(outcome.code, code, "stderr: {}", outcome.stderr);
    assert!(
        outcome.stderr.contains(message),
        "stderr: {}",
        outcome.stderr
    );
    assert!(
        !outcome.stderr.contains("panicked"),
        "stderr: {}",
        outcome.stderr
    );
    assert!(
        outcome.elapsed < Duration::from_secs(10),
        "took {:?}",
        outcome.elapsed
    );
}

#[test]
fn ten_megabyte_source_runs() {
    let mut source = String::from("var x = 0;\n");
    while source.len() < 10 << 20 {
        source.push_str("x = x + 1; // padding to make the file large\n");
    }
    source.push_str("print(x > 0);\n");
    let outcome = run("large.at", source.as_bytes());
    assert_eq!(outcome.code, 0, "stderr: {}", outcome.stderr);
    assert_eq!(outcome.stdout, "true\n");
    assert!(
        outcome.elapsed < Duration::from_secs(20),
        "took {:?}",
        outcome.elapsed
    );
}

#[test]
fn recursion_depth_limit_is_configurable() {
    let source = b"fn f(n: number) -> number { if (n == 0) { return 0; } return 1 + f(n - 1); }\nprint(f(500));\n";
    let path = scratch_file("limit.at", source);
    let output = Command::new(env!("CARGO_BIN_EXE_atlas"))
        .args(["run", "--max-frames", "100"])
        .arg(&path)
        .output()
        .expect("atlas runs");
    assert_eq!(output.status.code(), Some(70));
    assert!(String::from_utf8_lossy(&output.stderr).contains("stack overflow"));
}

#[rstest]
#[case::no_frames_at_all("0")]
#[case::only_the_script("1")]
fn tiny_frame_limits_are_runtime_errors(#[case] frames: &str) {
    let source = b"fn f() -> number { return 1; }\nprint(f());\n";
    let path = scratch_file(&format!("tiny_{frames}.at"), source);
    let output = Command::new(env!("CARGO_BIN_EXE_atlas"))
        .args(["run", "--max-frames", frames])
        .arg(&path)
        .output()
        .expect("atlas runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(70), "{stderr}");
    assert!(stderr.contains("stack overflow"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn missing_file_is_66_and_bad_usage_is_64() {
    let missing = Command::new(env!("CARGO_BIN_EXE_atlas"))
        .args(["run", "/nonexistent/program.at"])
        .output()
        .expect("atlas runs");
    assert_eq!(missing.status.code(), Some(66));
    let usage = Command::new(env!("CARGO_BIN_EXE_atlas"))
        .args(["frobnicate"])
        .output()
        .expect("atlas runs");
    assert_eq!(usage.status.code(), Some(64));
    let help = Command::new(env!("CARGO_BIN_EXE_atlas"))
        .args(["--help"])
        .output()
        .expect("atlas runs");
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    for command in ["run", "check", "disasm"] {
        assert!(text.contains(command), "{text}");
    }
}
