//! Ctrl-C during `atlas run` (LANGUAGE.md version 2): what the script printed is kept,
//! and the exit status is 130, whether the script computes or waits for input.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn start(program: &str, name: &str) -> Child {
    let dir = std::env::temp_dir().join(format!("atlas-interrupt-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("program.at");
    std::fs::write(&file, program).expect("write program");
    Command::new(env!("CARGO_BIN_EXE_atlas"))
        .arg("run")
        .arg(&file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("atlas starts")
}

/// Reads the child's stdout until `prompt` has come (so its Ctrl-C handler is installed:
/// a script flushes its output before it reads input), writes `answer` to its stdin if
/// given, then sends SIGINT (what Ctrl-C sends) and waits at most 10 s for the end.
/// Returns the exit code and everything printed.
fn interrupt(mut child: Child, prompt: &str, answer: Option<&str>) -> (Option<i32>, String) {
    let mut stdout = child.stdout.take().expect("piped");
    let mut out = Vec::new();
    while !out.ends_with(prompt.as_bytes()) {
        let mut byte = [0u8; 1];
        if stdout.read(&mut byte).expect("stdout") == 0 {
            panic!("atlas ended before printing {prompt:?}");
        }
        out.push(byte[0]);
    }
    if let Some(answer) = answer {
        child
            .stdin
            .as_mut()
            .expect("piped")
            .write_all(answer.as_bytes())
            .expect("stdin");
        // Into the endless loop.
        std::thread::sleep(Duration::from_millis(200));
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("atlas did not stop on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    stdout.read_to_end(&mut out).expect("stdout");
    (status.code(), String::from_utf8(out).expect("UTF-8"))
}

#[test]
fn ctrl_c_while_computing_keeps_the_output() {
    let child = start(
        "print(\"started\");\nlet go = readLine();\nprint(\"running \" + go);\nvar n = 0;\nwhile (true) {\n    n = n + 1;\n}\n",
        "loop",
    );
    let (code, out) = interrupt(child, "started\n", Some("now\n"));
    assert_eq!((code, out.as_str()), (Some(130), "started\nrunning now\n"));
}

#[test]
fn ctrl_c_while_waiting_for_input_keeps_the_output() {
    // Standard input stays open and empty: `readLine` waits.
    let child = start("print(\"name?\");\nprint(readLine());\n", "input");
    assert_eq!(
        interrupt(child, "name?\n", None),
        (Some(130), "name?\n".to_string())
    );
}
