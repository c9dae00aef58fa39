//! End-to-end tests: every program of `tests/corpus/**/*.at` and `examples/*.at` is run by
//! the real `atlas` binary and its output compared with the expectation files beside it.
//!
//! For `NAME.at`:
//! - `NAME.out` holds the exact expected standard output (required for a program that
//!   succeeds; optional for one that fails, where it is what was printed before a runtime
//!   error, and stdout must be empty when it is absent).
//! - `NAME.err` marks a failing program. Its first line is `exit N` (65 for a compile
//!   error, 70 for a runtime error); every following non-empty line is a substring that
//!   must occur in standard error, in that order (each match starts after the previous
//!   one ends).
//! - Without `NAME.err` the program must exit with 0.
//! - `NAME.in`, if present, is its standard input (otherwise that is empty), and
//!   `NAME.args` its arguments after the file name, one per line.
//!
//! `atlas check` of every program must refuse what `run` refuses at compile time, with the
//! same diagnostics, and accept every other program.
//!
//! Standard error must never contain `panicked`. Every run has a 20 s timeout. The binary
//! runs with `NO_COLOR=1`, from the crate root, on the path relative to it.
//!
//! A third test checks that the two dispatch backends agree: for every corpus program,
//! `atlas run --dispatch match` and `atlas run --dispatch table` give the same stdout,
//! stderr and exit code. A last one checks the command line itself (exit codes 64 and 66,
//! the `.atl` and `.atlas` extensions), which the corpus format cannot express.
//!
//! rstest expands the `#[files]` globs at compile time: after adding a program, touch this
//! file (or rebuild the test) so that it becomes a test case.

use rstest::rstest;
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(20);

/// What one run of the binary produced.
struct Outcome {
    stdout: Vec<u8>,
    stderr: String,
    /// `None` when the process was killed by a signal.
    code: Option<i32>,
}

/// The path as given to the binary: relative to the crate root when possible, so that
/// diagnostics read `tests/corpus/...`.
fn display_path(path: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

/// Runs `atlas <args...> <path>` with a timeout; panics (fails the test) on timeout.
fn run_atlas(args: &[&str], path: &Path) -> Outcome {
    let rel = display_path(path);
    let mut all: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    all.push(rel.as_os_str());
    run_raw(&all)
}

/// Runs `atlas <args...>` from the crate root with a timeout; panics on timeout.
fn run_raw(args: &[&std::ffi::OsStr]) -> Outcome {
    run_raw_with(args, None)
}

/// `run_raw` with `input` on standard input (none: it is empty).
fn run_raw_with(args: &[&std::ffi::OsStr], input: Option<Vec<u8>>) -> Outcome {
    let shown = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = Command::new(env!("CARGO_BIN_EXE_atlas"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", env!("CARGO_BIN_EXE_atlas")));

    // Feed standard input and drain both pipes on their own threads so that a chatty
    // program cannot block on a full pipe.
    if let (Some(input), Some(mut pipe)) = (input, child.stdin.take()) {
        thread::spawn(move || {
            use std::io::Write as _;
            let _ = pipe.write_all(&input);
        });
    }
    let mut out_pipe = child.stdout.take().expect("stdout is piped");
    let mut err_pipe = child.stderr.take().expect("stderr is piped");
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });

    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() >= TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "timeout: `atlas {shown}` still running after {} s (killed)",
                    TIMEOUT.as_secs()
                );
            }
            Ok(None) => thread::sleep(Duration::from_millis(5)),
            Err(e) => panic!("waiting for atlas failed: {e}"),
        }
    };
    let stdout = out_reader.join().expect("stdout reader");
    let stderr = err_reader.join().expect("stderr reader");
    Outcome {
        stdout,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        code: status.code(),
    }
}

/// The expectation files of one program.
struct Expected {
    stdout: Option<Vec<u8>>,
    /// `Some((exit code, ordered stderr substrings))` for a program that must fail.
    failure: Option<(i32, Vec<String>)>,
}

fn load_expected(path: &Path) -> Expected {
    let out_path = path.with_extension("out");
    let err_path = path.with_extension("err");
    let stdout = std::fs::read(&out_path).ok();
    let failure = std::fs::read_to_string(&err_path).ok().map(|text| {
        let mut lines = text.lines();
        let first = lines.next().unwrap_or_default().trim();
        let code = first
            .strip_prefix("exit ")
            .and_then(|c| c.trim().parse::<i32>().ok())
            .unwrap_or_else(|| {
                panic!(
                    "{}: first line must be `exit N`, found {first:?}",
                    err_path.display()
                )
            });
        let needles = lines
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect();
        (code, needles)
    });
    Expected { stdout, failure }
}

/// Renders bytes for a message: lossy UTF-8, with control characters other than newline
/// made visible so that a stray `\r` or NUL shows up.
fn visible(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut s = String::new();
    for c in text.chars() {
        match c {
            '\n' => s.push('\n'),
            '\t' => s.push_str("\\t"),
            '\r' => s.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(s, "\\u{{{:x}}}", c as u32);
            }
            c => s.push(c),
        }
    }
    s
}

/// A line-by-line comparison of expected and actual text, marking differing lines.
fn diff(expected: &[u8], actual: &[u8]) -> String {
    let exp = visible(expected);
    let act = visible(actual);
    let el: Vec<&str> = exp.split_inclusive('\n').collect();
    let al: Vec<&str> = act.split_inclusive('\n').collect();
    let first = el
        .iter()
        .zip(al.iter())
        .position(|(a, b)| a != b)
        .unwrap_or(el.len().min(al.len()));
    let mut s = String::new();
    let _ = writeln!(
        s,
        "first difference at line {} (expected {} lines, got {})",
        first + 1,
        el.len(),
        al.len()
    );
    let from = first.saturating_sub(3);
    let to = (first + 12).min(el.len().max(al.len()));
    for i in from..to {
        let e = el.get(i).copied();
        let a = al.get(i).copied();
        let show = |t: Option<&str>| match t {
            Some(t) if t.ends_with('\n') => t.trim_end_matches('\n').to_string(),
            Some(t) => format!("{t}⏎(no newline at end)"),
            None => "<missing>".to_string(),
        };
        if e == a {
            let _ = writeln!(s, "  {:>4} | {}", i + 1, show(e));
        } else {
            let _ = writeln!(s, "- {:>4} | {}", i + 1, show(e));
            let _ = writeln!(s, "+ {:>4} | {}", i + 1, show(a));
        }
    }
    if to < el.len().max(al.len()) {
        let _ = writeln!(s, "  ...");
    }
    s
}

/// Runs one program and checks it against its expectation files.
fn check_program(path: &Path) {
    let rel = display_path(path);
    let expected = load_expected(path);
    // `NAME.in`: standard input; `NAME.args`: the script's arguments, one per line.
    let input = std::fs::read(path.with_extension("in")).ok();
    let words = std::fs::read_to_string(path.with_extension("args")).unwrap_or_default();
    let rel_path = display_path(path);
    let mut command = vec![std::ffi::OsStr::new("run"), rel_path.as_os_str()];
    command.extend(words.lines().map(std::ffi::OsStr::new));
    let got = run_raw_with(&command, input);
    let mut problems: Vec<String> = Vec::new();

    if got.stderr.contains("panicked") {
        problems.push("stderr contains `panicked`: the implementation panicked".to_string());
    }

    match &expected.failure {
        None => {
            if got.code != Some(0) {
                problems.push(format!("exit code: expected 0, got {:?}", got.code));
            }
            match &expected.stdout {
                None => problems.push(format!(
                    "{} is missing: a program without .err must have a .out",
                    path.with_extension("out").display()
                )),
                Some(want) if *want != got.stdout => {
                    problems.push(format!("stdout differs:\n{}", diff(want, &got.stdout)));
                }
                Some(_) => {}
            }
        }
        Some((code, needles)) => {
            if got.code != Some(*code) {
                problems.push(format!("exit code: expected {code}, got {:?}", got.code));
            }
            let want: &[u8] = expected.stdout.as_deref().unwrap_or(b"");
            if want != got.stdout.as_slice() {
                problems.push(format!("stdout differs:\n{}", diff(want, &got.stdout)));
            }
            let mut at = 0;
            for needle in needles {
                match got.stderr[at..].find(needle.as_str()) {
                    Some(i) => at += i + needle.len(),
                    None => {
                        let seen = got.stderr[..at].contains(needle.as_str());
                        problems.push(format!(
                            "stderr lacks {needle:?}{} (after byte {at})",
                            if seen {
                                " in order (it occurs earlier)"
                            } else {
                                ""
                            }
                        ));
                        break;
                    }
                }
            }
        }
    }

    // `atlas check` refuses exactly what `run` refuses before running, with the same
    // diagnostics, and accepts the rest (a runtime error is not its business).
    let checked = run_atlas(&["check"], path);
    match &expected.failure {
        Some((65, _)) => {
            if checked.code != Some(65) || checked.stderr != got.stderr {
                problems.push(format!(
                    "`atlas check` differs from `run`: exit {:?}, stderr:\n{}",
                    checked.code, checked.stderr
                ));
            }
        }
        _ => {
            if checked.code != Some(0) || !checked.stdout.is_empty() {
                problems.push(format!(
                    "`atlas check` of a program that compiles: exit {:?}, stderr:\n{}",
                    checked.code, checked.stderr
                ));
            }
        }
    }

    if !problems.is_empty() {
        let mut msg = format!("\n=== {} ===\n", rel.display());
        for p in &problems {
            let _ = writeln!(msg, "* {p}");
        }
        let _ = writeln!(msg, "--- actual stdout ---\n{}", visible(&got.stdout));
        let mut stderr = got.stderr.clone();
        if stderr.len() > 4000 {
            let mut cut = 4000;
            while !stderr.is_char_boundary(cut) {
                cut -= 1;
            }
            stderr.truncate(cut);
            stderr.push_str("\n...(truncated)");
        }
        let _ = writeln!(msg, "--- actual stderr ---\n{stderr}");
        if let Some((code, needles)) = &expected.failure {
            let _ = writeln!(
                msg,
                "--- expected: exit {code}, stderr substrings in order ---"
            );
            for n in needles {
                let _ = writeln!(msg, "{n}");
            }
        }
        panic!("{msg}");
    }
}

#[rstest]
fn corpus(#[files("tests/corpus/**/*.at")] path: PathBuf) {
    check_program(&path);
}

#[rstest]
fn examples(#[files("examples/*.at")] path: PathBuf) {
    check_program(&path);
}

/// The `match` and the table-driven dispatch backends must behave identically.
#[rstest]
fn dispatch_backends_agree(#[files("tests/corpus/**/*.at")] path: PathBuf) {
    let by_match = run_atlas(&["run", "--dispatch", "match"], &path);
    let by_table = run_atlas(&["run", "--dispatch", "table"], &path);
    let rel = display_path(&path);
    let mut problems = Vec::new();
    if by_match.code != by_table.code {
        problems.push(format!(
            "exit code: match {:?}, table {:?}",
            by_match.code, by_table.code
        ));
    }
    if by_match.stdout != by_table.stdout {
        problems.push(format!(
            "stdout differs (- match, + table):\n{}",
            diff(&by_match.stdout, &by_table.stdout)
        ));
    }
    if by_match.stderr != by_table.stderr {
        problems.push(format!(
            "stderr differs (- match, + table):\n{}",
            diff(by_match.stderr.as_bytes(), by_table.stderr.as_bytes())
        ));
    }
    for (name, o) in [("match", &by_match), ("table", &by_table)] {
        if o.stderr.contains("panicked") {
            problems.push(format!("--dispatch {name}: stderr contains `panicked`"));
        }
    }
    assert!(
        problems.is_empty(),
        "\n=== {} (--dispatch match vs table) ===\n{}",
        rel.display(),
        problems.join("\n")
    );
}

/// Exit codes of the command line (LANGUAGE.md, "Running and diagnostics") and the
/// accepted file extensions.
#[test]
fn command_line() {
    use std::ffi::OsStr;
    let os = |s: &'static str| OsStr::new(s);

    let missing = run_raw(&[os("run"), os("tests/corpus/no_such_program.at")]);
    assert_eq!(
        missing.code,
        Some(66),
        "unreadable file: {}",
        missing.stderr
    );
    assert!(missing.stdout.is_empty());
    assert!(!missing.stderr.contains("panicked"), "{}", missing.stderr);

    for args in [
        &[][..],
        &[os("run")][..],
        &[os("no-such-command"), os("x.at")][..],
    ] {
        let o = run_raw(args);
        assert_eq!(o.code, Some(64), "bad usage {args:?}: {}", o.stderr);
    }

    let dir = std::env::temp_dir().join(format!("atlas-corpus-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for ext in ["atl", "atlas"] {
        let file = dir.join(format!("ext.{ext}"));
        std::fs::write(&file, "print(\"ok \" + str(1 + 1));\n").expect("write temp program");
        let o = run_raw(&[os("run"), file.as_os_str()]);
        assert_eq!(o.code, Some(0), ".{ext}: {}", o.stderr);
        assert_eq!(String::from_utf8_lossy(&o.stdout), "ok 2\n", ".{ext}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `atlas run --seed N`: the same seed gives the same `random()` numbers, another seed
/// others (LANGUAGE.md version 2); a seed that is not a 64-bit unsigned integer is bad usage.
#[test]
fn seed_makes_random_repeatable() {
    use std::ffi::OsStr;
    let dir = std::env::temp_dir().join(format!("atlas-corpus-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("seeded.at");
    std::fs::write(&file, "print(random());\nprint(random());\n").expect("write program");
    let run = |seed: &str| {
        run_raw(&[
            OsStr::new("run"),
            OsStr::new("--seed"),
            OsStr::new(seed),
            file.as_os_str(),
        ])
    };
    let (a, b, c) = (run("7"), run("7"), run("8"));
    assert_eq!(a.code, Some(0), "{}", a.stderr);
    assert_eq!(a.stdout, b.stdout);
    assert_ne!(a.stdout, c.stdout);
    let numbers: Vec<f64> = String::from_utf8_lossy(&a.stdout)
        .lines()
        .map(|l| l.parse().expect("a number"))
        .collect();
    assert_eq!(numbers.len(), 2);
    assert_ne!(numbers[0], numbers[1]);
    for bad in ["-1", "1.5", "x", "18446744073709551616"] {
        assert_eq!(run(bad).code, Some(64), "--seed {bad}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
