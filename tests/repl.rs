//! The REPL: the session logic in-process (`atlas::repl::Session`), and `atlas repl` driven
//! through a pipe, which exercises rustyline's non-terminal path.

use std::io::Write;
use std::process::{Command, Stdio};

use atlas::repl::{is_incomplete, Control, Session};

/// Feeds `entries` to a new session; returns (stdout, stderr).
fn session(entries: &[&str]) -> (String, String) {
    let mut session = Session::new(false);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    for entry in entries {
        if session.eval(entry, &mut out, &mut err) == Control::Quit {
            break;
        }
    }
    (
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

#[test]
fn declarations_persist_and_expressions_print() {
    let (out, err) = session(&[
        "let base = 10;",
        "var count = 0;",
        "fn next() -> number { count++; return base + count; }",
        "next()",
        "next();",
        "count",
        "\"text\"",
        "[\"a\", \"b\"]",
        "[[1], []]",
        "1 == 1",
        "null",
        "next",
        "sqrt",
        "print(\"printed\")",
        "let quiet = next();",
        "quiet",
    ]);
    assert_eq!(
        out,
        "11\n12\n2\n\"text\"\n[\"a\", \"b\"]\n[[1], []]\ntrue\nnull\n<fn next>\n<fn sqrt>\nprinted\n13\n"
    );
    assert_eq!(err, "");
}

#[test]
fn every_expression_statement_of_an_entry_prints_in_order() {
    let (out, _) = session(&["1; print(\"two\"); 3; let x = 4; x"]);
    assert_eq!(out, "1\ntwo\n3\n4\n");
}

#[test]
fn errors_print_and_the_session_goes_on() {
    let (out, err) = session(&[
        "let x: number = \"a\";",
        "x",
        "var n = 1;",
        "fn f(d: number) -> number { return n / d; }",
        "f(0)",
        "n",
        "1 +",
        "f(2)",
    ]);
    assert_eq!(out, "1\n0.5\n");
    assert_eq!(
        err,
        "<input 1>:1:17: error: type mismatch in declaration of 'x': expected number, found string
1 | let x: number = \"a\";
  |                 ^^^
<input 2>:1:1: error: undefined name 'x'
1 | x
  | ^
error: division by zero
 --> <input 4>:1:36
1 | fn f(d: number) -> number { return n / d; }
  |                                    ^^^^^
  at f (<input 4>:1:36)
  at <script> (<input 5>:1:1)
<input 7>:1:4: error: expected expression, found end of file
1 | 1 +
  |    ^
"
    );
}

#[test]
fn a_failed_entry_keeps_its_changes_but_not_its_declarations() {
    let (out, err) = session(&[
        "var c = 0; let xs = [1];",
        "c = 5; push(xs, 2); let d = 1; fn g() -> void {} 1 / 0;",
        "c",
        "xs",
        "d",
        "g()",
    ]);
    assert_eq!(out, "5\n[1, 2]\n");
    assert!(err.contains("error: division by zero"), "{err}");
    assert!(err.contains("error: undefined name 'd'"), "{err}");
    assert!(err.contains("error: undefined name 'g'"), "{err}");
}

#[test]
fn declaring_a_name_again_replaces_it() {
    let (out, err) = session(&[
        "let x = 1;",
        "let x = \"one\";",
        "x",
        "fn f() -> number { return 1; }",
        "fn g() -> number { return f() + 1; }",
        "let keep = f;",
        "let both = [f, g];",
        "fn f() -> number { return 10; }",
        // Functions call the latest `f`; values keep the one they hold.
        "g()",
        "keep()",
        "both[0]()",
        "both[1]()", // g, calling the latest f
        "keep",
        // A replacement of another type: `g` no longer checks.
        "fn f() -> string { return \"s\"; }",
        "f()",
        "fn f() -> number { return 100; }",
        "g()",
        "var f = 3;",
        "fn f() -> number { return 1000; }",
        "g()",
    ]);
    assert_eq!(out, "\"one\"\n11\n1\n1\n11\n<fn f>\n10\n101\n1001\n");
    // `fn f() -> string` made `g`'s `f() + 1` a type error, in g's own entry.
    assert!(
        err.starts_with("<input 5>:1:27: error: operator '+' needs two numbers or two strings, found string and number\n"),
        "{err}"
    );
    // `var f = 3;` makes `f()` in g a call of a number: refused too.
    assert!(
        err.contains("'f' is not a function (it has type number)"),
        "{err}"
    );
}

#[test]
fn replaced_functions_nothing_refers_to_are_dropped() {
    let mut entries = vec!["fn f() -> number { return 0; }".to_string()];
    for i in 1..50 {
        entries.push(format!("fn f() -> number {{ return {i}; }}"));
    }
    entries.push("f()".to_string());
    let entries: Vec<&str> = entries.iter().map(String::as_str).collect();
    let (out, err) = session(&entries);
    assert_eq!((out.as_str(), err.as_str()), ("49\n", ""));
}

#[test]
fn commands() {
    let (out, err) = session(&[
        ":help",
        "fn sq(x: number) -> number { return x * x; }",
        "var n = 2;",
        ":type sq",
        ":type sq(n) > 1",
        ":type [[\"a\"]]",
        ":type print(1)",
        ":type nope",
        ":disasm sq",
        ":disasm n + 1",
        ":type",
        ":frobnicate",
        ":quit",
        "n",
    ]);
    assert!(out.starts_with(atlas::repl::HELP), "{out}");
    let rest = &out[atlas::repl::HELP.len()..];
    assert_eq!(
        rest,
        "(number) -> number
bool
string[][]
void
== sq (arity 1, 2 registers, 7 bytes) ==
0000    1  MUL_NUM      r1, r0, r0
0004    |  RET          r1
0006    |  RET_VOID     
== <script> (arity 0, 2 registers, 16 bytes) ==
0000    1  GET_GLOBAL   r1, g0 (n)
0004    |  ADD_NUM_K    r0, r1, 1
0015    |  RET_VOID     
"
    );
    assert_eq!(
        err,
        "<type>:1:1: error: undefined name 'nope'
1 | nope
  | ^^^^
error: :type needs an expression, e.g. :type 1 + 2
error: unknown command ':frobnicate' (try :help)
"
    );
}

#[test]
fn reset_forgets_everything() {
    let (out, err) = session(&["let a = 1;", ":reset", "let a = 2;", "a"]);
    assert_eq!((out.as_str(), err.as_str()), ("2\n", ""));
}

#[test]
fn entries_continue_while_brackets_are_open() {
    assert!(is_incomplete("fn f() -> number {\n  return 1;\n"));
    assert!(!is_incomplete("fn f() -> number {\n  return 1;\n}\n"));
    assert!(is_incomplete("let xs = [\n1,\n"));
    assert!(is_incomplete("print(\"a\n"));
    assert!(is_incomplete("/* a comment"));
    assert!(is_incomplete("let x ="));
    assert!(!is_incomplete("let s = \"}\"; // ("));
    assert!(!is_incomplete("print(\"\\\"(\");"));
    assert!(!is_incomplete("x)"));
    assert!(!is_incomplete(":type ("));
}

/// Runs `atlas repl` (or `atlas` with `args`) with `input` on a pipe.
fn atlas(args: &[&str], input: &str) -> (String, String, Option<i32>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_atlas"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env("ATLAS_HISTORY", "")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut stdin = child.stdin.take().expect("piped");
    let input = input.to_string();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let output = child.wait_with_output().expect("runs");
    writer.join().expect("writes");
    (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
        output.status.code(),
    )
}

const TRANSCRIPT: &str = r#"let xs = [1, 2, 3];
fn total(v: number[]) -> number {
    var t = 0;
    for x in v {
        t += x;
    }
    return t;
}
total(xs)
"two" + " lines"
push(xs, 4);
total(xs)
var c = 0;
c = 5; let d = 1; print(d); 1 / 0;
c
let s = "multi
line";
len(s)
fn add(a: number,
       b: number)
    -> number { return a + b; }
add(c, 1)
:type add
:bogus
:quit
print("not reached");
"#;

#[test]
fn the_repl_runs_through_a_pipe() {
    let (out, err, code) = atlas(&["repl"], TRANSCRIPT);
    assert_eq!(code, Some(0));
    assert_eq!(
        out,
        "6\n\"two lines\"\n10\n1\n5\n10\n6\n(number, number) -> number\n"
    );
    assert_eq!(
        err,
        "error: division by zero
 --> <input 8>:1:29
1 | c = 5; let d = 1; print(d); 1 / 0;
  |                             ^^^^^
  at <script> (<input 8>:1:29)
error: unknown command ':bogus' (try :help)
"
    );
}

#[test]
fn end_of_input_ends_the_session() {
    let (out, err, code) = atlas(&["repl"], "1 + 1\nfn f(");
    assert_eq!(code, Some(0));
    assert_eq!(out, "2\n");
    assert!(
        err.starts_with("<input 2>:1:6: error: expected parameter name"),
        "{err}"
    );
}

#[test]
fn atlas_alone_off_a_terminal_prints_help() {
    let (out, err, code) = atlas(&[], "1 + 1\n");
    assert_eq!(code, Some(64));
    assert_eq!(out, "");
    assert!(err.contains("Usage: atlas [COMMAND]"), "{err}");
    assert!(err.contains("repl"), "{err}");
}

#[test]
fn interrupt_stops_the_running_entry_and_the_session_goes_on() {
    let mut session = Session::new(false);
    let stop = session.interrupt_handle();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    session.eval("var ticks = 0;", &mut out, &mut err);
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(100));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    session.eval("while (true) { ticks++; }", &mut out, &mut err);
    stopper.join().unwrap();
    // A flag left set from the last entry does not stop the next one.
    session.eval("ticks > 0", &mut out, &mut err);
    assert!(String::from_utf8_lossy(&err).contains("interrupted"));
    assert_eq!(String::from_utf8(out).unwrap(), "true\n");
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_running_entry_not_the_repl() {
    use std::io::Read;
    use std::time::Duration;

    let mut child = Command::new(env!("CARGO_BIN_EXE_atlas"))
        .arg("repl")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let (seen, interrupted) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let mut chunk = [0u8; 256];
        while let Ok(n @ 1..) = stderr.read(&mut chunk) {
            text.push_str(&String::from_utf8_lossy(&chunk[..n]));
            if text.contains("interrupted") {
                let _ = seen.send(());
            }
        }
        text
    });
    writeln!(stdin, "var n = 0;\nwhile (true) {{ n++; }}").unwrap();
    stdin.flush().unwrap();
    // Give the REPL time to install its handler, then press Ctrl-C until the entry
    // stops (a signal that lands before the loop starts stops nothing).
    std::thread::sleep(Duration::from_millis(300));
    let mut stopped = false;
    for _ in 0..100 {
        let sent = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        if interrupted.recv_timeout(Duration::from_millis(200)).is_ok() {
            stopped = true;
            break;
        }
    }
    assert!(stopped, "the entry did not stop");
    writeln!(stdin, "print(n > 0);").unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    let stderr = reader.join().unwrap();
    assert!(output.status.success(), "{:?}: {stderr}", output.status);
    assert_eq!(String::from_utf8_lossy(&output.stdout), "true\n");
}
