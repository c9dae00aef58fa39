//! Adversarial input: the real `atlas` binary on hostile programs. Every case must end
//! within [`TIMEOUT`] (the child is killed otherwise, and the case fails) with the expected
//! exit code (0 ok, 64 usage, 65 compile error, 66 unreadable, 70 runtime error), the
//! expected output, and never a panic: `panicked` in stderr, exit 101 or death by a signal
//! fail the case. Diagnostics must stay small too: stderr above [`MAX_STDERR`] bytes
//! fails (a hostile file must not turn into gigabytes of error output).
//!
//! Three kinds of cases (tests/adversarial/README.md has the details):
//! - files: `tests/adversarial/NAME.at`, with the expectation in a header of `// key:
//!   value` comment lines (one test per file, `file_case::...`);
//! - families: one-line programs from a template, in rstest tables (`invalid_escape`,
//!   `bad_index`, `bad_command_line`);
//! - generated: multi-megabyte or deeply nested inputs built here from a recipe, written
//!   to a temporary directory and deleted afterwards (`generated::...`; never committed).
//!
//! Each case prints `adversarial NAME: exit N in T ms` (shown with `--nocapture`).
//! rstest expands the `#[files]` glob at compile time: after adding a file, touch this
//! runner so that it becomes a test.

use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rstest::rstest;

/// Longest any case may run before it is killed (debug builds of the binary are slower).
const TIMEOUT: Duration = Duration::from_secs(if cfg!(debug_assertions) { 60 } else { 10 });
/// Most stderr a case may write, unless it says otherwise.
const MAX_STDERR: u64 = 64 << 10;
/// Bytes of stdout and stderr kept for the checks (the rest is only counted).
const KEEP: usize = 1 << 20;

// ---------------------------------------------------------------------------------------
// Running one case

/// What the binary did.
struct Outcome {
    /// `None` when killed by a signal.
    code: Option<i32>,
    /// The first [`KEEP`] bytes, and the total.
    stdout: Vec<u8>,
    stdout_len: u64,
    stderr: String,
    stderr_len: u64,
    elapsed: Duration,
    timed_out: bool,
}

/// Reads a pipe to its end, keeping the first [`KEEP`] bytes and counting all.
fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<(Vec<u8>, u64)> {
    thread::spawn(move || {
        let mut kept = Vec::new();
        let mut total = 0u64;
        let mut buf = vec![0u8; 64 << 10];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    total += n as u64;
                    let room = KEEP.saturating_sub(kept.len()).min(n);
                    kept.extend_from_slice(&buf[..room]);
                }
            }
        }
        (kept, total)
    })
}

/// Runs `atlas <args...>` from the crate root, killing it after [`TIMEOUT`].
fn run_atlas(args: &[&std::ffi::OsStr]) -> Outcome {
    let mut child = Command::new(env!("CARGO_BIN_EXE_atlas"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("atlas starts");
    let out = drain(child.stdout.take().expect("piped stdout"));
    let err = drain(child.stderr.take().expect("piped stderr"));
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        match child.try_wait().expect("waiting for atlas") {
            Some(status) => break status,
            None if start.elapsed() >= TIMEOUT => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().expect("waiting for the killed atlas");
            }
            None => thread::sleep(Duration::from_millis(2)),
        }
    };
    let elapsed = start.elapsed();
    let (stdout, stdout_len) = out.join().expect("stdout reader");
    let (stderr, stderr_len) = err.join().expect("stderr reader");
    Outcome {
        code: status.code(),
        stdout,
        stdout_len,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        stderr_len,
        elapsed,
        timed_out,
    }
}

/// What a case must produce.
#[derive(Debug, Clone)]
struct Expect {
    exit: i32,
    stdout: Stdout,
    /// Substrings of stderr, in this order.
    stderr: Vec<String>,
    max_stderr: u64,
    /// Flags between `run` and the file.
    args: Vec<String>,
}

#[derive(Debug, Clone)]
enum Stdout {
    /// Exactly these bytes (empty for none).
    Exact(Vec<u8>),
    /// This many bytes, starting with these.
    Size(u64, &'static str),
}

impl Expect {
    fn exit(code: i32) -> Expect {
        Expect {
            exit: code,
            stdout: Stdout::Exact(Vec::new()),
            stderr: Vec::new(),
            max_stderr: MAX_STDERR,
            args: Vec::new(),
        }
    }

    /// Exit 0 and exactly this stdout.
    fn ok(stdout: &str) -> Expect {
        Expect::exit(0).stdout(stdout)
    }

    /// Exit 65 with these stderr substrings.
    fn compile_error(needles: &[&str]) -> Expect {
        Expect::exit(65).stderr(needles)
    }

    /// Exit 70 with these stderr substrings.
    fn runtime_error(needles: &[&str]) -> Expect {
        Expect::exit(70).stderr(needles)
    }

    fn stdout(mut self, text: &str) -> Expect {
        self.stdout = Stdout::Exact(text.as_bytes().to_vec());
        self
    }

    fn stdout_size(mut self, bytes: u64, starts_with: &'static str) -> Expect {
        self.stdout = Stdout::Size(bytes, starts_with);
        self
    }

    fn stderr(mut self, needles: &[&str]) -> Expect {
        self.stderr = needles.iter().map(|s| s.to_string()).collect();
        self
    }

    fn max_stderr(mut self, bytes: u64) -> Expect {
        self.max_stderr = bytes;
        self
    }

    fn args(mut self, args: &[&str]) -> Expect {
        self.args = args.iter().map(|s| s.to_string()).collect();
        self
    }
}

/// Control characters made visible, for messages.
fn visible(bytes: &[u8]) -> String {
    let mut s = String::new();
    for c in String::from_utf8_lossy(bytes).chars() {
        match c {
            '\n' => s.push('\n'),
            c if c.is_control() => {
                let _ = write!(s, "\\u{{{:x}}}", c as u32);
            }
            c => s.push(c),
        }
    }
    s
}

/// Cuts `text` to about `max` bytes for a message.
fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}...({} bytes in all)", &text[..cut], text.len())
}

/// Runs `atlas run <args> <file>` and returns every way the outcome misses `expect`.
fn check(name: &str, file: &Path, expect: &Expect) -> Vec<String> {
    let mut args: Vec<&std::ffi::OsStr> = vec!["run".as_ref()];
    args.extend(expect.args.iter().map(|a| std::ffi::OsStr::new(a.as_str())));
    args.push(file.as_os_str());
    let got = run_atlas(&args);
    println!(
        "adversarial {name}: exit {} in {} ms",
        got.code
            .map_or("by a signal".to_string(), |c| c.to_string()),
        got.elapsed.as_millis()
    );

    let mut problems = Vec::new();
    if got.timed_out {
        problems.push(format!("still running after {TIMEOUT:?}: killed"));
    }
    match got.code {
        None => problems.push("killed by a signal (a crash)".to_string()),
        Some(101) => problems.push("exit 101: a panic".to_string()),
        Some(code) if code != expect.exit => {
            problems.push(format!("exit code {code}, expected {}", expect.exit))
        }
        Some(_) => {}
    }
    if got.stderr.contains("panicked") {
        problems.push("stderr contains `panicked`".to_string());
    }
    match &expect.stdout {
        Stdout::Exact(want) => {
            if *want != got.stdout || got.stdout_len != want.len() as u64 {
                problems.push(format!(
                    "stdout differs: expected\n{}\n--- got ({} bytes) ---\n{}",
                    visible(want),
                    got.stdout_len,
                    clip(&visible(&got.stdout), 2000)
                ));
            }
        }
        Stdout::Size(bytes, prefix) => {
            if got.stdout_len != *bytes || !got.stdout.starts_with(prefix.as_bytes()) {
                problems.push(format!(
                    "stdout: expected {bytes} bytes starting with {prefix:?}, got {} bytes starting with {:?}",
                    got.stdout_len,
                    clip(&visible(&got.stdout), 80)
                ));
            }
        }
    }
    let mut at = 0;
    for needle in &expect.stderr {
        match got.stderr[at..].find(needle.as_str()) {
            Some(i) => at += i + needle.len(),
            None => {
                problems.push(format!("stderr lacks {needle:?} (in order)"));
                break;
            }
        }
    }
    if got.stderr_len > expect.max_stderr {
        problems.push(format!(
            "stderr has {} bytes, more than {}",
            got.stderr_len, expect.max_stderr
        ));
    }
    if !problems.is_empty() {
        problems.push(format!(
            "--- stderr ({} bytes) ---\n{}",
            got.stderr_len,
            clip(&got.stderr, 3000)
        ));
    }
    problems
}

fn assert_case(name: &str, file: &Path, expect: &Expect) {
    let problems = check(name, file, expect);
    assert!(
        problems.is_empty(),
        "\n=== adversarial case {name} ({}) ===\n{}",
        file.display(),
        problems.join("\n")
    );
}

/// Writes a generated source to the scratch directory, runs it, deletes it.
fn assert_generated(name: &str, source: &[u8], expect: &Expect) {
    let dir = std::env::temp_dir().join(format!("atlas-adversarial-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    // Unique per run, so that cases running in parallel never share a file.
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let file: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(format!("{file}_{n}.at"));
    std::fs::write(&path, source).expect("write the generated case");
    let problems = check(name, &path, expect);
    let _ = std::fs::remove_file(&path);
    assert!(
        problems.is_empty(),
        "\n=== adversarial case {name} (generated, {} bytes) ===\n{}",
        source.len(),
        problems.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// Files: tests/adversarial/NAME.at with a `// key: value` header

/// Reads the header of a case file: the `//` lines at its top (after a byte order mark;
/// lines end at LF, CRLF or CR). Keys: `exit:` (required), `stdout:` (one per line of
/// expected output; none means no output), `stderr:` (substrings in order), `args:`
/// (flags for `atlas run`), `max-stderr:` (bytes); other comment lines describe the case.
fn parse_header(path: &Path, bytes: &[u8]) -> Expect {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let text = String::from_utf8_lossy(bytes)
        .replace("\r\n", "\n")
        .replace('\r', "\n");
    let mut exit = None;
    let mut stdout = String::new();
    let mut expect = Expect::exit(0);
    for line in text.lines() {
        let Some(comment) = line.strip_prefix("//") else {
            break;
        };
        let comment = comment.strip_prefix(' ').unwrap_or(comment);
        let Some((key, value)) = comment.split_once(':') else {
            continue;
        };
        let value = value.strip_prefix(' ').unwrap_or(value);
        match key {
            "exit" => exit = Some(value.trim().parse::<i32>().expect("// exit: N")),
            "stdout" => {
                stdout.push_str(value);
                stdout.push('\n');
            }
            "stderr" => expect.stderr.push(value.to_string()),
            "args" => expect.args = value.split_whitespace().map(str::to_string).collect(),
            "max-stderr" => expect.max_stderr = value.trim().parse().expect("// max-stderr: N"),
            _ => {}
        }
    }
    expect.exit = exit.unwrap_or_else(|| panic!("{}: no `// exit: N` header", path.display()));
    expect.stdout = Stdout::Exact(stdout.into_bytes());
    expect
}

#[rstest]
fn file_case(#[files("tests/adversarial/*.at")] path: PathBuf) {
    let bytes = std::fs::read(&path).expect("read the case");
    let expect = parse_header(&path, &bytes);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rel = path.strip_prefix(root).unwrap_or(&path);
    let name = path.file_stem().unwrap_or_default().to_string_lossy();
    assert_case(&name, rel, &expect);
}

// ---------------------------------------------------------------------------------------
// Families of one-line programs

/// Every escape LANGUAGE.md does not list is a compile error (exit 65) at the escape.
#[rstest]
#[case::hex(r"\x41", r"invalid escape '\x'")]
#[case::bell(r"\a", r"invalid escape '\a'")]
#[case::backspace(r"\b", r"invalid escape '\b'")]
#[case::form_feed(r"\f", r"invalid escape '\f'")]
#[case::vertical_tab(r"\v", r"invalid escape '\v'")]
#[case::single_quote(r"\'", r"invalid escape '\''")]
#[case::octal(r"\1", r"invalid escape '\1'")]
#[case::space(r"\ ", r"invalid escape '\ '")]
// A control character after the backslash is shown escaped (`'\\t'`: backslash, then tab).
#[case::tab_char("\\\t", r"invalid escape '\\t'")]
#[case::nul_char("\\\0", r"invalid escape '\\u{0}'")]
#[case::upper_u(r"\U{41}", r"invalid escape '\U'")]
#[case::non_ascii(r"\é", r"invalid escape '\é'")]
#[case::emoji(r"\😀", r"invalid escape '\😀'")]
#[case::line_continuation("\\\n", r"invalid escape '\' at end of line")]
#[case::crlf_continuation("\\\r\n", r"invalid escape '\' at end of line")]
#[case::unicode_without_braces(r"\u0041", "invalid unicode escape")]
#[case::unicode_empty(r"\u{}", "invalid unicode escape")]
#[case::unicode_seven_digits(r"\u{0000041}", "invalid unicode escape")]
#[case::unicode_too_large(r"\u{110000}", "invalid unicode escape")]
#[case::unicode_way_too_large(r"\u{FFFFFFFFFFFFFFFFFFFF}", "invalid unicode escape")]
#[case::unicode_surrogate(r"\u{D800}", "invalid unicode escape")]
#[case::unicode_low_surrogate(r"\u{DFFF}", "invalid unicode escape")]
#[case::unicode_not_hex(r"\u{12G}", "invalid unicode escape")]
#[case::unicode_sign(r"\u{+41}", "invalid unicode escape")]
#[case::unicode_space(r"\u{ 41}", "invalid unicode escape")]
#[case::unicode_unclosed(r"\u{41", "invalid unicode escape")]
fn invalid_escape(#[case] escape: &str, #[case] message: &str) {
    let source = format!("print(\"before\");\nprint(\"a{escape}b\");\n");
    let name = format!("invalid_escape_{}", escape.escape_default());
    assert_generated(
        &name,
        source.as_bytes(),
        &Expect::compile_error(&[&format!(":2:9: error: {message}")]),
    );
}

/// Indices that are not integers in range, for reading, writing and charAt: runtime
/// errors naming the index (LANGUAGE.md, "Runtime semantics"); -0 is index 0.
#[rstest]
#[case::nan("sqrt(-1)", "index NaN is not an integer")]
#[case::infinity("pow(10, 400)", "index Infinity is not an integer")]
#[case::minus_infinity("-pow(10, 400)", "index -Infinity is not an integer")]
#[case::huge("1e300", "index 1e+300 out of bounds")]
#[case::negative("-1", "index -1 out of bounds")]
#[case::fraction("0.5", "index 0.5 is not an integer")]
#[case::tiny_fraction("5e-324", "is not an integer")]
#[case::length("1", "index 1 out of bounds")]
#[case::two_to_53_plus_1("9007199254740993", "index 9007199254740992 out of bounds")]
#[case::two_to_63("9223372036854775808", "out of bounds")]
#[case::minus_two_to_63("-9223372036854775808", "out of bounds")]
#[case::two_to_64("18446744073709551616", "out of bounds")]
#[case::two_to_32("4294967296", "index 4294967296 out of bounds")]
fn bad_index(#[case] index: &str, #[case] message: &str) {
    let name = |kind: &str| format!("bad_index_{kind}_{index}");
    let read = format!("let xs = [1];\nprint(xs[{index}]);\n");
    assert_generated(
        &name("read"),
        read.as_bytes(),
        &Expect::runtime_error(&[message, "array of length 1"]),
    );
    let write = format!("let xs = [1];\nxs[{index}] = 2;\nprint(xs);\n");
    assert_generated(
        &name("write"),
        write.as_bytes(),
        &Expect::runtime_error(&[message, "array of length 1"]),
    );
    let compound = format!("let xs = [1];\nxs[{index}] += 2;\nprint(xs);\n");
    assert_generated(
        &name("compound"),
        compound.as_bytes(),
        &Expect::runtime_error(&["array of length 1"]),
    );
    let char_at = format!("print(charAt(\"a\", {index}));\n");
    assert_generated(
        &name("char_at"),
        char_at.as_bytes(),
        &Expect::runtime_error(&["charAt index", "string of length 1"]),
    );
}

#[rstest]
#[case::negative_zero_read("let xs = [1];\nprint(xs[-0]);\n", "1\n")]
#[case::negative_zero_write("let xs = [1];\nxs[-0] = 2;\nprint(xs);\n", "[2]\n")]
#[case::negative_zero_char_at("print(charAt(\"a\", -0));\n", "a\n")]
fn negative_zero_index(#[case] source: &str, #[case] stdout: &str) {
    assert_generated(
        "negative_zero_index",
        source.as_bytes(),
        &Expect::ok(stdout),
    );
}

/// Hostile command lines: bad usage is 64, an unreadable file 66, odd limits either work
/// or are usage errors.
#[rstest]
#[case::missing_file(&["run", "tests/adversarial/no_such_file.at"], 66)]
#[case::directory(&["run", "tests/adversarial"], 66)]
#[case::no_file(&["run"], 64)]
#[case::unknown_flag(&["run", "--frobnicate", "tests/adversarial/bom.at"], 64)]
#[case::negative_frames(&["run", "--max-frames", "-1", "tests/adversarial/bom.at"], 64)]
#[case::frames_not_a_number(&["run", "--max-frames", "lots", "tests/adversarial/bom.at"], 64)]
#[case::negative_budget(&["run", "--max-instructions", "-5", "tests/adversarial/bom.at"], 64)]
#[case::budget_too_large(&["run", "--max-instructions", "99999999999999999999999", "tests/adversarial/bom.at"], 64)]
#[case::timeout_nan(&["run", "--timeout", "nan", "tests/adversarial/bom.at"], 64)]
#[case::timeout_negative(&["run", "--timeout", "-1", "tests/adversarial/bom.at"], 64)]
#[case::timeout_huge(&["run", "--timeout", "1e300", "tests/adversarial/bom.at"], 64)]
#[case::zero_budget(&["run", "--max-instructions", "0", "tests/adversarial/bom.at"], 70)]
#[case::zero_frames(&["run", "--max-frames", "0", "tests/adversarial/bom.at"], 70)]
#[case::huge_timeout(&["run", "--timeout", "1e9", "tests/adversarial/bom.at"], 0)]
#[case::max_stack_zero(&["run", "--max-stack", "0", "tests/adversarial/bom.at"], 70)]
#[case::max_stack_huge(&["run", "--max-stack", "18446744073709551615", "tests/adversarial/bom.at"], 0)]
#[case::max_memory_huge(&["run", "--max-memory", "18446744073709551615", "tests/adversarial/bom.at"], 0)]
#[case::max_memory_zero(&["run", "--max-memory", "0", "tests/adversarial/push_endless_max_memory.at"], 70)]
#[case::memory_not_a_number(&["run", "--max-memory", "lots", "tests/adversarial/bom.at"], 64)]
#[case::memory_overflowing_suffix(&["run", "--max-memory", "99999999999999999999G", "tests/adversarial/bom.at"], 64)]
#[case::check_invalid_utf8(&["check", "tests/adversarial/invalid_utf8_in_string.at"], 65)]
#[case::disasm_invalid_utf8(&["disasm", "tests/adversarial/invalid_utf8_in_string.at"], 65)]
#[case::profile_mutual_recursion(&["profile", "tests/adversarial/mutual_recursion.at"], 70)]
fn bad_command_line(#[case] args: &[&str], #[case] code: i32) {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    let got = run_atlas(&args);
    assert!(!got.timed_out, "{args:?}: killed after {TIMEOUT:?}");
    assert!(!got.stderr.contains("panicked"), "{args:?}: {}", got.stderr);
    assert_eq!(
        got.code,
        Some(code),
        "{args:?}: {}",
        clip(&got.stderr, 2000)
    );
}

/// Failing output streams and huge limits: never a panic or a crash.
#[rstest]
// Diagnostics to a standard error that cannot be written (a full disk, a closed pipe)
// are dropped; the exit status still tells.
#[case::stderr_full_compile_error(&["run", "tests/adversarial/nul_in_code.at"], "stderr", 65)]
#[case::stderr_full_runtime_error(&["run", "tests/adversarial/pop_empty.at"], "stderr", 70)]
// A listing that cannot be written is exit 73 (cannot create output).
#[case::stdout_full_disasm(&["disasm", "tests/adversarial/bom.at"], "stdout", 73)]
// The frame array grows as recursion deepens, so a huge --max-frames costs nothing.
#[case::frames_capacity_overflow(&["run", "--max-frames", "18446744073709551615", "tests/adversarial/bom.at"], "", 64)]
#[case::frames_allocation_failure(&["run", "--max-frames", "1000000000000", "tests/adversarial/bom.at"], "", 64)]
#[case::profile_frames_capacity_overflow(&["profile", "--max-frames", "18446744073709551615", "tests/adversarial/bom.at"], "", 64)]
fn output_failures_and_huge_limits(#[case] args: &[&str], #[case] full: &str, #[case] code: i32) {
    let dev_full = || Stdio::from(std::fs::File::create("/dev/full").expect("/dev/full"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_atlas"));
    command
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    match full {
        "stderr" => {
            command.stderr(dev_full());
        }
        "stdout" => {
            command.stdout(dev_full());
        }
        _ => {}
    }
    let status = command.status().expect("atlas runs");
    // Whatever the message, a failing output stream must not be a panic or a crash.
    assert_ne!(status.code(), Some(101), "{args:?}: a panic");
    assert!(status.code().is_some(), "{args:?}: killed by a signal");
    if full.is_empty() {
        // A huge limit may be refused (64) or honoured lazily (the program runs).
        assert!(
            matches!(status.code(), Some(0) | Some(64)),
            "{args:?}: {status}"
        );
    } else {
        assert_eq!(status.code(), Some(code), "{args:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Generated inputs (too large to commit, or many variations of one recipe)

/// `prefix`, `open` `depth` times, `inner`, `close` `depth` times, `suffix`.
fn deep(prefix: &str, open: &str, inner: &str, close: &str, depth: usize, suffix: &str) -> Vec<u8> {
    format!(
        "{prefix}{}{inner}{}{suffix}",
        open.repeat(depth),
        close.repeat(depth)
    )
    .into_bytes()
}

/// `prefix`, then `item` `count` times joined by `sep`, then `suffix`.
fn repeated(prefix: &str, item: &str, sep: &str, count: usize, suffix: &str) -> Vec<u8> {
    let mut s = String::with_capacity(prefix.len() + count * (item.len() + sep.len()) + 64);
    s.push_str(prefix);
    for i in 0..count {
        if i > 0 {
            s.push_str(sep);
        }
        s.push_str(item);
    }
    s.push_str(suffix);
    s.into_bytes()
}

/// `prefix`, then `item(i)` for each `i` in `0..count`, then `suffix`.
fn numbered(prefix: &str, count: usize, item: impl Fn(usize) -> String, suffix: &str) -> Vec<u8> {
    let mut s = String::from(prefix);
    for i in 0..count {
        s.push_str(&item(i));
    }
    s.push_str(suffix);
    s.into_bytes()
}

const DEEP: usize = 100_000;
/// Just under the parser's nesting limit (1000, counting the enclosing call).
const AT_LIMIT: usize = 990;
const TOO_DEEP: &str = "nesting too deep (limit 1000)";
const MB: usize = 1 << 20;

#[rstest]
// An empty file is an empty program.
#[case::empty_file(Vec::new(), Expect::ok(""))]
// 100 000 nested parentheses: the parser's nesting limit, not a host stack overflow.
#[case::parens_100k(deep("print(", "(", "1", ")", DEEP, ");"), Expect::compile_error(&[TOO_DEEP]))]
// 100 000 prefix minus signs (`---...1`, lexed as `--` tokens).
#[case::unary_minus_100k(format!("print({}1);", "-".repeat(DEEP)).into_bytes(), Expect::compile_error(&[TOO_DEEP]))]
// 100 000 prefix minus signs separated by spaces (real unary operators).
#[case::unary_minus_spaced_100k(format!("print({}1);", "- ".repeat(DEEP)).into_bytes(), Expect::compile_error(&[TOO_DEEP]))]
// 100 000 `!`.
#[case::not_100k(format!("print({}true);", "!".repeat(DEEP)).into_bytes(), Expect::compile_error(&[TOO_DEEP]))]
// `1+1+...+1` with 100 000 terms: a left-leaning tree 100 000 high.
#[case::binary_chain_100k(repeated("print(", "1", "+", DEEP, ");"), Expect::compile_error(&[TOO_DEEP]))]
// `true&&true&&...` with 100 000 terms.
#[case::and_chain_100k(repeated("print(", "true", "&&", DEEP, ");"), Expect::compile_error(&[TOO_DEEP]))]
// `"a"+"a"+...` with 100 000 terms.
#[case::string_chain_100k(repeated("print(", "\"a\"", "+", DEEP, ");"), Expect::compile_error(&[TOO_DEEP]))]
// 100 000 nested array literals `[[[...1...]]]`.
#[case::array_literals_100k(deep("print(", "[", "1", "]", DEEP, ");"), Expect::compile_error(&[TOO_DEEP]))]
// 100 000 nested calls `abs(abs(...))`.
#[case::calls_100k(deep("print(", "abs(", "1", ")", DEEP, ");"), Expect::compile_error(&[TOO_DEEP]))]
// `f()()()...` 100 000 times.
#[case::call_chain_100k(repeated("fn f() -> number { return 1; }\nprint(f", "()", "", DEEP, ");"), Expect::compile_error(&[TOO_DEEP]))]
// `xs[0][0]...` 100 000 times.
#[case::index_chain_100k(repeated("let xs = [1];\nprint(xs", "[0]", "", DEEP, ");"), Expect::compile_error(&[TOO_DEEP]))]
// 100 000 nested blocks.
#[case::blocks_100k(deep("", "{", "", "}", DEEP, ""), Expect::compile_error(&[TOO_DEEP]))]
// 100 000 nested `if`s.
#[case::ifs_100k(deep("", "if (true) {", "", "}", DEEP, ""), Expect::compile_error(&[TOO_DEEP]))]
// 100 000 nested `while`s.
#[case::whiles_100k(deep("", "while (false) {", "", "}", DEEP, ""), Expect::compile_error(&[TOO_DEEP]))]
// 100 000 nested function declarations.
#[case::functions_nested_100k(deep("", "fn f() -> void {", "", "}", DEEP, ""), Expect::compile_error(&[TOO_DEEP]))]
// An `else if` chain of 100 000 branches (a tree 100 000 deep for the checker).
#[case::else_if_chain_100k(numbered("var x = 1;\nif (x == 0) { print(0); }", DEEP, |i| format!(" else if (x == {i}) {{ print({i}); }}"), "\n"), Expect::compile_error(&[TOO_DEEP]))]
// A type nested 100 000 deep: `number[][]...`.
#[case::array_type_100k(repeated("let x: number", "[]", "", DEEP, " = [];"), Expect::compile_error(&[TOO_DEEP]))]
// `Array<Array<...>>` 100 000 deep.
#[case::generic_type_100k(deep("let x: ", "Array<", "number", ">", DEEP, " = [];"), Expect::compile_error(&[TOO_DEEP]))]
// A function type returning a function type ... 100 000 deep.
#[case::function_type_100k(repeated("let x: ", "() -> ", "", DEEP, "number = 1;"), Expect::compile_error(&[TOO_DEEP]))]
// Each construct just under the nesting limit compiles and runs: no stage recurses
// deeper than the parser allows.
#[case::parens_at_limit(deep("print(", "(", "1", ")", AT_LIMIT, ");"), Expect::ok("1\n"))]
#[case::unary_minus_at_limit(format!("print({}1);", "- ".repeat(AT_LIMIT)).into_bytes(), Expect::ok("1\n"))]
#[case::calls_at_limit(
    deep("var x = -1;\nprint(", "abs(", "x", ")", AT_LIMIT, ");"),
    Expect::ok("1\n")
)]
#[case::user_calls_at_limit(
    deep(
        "fn id(x: number) -> number { return x; }\nprint(",
        "id(",
        "1",
        ")",
        AT_LIMIT,
        ");"
    ),
    Expect::ok("1\n")
)]
#[case::blocks_at_limit(deep("", "{", "print(1);", "}", AT_LIMIT, "\n"), Expect::ok("1\n"))]
#[case::ifs_at_limit(
    deep("var t = true;\n", "if (t) {", "print(1);", "}", AT_LIMIT, "\n"),
    Expect::ok("1\n")
)]
#[case::whiles_at_limit(
    deep(
        "var i = 0;\n",
        "while (i < 1) {",
        "i++;",
        "}",
        AT_LIMIT,
        "\nprint(i);\n"
    ),
    Expect::ok("1\n")
)]
#[case::else_if_chain_at_limit(numbered("fn f(x: number) -> number {\nif (x == 0) { return 0; }", AT_LIMIT - 2, |i| format!(" else if (x == {}) {{ return {}; }}", i + 1, i + 1), " else { return -1; }\n}\nprint(f(980));\n"), Expect::ok("980\n"))]
#[case::array_type_at_limit(
    repeated("let x: number", "[]", "", AT_LIMIT, " = [];\nprint(len(x));\n"),
    Expect::ok("0\n")
)]
#[case::or_chain_at_limit(
    repeated("var x = false;\nprint(", "x", "||", AT_LIMIT, ");\n"),
    Expect::ok("false\n")
)]
#[case::constant_chain_at_limit(
    repeated("print(", "1", "+", AT_LIMIT, ");\n"),
    Expect::ok("990\n")
)]
#[case::string_chain_at_limit(
    repeated("var s = \"x\";\nprint(len(", "s", "+", AT_LIMIT, "));\n"),
    Expect::ok("990\n")
)]
#[case::functions_in_nested_blocks_at_limit(numbered("", AT_LIMIT, |i| format!("{{ fn f{i}() -> number {{ return {i}; }} "), &format!("print(f0() + f{}());{}\n", AT_LIMIT - 1, " }".repeat(AT_LIMIT))), Expect::ok("989\n"))]
// Register exhaustion is a compile error: a chain of 990 variable operands keeps one
// register per level (the compiler evaluates each left operand into a fresh register).
#[case::variable_chain_at_limit(repeated("var x = 1;\nprint(", "x", "+", AT_LIMIT, ");\n"), Expect::compile_error(&["too many registers needed in '<script>' (limit 250)"]))]
// 100 000 locals in one function.
#[case::locals_100k(numbered("fn f() -> number {\n", DEEP, |i| format!("var v{i} = {i};\n"), "return v0;\n}\nprint(f());\n"), Expect::compile_error(&["too many registers needed in 'f' (limit 250)"]))]
// 100 000 locals in a top-level block.
#[case::block_locals_100k(numbered("{\n", DEEP, |i| format!("var v{i} = {i};\n"), "print(v0);\n}\n"), Expect::compile_error(&["too many registers needed in '<script>' (limit 250)"]))]
// 100 000 parameters.
#[case::params_100k(numbered("fn f(p: number", DEEP, |i| format!(", p{i}: number"), ") -> number { return p; }\n"), Expect::compile_error(&["too many registers needed in 'f' (limit 250)"]))]
// 100 000 globals: past the 65 536 global slots.
#[case::globals_100k(numbered("", DEEP, |i| format!("var g{i} = {i};\n"), "print(g0 + g99999);\n"), Expect::compile_error(&["too many global variables"]))]
// 100 000 distinct string constants in one function: past its 65 536-entry pool.
#[case::string_constants_100k(numbered("let xs = [\"s\"", DEEP, |i| format!(", \"s{i}\""), "];\nprint(len(xs));\n"), Expect::compile_error(&["too many string constants in one function"]))]
// 100 000 arguments to a one-parameter function.
#[case::arguments_100k(repeated("fn f(a: number) -> number { return a; }\nprint(f(", "1", ", ", DEEP, "));\n"), Expect::compile_error(&["wrong number of arguments: 'f' expects 1, found 100000"]))]
// 100 000 functions: past the 65 535 a module can address. Regression: the function
// index was truncated to 16 bits, so the program ran the wrong function (or none) and
// exited 0 without output.
#[case::functions_100k(numbered("", DEEP, |i| format!("fn f{i}(x: number) -> number {{ return x + {i}; }}\n"), "print(f99999(1));\n"), Expect::compile_error(&["too many functions (limit 65535)"]))]
// Exactly 65 535 functions, the most there may be: they run, and calls reach the right one.
#[case::functions_at_limit(numbered("", 65_535, |i| format!("fn f{i}(x: number) -> number {{ return x + {i}; }}\n"), "print(f65534(1) + f0(0));\nprint(f1(1));\n"), Expect::ok("65535\n2\n"))]
// A 1 000 000-digit number literal: Infinity (LANGUAGE.md: too large is Infinity).
#[case::number_literal_million_digits(format!("print({});\nprint(-{});\n", "9".repeat(1_000_000), "9".repeat(1_000_000)).into_bytes(), Expect::ok("Infinity\n-Infinity\n"))]
// A number literal with a 1 000 000-digit fraction.
#[case::number_literal_million_digit_fraction(format!("print(0.{}1);\nprint(1.{});\n", "0".repeat(1_000_000), "0".repeat(1_000_000)).into_bytes(), Expect::ok("0\n1\n"))]
// A 10 MB string literal.
#[case::string_literal_10mb(format!("let s = \"{}\";\nprint(len(s));\nprint(charAt(s, 10485759));\n", "a".repeat(10 * MB)).into_bytes(), Expect::ok("10485760\na\n"))]
// A 10 MB string literal of escapes (`\n` five million times).
#[case::string_literal_10mb_of_escapes(format!("print(len(\"{}\"));\n", "\\n".repeat(5 * MB)).into_bytes(), Expect::ok("5242880\n"))]
// A 1 MB string literal of NUL bytes.
#[case::string_literal_1mb_of_nul(format!("print(len(\"{}\"));\n", "\0".repeat(MB)).into_bytes(), Expect::ok("1048576\n"))]
// A 1 MB identifier, declared and used.
#[case::identifier_1mb(format!("let {0} = 5;\nprint({0});\n", "x".repeat(MB)).into_bytes(), Expect::ok("5\n"))]
// An undefined 1 MB identifier: the diagnostic shows a window of it, not all of it.
#[case::undefined_identifier_1mb(format!("print({});\n", "x".repeat(MB)).into_bytes(), Expect::compile_error(&["error: undefined name"]).max_stderr(3 * MB as u64))]
// An array literal of 1 000 000 elements.
#[case::array_literal_million(
    repeated("let xs = [", "1", ",", 1_000_000, "];\nprint(len(xs));\n"),
    Expect::ok("1000000\n")
)]
// An array literal of 300 000 computed elements.
#[case::array_literal_300k_expressions(numbered("let xs = [0", 300_000, |i| format!(", {i} * 2 + 1"), "];\nprint(len(xs));\nprint(xs[300000]);\n"), Expect::ok("300001\n599999\n"))]
// 500 000 statements on one 6 MB line.
#[case::long_line(
    repeated("var x = 0;", " x = x + 1;", "", 500_000, " print(x);\n"),
    Expect::ok("500000\n")
)]
// A 10 MB block comment, a 10 MB line comment.
#[case::comments_10mb(format!("/*{}*/\n//{}\nprint(1);\n", "*".repeat(10 * MB), "/".repeat(10 * MB)).into_bytes(), Expect::ok("1\n"))]
// A block comment that opens and never closes, followed by 10 MB.
#[case::unterminated_block_comment_10mb(format!("print(1);\n/*{}", " ".repeat(10 * MB)).into_bytes(), Expect::compile_error(&[":2:1: error: unterminated block comment"]))]
// A 10 MB string that never closes: the snippet shows a window of its line.
#[case::unterminated_string_10mb(format!("let s = \"{}", "a".repeat(10 * MB)).into_bytes(), Expect::compile_error(&[":1:9: error: unterminated string"]))]
// A type error at the end of a 10 MB line. Regression: the snippet printed the whole
// line, and spaces as long, for each error (40 MB of stderr here).
#[case::error_at_end_of_10mb_line(format!("let x = 1;{}x = \"a\";\n", " ".repeat(10 * MB)).into_bytes(), Expect::compile_error(&["cannot assign to 'x'", "..."]))]
// 40 000 errors on one 180 KB line. Regression: every error printed the whole line
// (14 GB of diagnostics built in memory): it ran for minutes.
#[case::errors_on_one_long_line(repeated("let x = 1;", " x = \"a\";", "", 20_000, "\n"), Expect::compile_error(&["cannot assign to 'x'", "too many errors: 39900 more not reported"]))]
// 100 000 lines with an error each: the first 100 are reported, then a count.
#[case::errors_100k_lines(numbered("", DEEP, |i| format!("print(u{i});\n"), ""), Expect::compile_error(&["1:7: error: undefined name 'u0'", "100:7: error: undefined name 'u99'", "101:7: error: too many errors: 99900 more not reported"]))]
// Printing 100 MB (160 000 lines of 640 characters): streamed, not buffered.
#[case::print_100mb(b"var s = \"0123456789\";\nfor (var i = 0; i < 6; i++) { s = s + s; }\nfor (var i = 0; i < 160000; i++) { print(s); }\n".to_vec(), Expect::exit(0).stdout_size(160_000 * 641, "0123456789"))]
// The same under --max-memory 1M: printed output is not held in memory.
#[case::print_100mb_max_memory(b"var s = \"0123456789\";\nfor (var i = 0; i < 6; i++) { s = s + s; }\nfor (var i = 0; i < 160000; i++) { print(s); }\n".to_vec(), Expect::exit(0).stdout_size(160_000 * 641, "0123456789").args(&["--max-memory", "1M"]))]
// Recursion a million deep: the frame limit, with a trace of both ends.
#[case::recursion_million_deep(b"fn f(n: number) -> number { if (n == 0) { return 0; } return 1 + f(n - 1); }\nprint(f(1000000));\n".to_vec(), Expect::runtime_error(&["error: stack overflow", "at f (", "more frames", "at <script> ("]))]
// Recursion just under the default frame limit of 100 000 (with the script's frame) works.
#[case::recursion_at_frame_limit(b"fn f(n: number) -> number { if (n == 0) { return 0; } return 1 + f(n - 1); }\nprint(f(99998));\n".to_vec(), Expect::ok("99998\n"))]
fn generated(#[case] source: Vec<u8>, #[case] expect: Expect) {
    // The case's name, from rstest's test name (`case_N_NAME`).
    let current = thread::current();
    let test = current.name().unwrap_or("generated");
    let name = test
        .rsplit("::")
        .next()
        .and_then(|n| n.split_once('_'))
        .and_then(|(_, rest)| rest.split_once('_'))
        .map_or(test, |(_, name)| name);
    assert_generated(name, &source, &expect);
}
